"""Exercise 1.3 (20 minutes): one raw log line -> a document, or a dead-letter reason.

The shipper never stops on bad input: a line it cannot use goes to the dead-letter
index with ONE reason. Write that decision yourself (without common.events, which is
the answer the checker compares you with).

Given: raw, one line of the live file as bytes, maybe ending in "\n" or "\r\n".
It is CSV with the columns of EVENT_COLUMNS:
    event_id,customer_id,track_id,datetime,ismobile,listening_zip_code
    1,42,7,2026-10-28 20:15:00,1,10001

Return the reason (a str) for the FIRST rule the line breaks, in this order:
  "not_utf8"            the bytes do not decode as UTF-8
  "empty_line"          nothing but blanks
  "wrong_column_count"  not exactly 6 columns (fields may be quoted: use the csv module)
  "bad_event_id", "bad_customer_id", "bad_track_id"
                        not a whole number >= 0 (blanks around it are fine)
  "bad_datetime"        not a real date and time in EVENT_DATETIME_FORMAT
  "bad_ismobile"        not 0 or 1
  "bad_zip"             not 5 digits once normalize_zip() has put back dropped leading zeros

Otherwise return the document the shipper indexes:
    {"event_id": 1, "customer_id": 42, "track_id": 7,
     "datetime": "2026-10-28 20:15:00",            # written back in EVENT_DATETIME_FORMAT
     "ismobile": 1, "listening_zip_code": "10001",
     "location": {"lat": 40.7484, "lon": -73.9967}, "state": "NY", "city": "New York",
     "hour": 20}
location, state and city come from lookup_zip(zip); a well-formed zip it does not
know is KEPT, without those three fields (the play happened).

Check:  make check-stage1 EX=1.3  (it feeds your function about 30 crafted lines)
"""
import csv                                               # noqa: F401  (you will need them)
from datetime import datetime                            # noqa: F401

from common.geo import lookup_zip, normalize_zip         # noqa: F401
from common.schema import EVENT_COLUMNS, EVENT_DATETIME_FORMAT   # noqa: F401


def parse_line(raw: bytes) -> dict | str:
    raise NotImplementedError("decode, split, then check the rules in order")


if __name__ == "__main__":
    for line in (b"1,42,7,2026-10-28 20:15:00,1,10001", b"1,42,7,2026-13-01 20:15:00,1,10001", b"oops"):
        print(line, "->", parse_line(line))
