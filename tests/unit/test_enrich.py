"""Stage-2 enrichment (common.enrich), no engines."""
from common.enrich import catalog_from_rows, customer_fields, enrich_event, track_fields
from common.events import Rejected, parse_event
from common.schema import STAGE2_DOC_FIELDS

HASH = {b"name": b"Ann Lee", b"gender": b"female", b"age": b"31", b"age_band": b"25-34",
        b"level": b"Silver", b"level_code": b"1", b"campaign": b"2", b"zip": b"02134",
        b"linked_with_apps": b"1", b"status": b"1"}
TRACK = {"title": "Blue Song", "artist": "The Band", "length": 215}


def test_known_customer_and_track_fill_every_stage2_field():
    event = parse_event(b"7,42,3,2024-05-01 08:15:00,1,10001")
    doc = enrich_event(event, HASH, TRACK)
    assert set(doc) == {f.name for f in STAGE2_DOC_FIELDS}
    assert doc["customer_known"] is True
    assert (doc["name"], doc["gender"], doc["age"], doc["age_band"], doc["level"]) == \
        ("Ann Lee", "female", 31, "25-34", "Silver")
    assert (doc["campaign"], doc["customer_zip"], doc["linked_with_apps"]) == (2, "02134", 1)
    assert (doc["title"], doc["artist"], doc["length"]) == ("Blue Song", "The Band", 215)
    assert doc["event_id"] == 7 and doc["state"] == "NY"


def test_unknown_customer_is_kept_and_flagged():
    event = parse_event("8,999999,3,2024-05-01 08:15:00,0,10001")
    for missing in (None, {}):
        doc = enrich_event(event, missing, TRACK)
        assert doc["customer_known"] is False
        assert "name" not in doc and "level" not in doc
        assert doc["event_id"] == 8 and doc["title"] == "Blue Song"


def test_unknown_track_leaves_track_fields_out():
    assert track_fields(None) == {}
    doc = enrich_event(parse_event("9,42,77777,2024-05-01 08:15:00,0,10001"), HASH, None)
    assert "title" not in doc and doc["name"] == "Ann Lee"


def test_string_hashes_work_too():
    assert customer_fields({"name": "Bo", "age": "40", "level": "Gold"}) == \
        {"customer_known": True, "name": "Bo", "age": 40, "level": "Gold"}


def test_malformed_value_is_a_rejection_with_a_reason():
    rejected = parse_event(b"not,a,valid,line")
    assert isinstance(rejected, Rejected) and rejected.reason == "wrong_column_count"


def test_catalog_from_music_rows():
    rows = [{"TrackId": "3", "Title": "Blue Song", "Artist": "The Band", "Length": "215"}]
    assert catalog_from_rows(rows) == {3: TRACK}
