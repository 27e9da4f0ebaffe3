"""common.events: one live-file line -> a document, or a rejection with its reason."""
from datetime import datetime

import pytest

from common.events import Rejected, customer_key, deadletter_doc, parse_datetime, parse_event
from common.schema import EVENT_COLUMNS, EVENT_DATETIME_FORMAT, STAGE1_DOC_FIELDS

GOOD = b"17,42,7,2024-05-01 08:15:00,1,10001"


def test_good_line_becomes_a_stage1_document():
    doc = parse_event(GOOD)
    assert doc["event_id"] == 17 and doc["customer_id"] == 42 and doc["track_id"] == 7
    assert doc["datetime"] == "2024-05-01 08:15:00" and doc["hour"] == 8
    assert doc["ismobile"] == 1 and doc["listening_zip_code"] == "10001"
    assert doc["state"] == "NY" and doc["city"]
    assert 40 < doc["location"]["lat"] < 41 and -75 < doc["location"]["lon"] < -73
    assert set(doc) <= {f.name for f in STAGE1_DOC_FIELDS}


def test_str_input_crlf_and_dropped_leading_zero_are_accepted():
    doc = parse_event("1,2,3,2024-01-31 23:59:59,0,601\r\n")
    assert doc["listening_zip_code"] == "00601" and doc["state"] == "PR"
    assert doc["hour"] == 23 and doc["ismobile"] == 0


def test_unknown_but_well_formed_zip_is_kept_without_geo():
    doc = parse_event(b"1,2,3,2024-01-31 10:00:00,0,00000")
    assert doc["listening_zip_code"] == "00000"
    assert "location" not in doc and "state" not in doc


def reason(line):
    result = parse_event(line)
    assert isinstance(result, Rejected), result
    return result.reason


def test_each_kind_of_bad_line_has_its_reason():
    assert reason(b"") == "empty_line"
    assert reason(b"   \r") == "empty_line"
    assert reason(b"1,2,3,2024-01-31 10:00:00,0,10001,extra") == "wrong_column_count"
    assert reason(b"1,2,3") == "wrong_column_count"
    assert reason(b"x1,2,3,2024-01-31 10:00:00,0,10001") == "bad_event_id"
    assert reason(b"1,-2,3,2024-01-31 10:00:00,0,10001") == "bad_customer_id"
    assert reason(b"1,2,3.5,2024-01-31 10:00:00,0,10001") == "bad_track_id"
    assert reason(b"1,2,3,2024-02-30 10:00:00,0,10001") == "bad_datetime"
    assert reason(b"1,2,3,31/01/2024 10:00,0,10001") == "bad_datetime"
    assert reason(b"1,2,3,2024-01-31 10:00:00,2,10001") == "bad_ismobile"
    assert reason(b"1,2,3,2024-01-31 10:00:00,true,10001") == "bad_ismobile"
    assert reason(b"1,2,3,2024-01-31 10:00:00,1,ABCDE") == "bad_zip"
    assert reason(b"1,2,3,2024-01-31 10:00:00,1,") == "bad_zip"


def test_non_utf8_bytes_are_rejected_and_kept_readable():
    result = parse_event(b"1,2,3,2024-01-31 10:00:00,0,1000\xff1")
    assert result == Rejected("not_utf8", "1,2,3,2024-01-31 10:00:00,0,1000\ufffd1")


def test_non_ascii_digits_are_not_numbers():
    assert reason("\u0661,2,3,2024-01-31 10:00:00,0,10001") == "bad_event_id"


def test_kafka_key_is_the_customer_id_when_it_is_a_number():
    assert customer_key(GOOD) == b"42"
    assert customer_key(b"1,abc,3,2024-01-31 10:00:00,0,10001") is None
    assert customer_key(b"garbage") is None
    assert customer_key(b"") is None


def test_deadletter_doc_has_exactly_the_deadletter_fields():
    from common.schema import DEADLETTER_FIELDS
    doc = deadletter_doc(Rejected("bad_zip", "raw"), "shipper", datetime(2024, 1, 2, 3, 4, 5))
    assert set(doc) == {f.name for f in DEADLETTER_FIELDS}
    assert doc["rejected_at"] == "2024-01-02 03:04:05" and doc["reason"] == "bad_zip"


def test_columns_come_from_the_schema():
    assert len(GOOD.split(b",")) == len(EVENT_COLUMNS)


@pytest.mark.parametrize("text", [
    "2024-05-01 08:15:00", " 2024-05-01 08:15:00 ", "2024-02-29 23:59:59", "2024-5-1 8:15:0",
    "2023-02-29 10:00:00", "2024-13-01 10:00:00", "2024-01-31 24:00:00", "2024-01-31 10:60:00",
    "2024-01-31 10:00:60", "2024-01-31T10:00:00", "2024-01-31 10:00", "2024-01-31 10:00:00.5",
    "\u0662024-01-31 10:00:00", ""])
def test_parse_datetime_fast_path_agrees_with_strptime(text):
    """The fromisoformat shortcut accepts and normalizes exactly what strptime does."""
    try:
        expected = datetime.strptime(text.strip(), EVENT_DATETIME_FORMAT)
    except ValueError:
        with pytest.raises(ValueError):
            parse_datetime(text)
        return
    assert parse_datetime(text) == (expected, expected.strftime(EVENT_DATETIME_FORMAT))
