"""Turn one line of the listening log into an Elasticsearch document, or say why not.

Pure functions, no I/O: the shipper, the tests and the notebooks all use them.

    from common.events import parse_event, Rejected
    parse_event(b"1,42,7,2024-05-01 08:15:00,1,10001")
    -> {'event_id': 1, 'customer_id': 42, 'track_id': 7, 'datetime': '2024-05-01 08:15:00',
        'ismobile': 1, 'listening_zip_code': '10001', 'location': {'lat': 40.75, 'lon': -73.99},
        'state': 'NY', 'city': 'New York', 'hour': 8}
    parse_event(b"oops")  -> Rejected(reason='wrong_column_count', raw='oops')

Rules (one reason per rejected line, the first rule it breaks):
  empty_line          nothing but whitespace
  not_utf8            bytes that do not decode as UTF-8 (raw is kept with U+FFFD)
  wrong_column_count  not exactly the columns of common.schema.EVENT_COLUMNS
  bad_event_id, bad_customer_id, bad_track_id
                      not a non-negative whole number
  bad_datetime        not YYYY-MM-DD HH:MM:SS (common.schema.EVENT_DATETIME_FORMAT)
  bad_ismobile        not 0 or 1
  bad_zip             not 3-5 digits (leading zeros may have been dropped)

A well-formed zip that is missing from the zip table is NOT rejected: the play
happened, so it is indexed, just without location/state/city (and it is
counted in ``summary['unknown_zip']`` by the shipper). Losing real plays because
the zip table is older than the data would be the worse error.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import datetime

from common.geo import lookup_zip, normalize_zip
from common.schema import EVENT_COLUMNS, EVENT_DATETIME_FORMAT


@dataclass(frozen=True)
class Rejected:
    reason: str
    raw: str


def _whole_number(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() else None


# The shape the generator writes. Such a value is parsed with the C-coded
# datetime.fromisoformat (about 10x faster than strptime, which dominated the
# parse) and is already in normal form; any other value goes through strptime.
_NORMAL_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")


def parse_datetime(text: str) -> tuple[datetime, str]:
    """``YYYY-MM-DD HH:MM:SS`` (single-digit fields allowed) -> (datetime, normal form);
    raises ValueError for anything else, as ``strptime`` does."""
    text = text.strip()
    if _NORMAL_DATETIME.fullmatch(text):
        return datetime.fromisoformat(text), text     # still checks month, day, hour ranges
    played_at = datetime.strptime(text, EVENT_DATETIME_FORMAT)
    return played_at, played_at.strftime(EVENT_DATETIME_FORMAT)


def split_line(raw: bytes | str) -> list[str] | Rejected:
    """Decode and split one CSV line (no header, no quoting needed, but allowed)."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return Rejected("not_utf8", raw.decode("utf-8", errors="replace").rstrip("\r\n"))
    else:
        text = raw
    text = text.rstrip("\r\n")
    if not text.strip():
        return Rejected("empty_line", text)
    columns = next(csv.reader([text]))
    if len(columns) != len(EVENT_COLUMNS):
        return Rejected("wrong_column_count", text)
    return columns


def event_id_of(raw: bytes | str) -> int | None:
    """The event id (1st column) of a line when it is a whole number, else None.
    Cheap: it looks at the first column only (bounded runs count their own events by it)."""
    head = raw.split(b"," if isinstance(raw, bytes) else ",", 1)[0]
    if isinstance(head, bytes):
        head = head.decode("ascii", errors="replace")
    return _whole_number(head)


def customer_key(raw: bytes | str) -> bytes | None:
    """The Kafka message key: the customer id (2nd column) when it is a number."""
    columns = split_line(raw)
    if isinstance(columns, Rejected):
        return None
    customer = _whole_number(columns[1])
    return str(customer).encode() if customer is not None else None


def parse_event(raw: bytes | str) -> dict | Rejected:
    """One live-file line -> a stage-1 document (common.schema.STAGE1_DOC_FIELDS)."""
    columns = split_line(raw)
    if isinstance(columns, Rejected):
        return columns
    text = ",".join(columns)
    values = dict(zip(EVENT_COLUMNS, columns))

    doc: dict = {}
    for name in ("event_id", "customer_id", "track_id"):
        number = _whole_number(values[name])
        if number is None:
            return Rejected(f"bad_{name}", text)
        doc[name] = number

    try:
        played_at, doc["datetime"] = parse_datetime(values["datetime"])
    except ValueError:
        return Rejected("bad_datetime", text)

    if values["ismobile"].strip() not in ("0", "1"):
        return Rejected("bad_ismobile", text)
    doc["ismobile"] = int(values["ismobile"])

    zip_code = normalize_zip(values["listening_zip_code"])
    if not (zip_code.isascii() and zip_code.isdigit() and len(zip_code) == 5):
        return Rejected("bad_zip", text)
    doc["listening_zip_code"] = zip_code

    place = lookup_zip(zip_code)
    if place is not None:
        doc["location"] = {"lat": place.lat, "lon": place.lon}
        doc["state"] = place.state
        doc["city"] = place.city
    doc["hour"] = played_at.hour
    return doc


def deadletter_doc(rejected: Rejected, source: str, rejected_at: datetime) -> dict:
    """The dead-letter document (common.schema.DEADLETTER_FIELDS) for a rejected line."""
    return {
        "source": source,
        "reason": rejected.reason,
        "raw": rejected.raw,
        "rejected_at": rejected_at.strftime(EVENT_DATETIME_FORMAT),
    }
