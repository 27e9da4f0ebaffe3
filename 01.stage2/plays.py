"""The plays in the Kafka records, parsed by Spark itself, for the stateful queries.

The enrichment query parses every record in Python (common.events.parse_event, the
shipper's parser) and dead-letters the bad ones. The stateful queries (interest
list, profiles, windowed stats) need only the good plays, and they need them
cheaply: each query reads Kafka on its own, so each would parse every record again.

So Spark parses the records in the JVM with the rules of parse_event written as
column expressions, for every record in the shape the shipper and the generator
write (``1,42,7,2024-05-01 08:15:00,1,10001``); the few records in any other shape
(quoted fields, spaces, single-digit dates, junk) go through parse_event itself in
a Python worker. Both paths keep exactly the plays parse_event keeps: a test feeds
the same records, good and bad, through both (tests/integration/test_plays.py).

    record value (bytes)            path     kept as
    1,42,7,2024-05-01 08:15:00,1,601  JVM   (1, 42, 7, 2024-05-01 08:15:00, 1, "00601")
    1,42,7,2024-02-30 08:15:00,1,601  JVM   dropped: no such day (bad_datetime)
    " 1,42,7,2024-5-1 8:15:00,1,601"  Python (parse_event)
    oops                              Python: dropped (wrong_column_count)
"""
from __future__ import annotations

from common.events import EARLIEST_PLAY, ID_LIMITS, LATEST_PLAY
from common.pyworker import settle

PLAYS_DDL = ("event_id LONG, customer_id INT, track_id INT, played_at TIMESTAMP, "
             "ismobile INT, zip STRING")

# The usual shape of a record, nothing else: the JVM path parses only these.
USUAL_SHAPE = (r"^[0-9]{1,19},[0-9]{1,10},[0-9]{1,10},"
               r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2},[01],[0-9]{1,5}[\r\n]*$")


def plays_from_kafka(kafka, settings):
    """Kafka records -> the well-formed plays (PLAYS_DDL), each judged against its
    own record's timestamp (a play more than max_event_lead_seconds ahead of it
    is rejected), exactly as common.events.parse_kafka_records keeps them."""
    from pyspark.sql import functions as F

    line = F.col("value").cast("string")
    records = kafka.select("value", "timestamp", line.rlike(USUAL_SHAPE).alias("usual"))

    fields = F.split(F.regexp_replace(line, r"[\r\n]+$", ""), ",")
    played_at = F.try_to_timestamp(fields[3], F.lit("yyyy-MM-dd HH:mm:ss"))
    lead_us = int(settings.max_event_lead_seconds * 1_000_000)
    jvm = (records.filter("usual")
           .select(fields[0].try_cast("bigint").alias("event_id"),
                   fields[1].try_cast("int").alias("customer_id"),
                   fields[2].try_cast("int").alias("track_id"),
                   played_at.alias("played_at"),
                   fields[4].cast("int").alias("ismobile"),
                   F.lpad(fields[5], 5, "0").alias("zip"),
                   F.col("timestamp"))
           # try_cast and try_to_timestamp give NULL where parse_event says *_out_of_range / bad_datetime
           .filter(F.col("event_id").isNotNull() & F.col("customer_id").isNotNull()
                   & F.col("track_id").isNotNull() & F.col("played_at").isNotNull())
           .filter((F.col("played_at") >= _utc(EARLIEST_PLAY)) & (F.col("played_at") < _utc(LATEST_PLAY)))
           .filter(F.unix_micros("played_at") <= F.unix_micros("timestamp") + lead_us)    # datetime_in_future
           .drop("timestamp"))
    python = records.filter(~F.col("usual")).select("value", "timestamp").mapInPandas(parse_unusual, PLAYS_DDL)
    return jvm.unionByName(python)


def utc_text(t) -> str:
    """A timestamp Spark handed to Python -> "YYYY-MM-DD HH:MM:SS" in UTC, as the documents
    store it (Spark hands naive datetimes in the machine's local zone; event times are UTC)."""
    from datetime import timezone

    return t.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _utc(naive):
    """A naive UTC datetime as a Spark timestamp literal (the session's zone is UTC)."""
    from pyspark.sql import functions as F

    return F.to_timestamp(F.lit(naive.strftime("%Y-%m-%d %H:%M:%S")))


assert ID_LIMITS["customer_id"] == ID_LIMITS["track_id"] == 2**31 - 1      # Spark's INT, as try_cast("int")


def parse_unusual(frames):
    """mapInPandas: the records in any other shape -> their well-formed plays, by
    common.events.parse_kafka_records (the same parser as the enrichment's)."""
    settle()          # once per worker: common/pyworker.py
    import pandas as pd

    from common.events import parse_kafka_records

    for frame in frames:
        plays = parse_kafka_records(frame["value"], frame["timestamp"])
        yield pd.DataFrame({
            "event_id": pd.Series([p["event_id"] for p in plays], dtype="int64"),
            "customer_id": pd.Series([p["customer_id"] for p in plays], dtype="int32"),
            "track_id": pd.Series([p["track_id"] for p in plays], dtype="int32"),
            "played_at": pd.to_datetime(pd.Series([p["datetime"] for p in plays], dtype="object"),
                                        format="%Y-%m-%d %H:%M:%S"),
            "ismobile": pd.Series([p["ismobile"] for p in plays], dtype="int32"),
            "zip": pd.Series([p["listening_zip_code"] for p in plays], dtype="object"),
        })


def zip_states(spark):
    """zip -> state, every zip of common.geo's table, as a small DataFrame to broadcast."""
    from common.geo import zip_table

    return spark.createDataFrame([(z.zip, z.state) for z in zip_table().values()], "zip STRING, state STRING")
