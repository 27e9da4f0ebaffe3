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

한국어
------
과제 1.3 (20분): 로그 한 줄 -> 문서, 아니면 dead letter 사유.
shipper는 잘못된 입력에서 멈추지 않습니다. 쓸 수 없는 줄은 사유 하나와 함께 dead letter
index로 갑니다. 그 판단을 직접 작성하세요(채점기가 비교하는 정답인 common.events는 쓰지 않습니다).
주어진 것: raw, 라이브 파일의 한 줄(bytes)이며 끝에 줄바꿈("\n" 또는 "\r\n")이 있을 수 있습니다.
EVENT_COLUMNS의 컬럼을 가진 CSV입니다(위의 예).
줄이 어기는 규칙 중 **처음** 것의 사유(str)를 이 순서대로 확인해 돌려주세요:
  "not_utf8"            바이트가 UTF-8로 디코딩되지 않음
  "empty_line"          공백뿐임
  "wrong_column_count"  컬럼이 정확히 6개가 아님(필드가 따옴표로 묶일 수 있으니 csv 모듈을 쓰세요)
  "bad_event_id", "bad_customer_id", "bad_track_id"
                        0 이상의 정수가 아님(앞뒤 공백은 괜찮음)
  "bad_datetime"        EVENT_DATETIME_FORMAT의 실제 날짜·시각이 아님
  "bad_ismobile"        0이나 1이 아님
  "bad_zip"             normalize_zip()이 빠진 앞자리 0을 되살린 뒤에도 5자리 숫자가 아님
규칙을 모두 지키면 shipper가 index하는 문서를 돌려줍니다(위의 예). datetime은
EVENT_DATETIME_FORMAT으로 다시 쓰고, location, state, city는 lookup_zip(zip)에서 가져옵니다.
형식은 맞지만 lookup_zip이 모르는 zip이면 그 세 필드 없이 문서를 **남깁니다**(재생은 실제로 있었습니다).
채점: make check-stage1 EX=1.3 (직접 만든 줄 30개쯤을 함수에 넣어 봅니다)
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
