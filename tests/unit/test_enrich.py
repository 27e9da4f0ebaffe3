"""Stage-2 enrichment (stage2.enrich) and the customer hash it reads, no engines."""
from common.customers import Customer, age_band, age_of
from common.readers import read_catalog
from stage2.enrich import enrich_event, track_fields
from stage2.import_customers import customer_fields, customer_hash
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


def test_catalog_from_music_csv(tmp_path):
    (tmp_path / "music.csv").write_text("TrackId,Title,Artist,Length\n3,Blue Song,The Band,215\n0,NA,None,1\n")
    assert read_catalog(tmp_path / "music.csv") == {3: TRACK, 0: {"title": "NA", "artist": "None", "length": 1}}


def test_the_hash_the_importer_writes_reads_back_as_document_fields():
    """One contract: import_customers writes customer_hash, the enrichment reads customer_fields.
    Redis hands every value back as text; customer 0 is a customer like any other."""
    customer = Customer(0, "Ann Lee", 0, "1 Main St", "10001", "01/02/2020", 1, 1, 2, 1)
    stored = {k: str(v) for k, v in customer_hash(customer).items()}
    fields = customer_fields(stored)
    assert set(fields) <= {f.name for f in STAGE2_DOC_FIELDS}
    assert fields == {"customer_known": True, "name": "Ann Lee", "gender": "female", "age": age_of(0),
                      "age_band": age_band(age_of(0)), "level": "Silver", "campaign": 2,
                      "customer_zip": "10001", "linked_with_apps": 1}
