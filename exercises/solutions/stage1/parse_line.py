"""Exercise 1.3, worked solution: one raw log line -> a document, or a dead-letter reason.

The same rules as common/events.py, written out in one function. Each check returns at
the first rule broken, so every rejected line gets exactly one reason.
"""
import csv
from datetime import datetime

from common.geo import lookup_zip, normalize_zip
from common.schema import EVENT_COLUMNS, EVENT_DATETIME_FORMAT


def whole_number(text: str) -> int | None:
    """'42' and ' 42 ' -> 42; '-5', '1.5', 'x', '' -> None. int() alone would take '-5'."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() else None


def parse_line(raw: bytes) -> dict | str:
    # 1. bytes -> text; a file can hold anything, a bad byte must not stop the shipper
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "not_utf8"
    text = text.rstrip("\r\n")
    if not text.strip():
        return "empty_line"

    # 2. CSV, not str.split(","): a field may be quoted
    columns = next(csv.reader([text]))
    if len(columns) != len(EVENT_COLUMNS):     # also stops an oversized line of many columns
        return "wrong_column_count"
    values = dict(zip(EVENT_COLUMNS, columns))

    doc = {}
    for name in ("event_id", "customer_id", "track_id"):
        number = whole_number(values[name])
        if number is None:
            return f"bad_{name}"
        doc[name] = number

    # 3. strptime checks the shape and the ranges (month 13, hour 24, 30 February);
    #    strftime writes the normal form back ('9:05:00' -> '09:05:00')
    try:
        played_at = datetime.strptime(values["datetime"].strip(), EVENT_DATETIME_FORMAT)
    except ValueError:
        return "bad_datetime"
    doc["datetime"] = played_at.strftime(EVENT_DATETIME_FORMAT)

    if values["ismobile"].strip() not in ("0", "1"):
        return "bad_ismobile"
    doc["ismobile"] = int(values["ismobile"])

    # 4. zips lose their leading zeros in spreadsheets: '601' is '00601'
    zip_code = normalize_zip(values["listening_zip_code"])
    if not (zip_code.isascii() and zip_code.isdigit() and len(zip_code) == 5):
        return "bad_zip"                       # also an oversized zip of 100,000 digits
    doc["listening_zip_code"] = zip_code

    # 5. a well-formed zip missing from the zip table is kept: the play happened
    place = lookup_zip(zip_code)
    if place is not None:
        doc["location"] = {"lat": place.lat, "lon": place.lon}
        doc["state"] = place.state
        doc["city"] = place.city
    doc["hour"] = played_at.hour
    return doc


if __name__ == "__main__":
    for line in (b"1,42,7,2026-10-28 20:15:00,1,10001", b"1,42,7,2026-13-01 20:15:00,1,10001", b"oops"):
        print(line, "->", parse_line(line))
