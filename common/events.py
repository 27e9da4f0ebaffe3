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
  line_too_long       longer than the max_line_bytes setting (a reader that cut the
                      line hands over a short stand-in instead: ``too_long_line``)
  kafka_rejected      Kafka refused the message itself (too big for the topic, invalid
                      for it): the producer sends a short stand-in instead, ``kafka_rejected_line``
  field_too_large, bad_csv
                      the csv module refuses the line (a field over its 128 KiB limit)
  bad_event_id, bad_customer_id, bad_track_id
                      not a non-negative whole number
  event_id_out_of_range, customer_id_out_of_range, track_id_out_of_range
                      bigger than the schema's type holds (customer and track ids are
                      32-bit INT in Spark, event ids 64-bit LONG)
  bad_datetime        not YYYY-MM-DD HH:MM:SS (common.schema.EVENT_DATETIME_FORMAT)
  datetime_out_of_range
                      before 1970-01-02 or after 2261-12-31: outside what every
                      reader of the date holds (pandas stops at 2262, the watermark at 1970)
  datetime_in_future  later than ``received_at`` + the max_event_lead_seconds setting:
                      such a play would move the stage-2 watermarks ahead and make
                      every on-time play after it "late"
  bad_ismobile        not 0 or 1
  bad_zip             not 1-5 ASCII digits (shorter ones get their dropped leading zeros back)

A well-formed zip that is missing from the zip table is NOT rejected: the play
happened, so it is indexed, just without location/state/city (and it is
counted in ``summary['unknown_zip']`` by the shipper). Losing real plays because
the zip table is older than the data would be the worse error.

``received_at`` is when the line arrived: the Kafka record's timestamp in stage 2
(so every query of the job, and a replay after a restart, judges a play alike),
the clock when not given. A dead letter keeps at most RAW_KEEP_BYTES of its input
plus the input's length (``cap_raw``), so one huge line makes a small document.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from common.geo import lookup_zip, normalize_zip
from common.schema import EVENT_COLUMNS, EVENT_DATETIME_FORMAT


@dataclass(frozen=True)
class Rejected:
    reason: str
    raw: str


# The biggest ids the schema's types hold (common.schema.EVENT_FIELDS): a bigger
# customer id in Spark's INT column would fail the whole micro-batch, and again
# on every restart, since the checkpoint replays it.
ID_LIMITS = {"event_id": 2**63 - 1, "customer_id": 2**31 - 1, "track_id": 2**31 - 1}
# Event times every reader holds: epoch milliseconds stay positive in any time
# zone (the stateful queries' watermark starts at 0) and pandas' nanosecond
# timestamps end in April 2262.
EARLIEST_PLAY = datetime(1970, 1, 2)
LATEST_PLAY = datetime(2262, 1, 1)
RAW_KEEP_BYTES = 4096           # what a dead letter keeps of its input
# A line longer than max_line_bytes is replaced, by whoever cuts it (the
# follower, the Kafka producer), with this mark, its length, where it started
# and its first bytes; parse_event rejects it as line_too_long. The NUL byte
# never starts a real line.
TOO_LONG_MARK = b"\x00line_too_long\x00"
# The same for a message Kafka itself refused (common.sinks.KafkaEventProducer): the
# error's name and the message's first bytes, short enough for any topic.
KAFKA_REJECTED_MARK = b"\x00kafka_rejected\x00"
KAFKA_REJECTED_KEEP_BYTES = 256


def too_long_line(head: bytes, length: int, start: int | None = None) -> bytes:
    """The short stand-in for a line of ``length`` bytes that starts with ``head``."""
    where = b"" if start is None else b" starting at byte %d" % start
    return TOO_LONG_MARK + b"%d bytes%s, first bytes: " % (length, where) + head[:RAW_KEEP_BYTES]


def kafka_rejected_line(error_name: str, value: bytes) -> bytes:
    """The short stand-in for a message of ``value`` that Kafka refused with ``error_name``."""
    return (KAFKA_REJECTED_MARK + b"%s, %d bytes, first bytes: " % (error_name.encode(), len(value))
            + value[:KAFKA_REJECTED_KEEP_BYTES])


def cap_raw(raw: str, keep: int = RAW_KEEP_BYTES) -> str:
    """``raw`` itself when short; else its first ``keep`` bytes (UTF-8) and its length."""
    data = raw.encode("utf-8", errors="replace")
    if len(data) <= keep:
        return raw
    head = data[:keep].decode("utf-8", errors="ignore")     # never half a character
    return f"{head}... [cut: {len(data)} bytes in all]"


def _settings():
    from common.config import get_settings      # lazily: the rules above need no settings

    return get_settings()


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


def split_line(raw: bytes | str, max_line_bytes: int | None = None) -> list[str] | Rejected:
    """Decode and split one CSV line (no header, no quoting needed, but allowed).
    ``max_line_bytes`` defaults to the setting of that name."""
    if isinstance(raw, (bytes, bytearray)) and raw.startswith(TOO_LONG_MARK):
        return Rejected("line_too_long", bytes(raw[len(TOO_LONG_MARK):]).decode("utf-8", errors="replace"))
    if isinstance(raw, (bytes, bytearray)) and raw.startswith(KAFKA_REJECTED_MARK):
        return Rejected("kafka_rejected", bytes(raw[len(KAFKA_REJECTED_MARK):]).decode("utf-8", errors="replace"))
    limit = max_line_bytes or _settings().max_line_bytes
    if len(raw) > limit:     # a str has at most as many characters as bytes: count its bytes
        data = raw.encode("utf-8", errors="replace") if isinstance(raw, str) else bytes(raw)
        if len(data) > limit:
            return split_line(too_long_line(data[:RAW_KEEP_BYTES], len(data)))
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
    try:
        columns = next(csv.reader([text]))
    except csv.Error as err:     # e.g. "field larger than field limit (131072)"
        return Rejected("field_too_large" if "field limit" in str(err) else "bad_csv", text)
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


def parse_event(raw: bytes | str, received_at: datetime | None = None,
                max_lead_seconds: float | None = None,
                max_line_bytes: int | None = None) -> dict | Rejected:
    """One live-file line -> a stage-1 document (common.schema.STAGE1_DOC_FIELDS).

    ``received_at`` (naive UTC; default: now) and ``max_lead_seconds`` (default:
    the max_event_lead_seconds setting) bound how far in the future a play may be."""
    columns = split_line(raw, max_line_bytes)
    if isinstance(columns, Rejected):
        return columns
    text = ",".join(columns)
    values = dict(zip(EVENT_COLUMNS, columns))

    doc: dict = {}
    for name in ("event_id", "customer_id", "track_id"):
        number = _whole_number(values[name])
        if number is None:
            return Rejected(f"bad_{name}", text)
        if number > ID_LIMITS[name]:
            return Rejected(f"{name}_out_of_range", text)
        doc[name] = number

    try:
        played_at, doc["datetime"] = parse_datetime(values["datetime"])
    except ValueError:
        return Rejected("bad_datetime", text)
    if not EARLIEST_PLAY <= played_at < LATEST_PLAY:
        return Rejected("datetime_out_of_range", text)
    if received_at is None:
        received_at = datetime.now(timezone.utc).replace(tzinfo=None)
    if max_lead_seconds is None:
        max_lead_seconds = _settings().max_event_lead_seconds
    if played_at > received_at + timedelta(seconds=max_lead_seconds):
        return Rejected("datetime_in_future", text)

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
        "raw": cap_raw(rejected.raw),
        "rejected_at": rejected_at.strftime(EVENT_DATETIME_FORMAT),
    }


def parse_kafka_records(values, timestamps) -> list[dict]:
    """The well-formed plays among Kafka record values (bytes), each judged against
    its own record's timestamp (``received_at``), so every query of the stage-2 job,
    and a replay after a restart, keeps exactly the same plays. The rejected ones
    are skipped: the enrichment query dead-letters them."""
    import pandas as pd

    if timestamps is None:
        received = [None] * len(values)          # not selected: the clock is the reference
    else:
        stamps = pd.to_datetime(pd.Series(timestamps))
        if stamps.dt.tz is not None:
            stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
        # a missing stamp (NaT) compares False with everything: it would let any date through
        received = [None if pd.isna(t) else t for t in stamps]
    plays = (parse_event(bytes(v), received_at=t) for v, t in zip(values, received))
    return [p for p in plays if not isinstance(p, Rejected)]
