"""stage2.enrich's record helpers, without engines: a rejected record's dead-letter
'where' (the shipper's source position when its header is there), and Kafka
timestamps as the naive UTC ``received_at`` that parse_event takes."""
from __future__ import annotations

from datetime import datetime

import pyarrow as pa

from common.sinks import SOURCE_HEADER, source_of
from stage2.enrich import deadletter_where, kafka_times

HEADERS = pa.list_(pa.struct([("key", pa.string()), ("value", pa.binary())]))


def batch(headers):
    return pa.RecordBatch.from_pydict({
        "value": pa.array([b"x", b"y"]), "topic": pa.array(["t", "t"]),
        "partition": pa.array([0, 1], pa.int32()), "offset": pa.array([5, 9], pa.int64()),
        **({"headers": pa.array(headers, HEADERS)} if headers is not None else {})})


def test_the_source_position_header_names_the_dead_letter():
    b = batch([[{"key": SOURCE_HEADER, "value": b"123:456"}], None])
    assert deadletter_where(b, 0) == "t@123:456"
    assert deadletter_where(b, 1) == "t-1-9"                   # no header: topic-partition-offset
    assert deadletter_where(batch(None), 0) == "t-0-5"         # no headers column at all


def test_source_of_reads_spark_rows_and_confluent_pairs():
    assert source_of([{"key": "other", "value": b"1"}, {"key": SOURCE_HEADER, "value": b"7:0"}]) == "7:0"
    assert source_of([(SOURCE_HEADER, b"7:8")]) == "7:8"
    assert source_of(None) is None and source_of([]) is None


def test_kafka_times_are_naive_utc_whatever_the_column_zone():
    micros = [1_764_000_000_123_456, None]
    for tz in (None, "UTC", "Asia/Seoul"):
        col = pa.array(micros, pa.timestamp("us", tz))
        assert kafka_times(col) == [datetime(2025, 11, 24, 16, 0, 0, 123456), None]
    millis = pa.array([1_764_000_000_123], pa.timestamp("ms", "UTC"))
    assert kafka_times(millis) == [datetime(2025, 11, 24, 16, 0, 0, 123000)]
