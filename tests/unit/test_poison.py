"""Bad input never stops a stage (issue 12): every class of poison input is
rejected with its reason, no engines. The real streaming job meets the same
lines in tests/integration/test_poison_stage2.py."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pandas as pd

from common.events import (RAW_KEEP_BYTES, Rejected, deadletter_doc, kafka_rejected_line, parse_event,
                           parse_kafka_records, too_long_line)
from common.readers import iter_customers
from stage1.follower import FileFollower

NOW = datetime(2026, 11, 29, 12, 0, 0)


def reason(line, **kw) -> str:
    result = parse_event(line, received_at=kw.pop("received_at", NOW), **kw)
    assert isinstance(result, Rejected), result
    return result.reason


def test_ids_beyond_the_schema_types_are_out_of_range():
    # Spark reads customer and track ids as 32-bit INT, event ids as 64-bit LONG
    assert reason(b"1,3000000000,7,2026-11-29 08:00:00,1,10001") == "customer_id_out_of_range"
    assert reason(b"1,42,2147483648,2026-11-29 08:00:00,1,10001") == "track_id_out_of_range"
    assert reason(b"9223372036854775808,42,7,2026-11-29 08:00:00,1,10001") == "event_id_out_of_range"
    biggest = parse_event(b"9223372036854775807,2147483647,2147483647,2026-11-29 08:00:00,1,10001",
                          received_at=NOW)
    assert biggest["customer_id"] == 2**31 - 1 and biggest["event_id"] == 2**63 - 1


def test_dates_outside_every_readers_range_are_rejected():
    assert reason(b"1,2,3,1500-01-01 00:00:00,1,10001") == "datetime_out_of_range"      # before pandas' 1677
    assert reason(b"1,2,3,1969-12-31 23:59:59,1,10001") == "datetime_out_of_range"      # before the watermark's 0
    assert reason(b"1,2,3,2300-01-01 00:00:00,1,10001", max_lead_seconds=10**12) == "datetime_out_of_range"
    assert reason(b"1,2,3,0000-01-01 00:00:00,1,10001") == "bad_datetime"               # no year 0 in Python
    assert reason(b"1,2,3,10000-01-01 00:00:00,1,10001") == "bad_datetime"
    assert isinstance(parse_event(b"1,2,3,1970-01-02 00:00:00,1,10001", received_at=NOW), dict)


def test_a_play_from_the_future_is_rejected_before_it_can_move_a_watermark():
    ahead = lambda s: (NOW + timedelta(seconds=s)).strftime("1,2,3,%Y-%m-%d %H:%M:%S,1,10001")  # noqa: E731
    assert isinstance(parse_event(ahead(300), received_at=NOW, max_lead_seconds=300), dict)
    assert reason(ahead(301), max_lead_seconds=300) == "datetime_in_future"
    assert reason(b"1,2,3,2099-01-01 00:00:00,1,10001") == "datetime_in_future"        # the default setting
    # without received_at the clock is the reference
    assert parse_event(b"1,2,3,2099-01-01 00:00:00,1,10001").reason == "datetime_in_future"


def test_each_kafka_record_is_judged_against_its_own_timestamp():
    values = [b"1,2,3,2026-11-29 12:04:00,1,10001", b"2,2,3,2026-11-29 12:04:00,1,10001"]
    stamps = pd.Series(pd.to_datetime(["2026-11-29 12:00:00", "2026-11-29 11:55:00"]))   # 4 and 9 min ahead
    assert [p["event_id"] for p in parse_kafka_records(values, stamps)] == [1]
    aware = stamps.dt.tz_localize("UTC")                      # the same, as time-zone-aware stamps
    assert [p["event_id"] for p in parse_kafka_records(values, aware)] == [1]
    future = [b"3,2,3,2099-01-01 00:00:00,1,10001"]
    assert parse_kafka_records(future, None) == []             # no stamps: the clock decides
    assert parse_kafka_records(future, pd.Series([pd.NaT])) == []   # a missing stamp lets nothing through


def test_a_field_over_the_csv_modules_limit_is_rejected_not_raised():
    line = b'1,2,3,2026-11-29 08:00:00,1,"' + b"9" * 200_000 + b'"'
    assert reason(line, max_line_bytes=10**6) == "field_too_large"     # csv's own limit (128 KiB)
    assert reason(line) == "line_too_long"                              # the default max_line_bytes


def test_a_too_long_line_and_its_stand_in_are_rejected_with_length_and_start():
    assert reason(b"1,2,3,2026-11-29 08:00:00,1,10001" + b" " * 70_000) == "line_too_long"
    stand_in = parse_event(too_long_line(b"1,2,3,", 5_000_000, start=1234), received_at=NOW)
    assert stand_in.reason == "line_too_long"
    assert "5000000 bytes" in stand_in.raw and "byte 1234" in stand_in.raw and stand_in.raw.endswith("1,2,3,")


def test_a_message_kafka_refused_comes_back_as_a_short_stand_in_rejected_with_its_error():
    stand_in = kafka_rejected_line("MSG_SIZE_TOO_LARGE", b"1,2,3," + b"9" * 9000)
    assert len(stand_in) < 400
    rejected = parse_event(stand_in, received_at=NOW)
    assert isinstance(rejected, Rejected) and rejected.reason == "kafka_rejected"
    assert rejected.raw.startswith("MSG_SIZE_TOO_LARGE, 9006 bytes, first bytes: 1,2,3,999")


def test_the_follower_cuts_a_too_long_line_and_resynchronises(tmp_path):
    live = tmp_path / "live.csv"
    live.write_bytes(b"1,a\n" + b"x" * 300_000 + b"\n2,b\n")
    follower = FileFollower(live, tmp_path / "off.json", poll_interval=0.01, max_line_bytes=1000)
    lines = list(follower.lines(idle_timeout=0.3))
    assert [l.offset for l in lines] == [0, 4, 300_005]
    assert lines[0].data == b"1,a" and lines[2].data == b"2,b"
    cut = parse_event(lines[1].data)
    assert cut.reason == "line_too_long" and "300000 bytes starting at byte 4" in cut.raw
    assert len(lines[1].data) < RAW_KEEP_BYTES + 100
    assert lines[1].position.offset == 300_005 and lines[2].position.offset == live.stat().st_size


def test_a_line_that_never_ends_does_not_grow_the_followers_memory(tmp_path):
    """The writer keeps appending without a newline: the follower keeps only the
    head and the length, then yields the cut line once its newline arrives."""
    live = tmp_path / "live.csv"
    live.write_bytes(b"1,a\n")
    follower = FileFollower(live, tmp_path / "off.json", poll_interval=0.01, max_line_bytes=1000)
    stop, got = threading.Event(), []
    appended = 0
    gen = follower.lines(stop=stop, idle_ticks=True)
    for line in gen:
        if line is not None:
            got.append(line)
            if len(got) == 2:
                break
            continue
        if appended < 20:              # 20 x 64 KiB, no newline: a "line" of 1.25 MiB so far
            with open(live, "ab") as f:
                f.write(b"y" * 65_536)
            appended += 1
            frame = gen.gi_frame
            assert len(frame.f_locals["pending"]) <= 65_536 + 1000     # never the whole line
        else:
            with open(live, "ab") as f:
                f.write(b"\n")
    assert got[0].data == b"1,a"
    assert parse_event(got[1].data).raw.startswith(f"{20 * 65_536} bytes starting at byte 4")


def test_a_dead_letter_keeps_only_the_first_bytes_and_the_length():
    doc = deadletter_doc(Rejected("bad_zip", "z" * 1_000_000), "shipper", NOW)
    assert len(doc["raw"].encode()) < RAW_KEEP_BYTES + 100
    assert doc["raw"].startswith("z" * RAW_KEEP_BYTES) and "1000000 bytes in all" in doc["raw"]
    assert deadletter_doc(Rejected("bad_zip", "short"), "shipper", NOW)["raw"] == "short"
    cut = deadletter_doc(Rejected("bad_zip", "é" * 5000), "shipper", NOW)["raw"]        # never half a character
    assert cut.startswith("é" * (RAW_KEEP_BYTES // 2)) and "10000 bytes in all" in cut


def test_numeric_overflow_in_cust_csv_skips_the_row_and_goes_on(tmp_path):
    path = tmp_path / "cust.csv"
    rows = ["1,Ann,0,Main St,10001,01/02/2015,1,1,0,1",
            "3000000000,Big,0,Main St,10001,01/02/2015,1,1,0,1",         # CustID beyond INT
            "2,Inf,1e999,Main St,10001,01/02/2015,1,1,0,1",               # an infinite float
            "4,Camp,0,Main St,10001,01/02/2015,1,1,99999999999999999999,1",
            '5,"' + "x" * 200_000 + '",0,a,10001,01/02/2015,1,1,0,1',       # over csv's field limit
            "6,Bob,1,Main St,10001,01/02/2015,1,2,0,1"]
    path.write_text("CustID,Name,Gender,Address,zip,SignDate,Status,Level,Campaign,LinkedWithApps\n"
                    + "\n".join(rows) + "\n")
    found = [(line, c.cust_id if c else None, note) for line, c, note in iter_customers(path)]
    assert [(line, cust) for line, cust, _ in found] == [(2, 1), (3, None), (4, None), (5, None), (6, None), (7, 6)]
    assert "CustID out of range" in found[1][2] and "Gender is not a number" in found[2][2]
    assert "Campaign out of range" in found[3][2] and "field limit" in found[4][2]
