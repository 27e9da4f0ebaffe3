"""Stage 2: Spark Structured Streaming from Kafka to Elasticsearch and Redis.

Two streaming queries read the Kafka topic (settings.kafka_topic):

  enrich    every micro-batch (trigger: settings.trigger_interval, 2 s by default),
            each Kafka partition is handled on an executor: parse the CSV line
            (common.events), look its customers up in Redis with ONE pipelined round
            trip, add the track from data/music.csv (a broadcast dict), bulk-index the
            documents into settings.index_stage2 with event_id as _id, dead-letter
            malformed lines (with reason) into settings.index_deadletter.
  interest  the interest list (common.interest): Spark's applyInPandasWithState
            keeps the recent plays per (customer, track), event-time watermark of
            settings.interest_lateness_minutes; new or denser windows go to the Redis
            set interest:{customer_id} and to settings.index_interest.

Both checkpoint under .runtime/checkpoints/, so a stopped or killed job resumes
where it left off: nothing lost, and a replayed batch overwrites the same ids.
One status line is printed per enrich micro-batch.

    python 01.stage2/streaming_job.py                     # live, until Ctrl-C
    python 01.stage2/streaming_job.py --max-events 2000   # exit 0 once 2000 records are indexed
    python 01.stage2/streaming_job.py --available-now     # drain what is in Kafka, then exit
    python 01.stage2/streaming_job.py --stage3            # also target offers, index_stage3
    python 01.stage2/streaming_job.py --naive             # one request per record (benchmark)
"""
from __future__ import annotations

import argparse
import csv
import os
import shutil
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # for `common`

from common.clients import ensure_topic, es_client, redis_client
from common.config import Settings, get_settings
from common.enrich import PARTITION_COUNTS_DDL, catalog_from_rows, index_partition_arrow
from common.interest import (INTEREST_BUCKETS, INTEREST_OUTPUT_DDL, INTEREST_STATE_DDL,
                             plays_from_kafka, update_interest_list, write_interest_partition)
from common.schema import DEADLETTER_FIELDS, INTEREST_FIELDS, STAGE2_DOC_FIELDS, STAGE3_DOC_FIELDS
from common.sinks import ensure_index

# At most this many Kafka records per micro-batch, so a job that was down for a
# while catches up in bounded steps instead of one huge batch.
MAX_OFFSETS_PER_TRIGGER = 100_000
# The interest list is not latency-critical, and each of its batches costs about
# 2 CPU-seconds of Spark overhead whatever its size (10,000 or 30,000 plays alike,
# measured here). So it runs on a slower trigger than the enrichment: a list
# appears up to 30 s after the qualifying play, and the enrichment keeps the CPU
# (with 10 s, the interest bursts pushed the bench's latency p95 to ~1.9 s; 30 s: ~1.2 s).
INTEREST_TRIGGER = "30 seconds"
# Spark settings for this job: the two queries share the cores (FAIR scheduler,
# pools in fairscheduler.xml, enrichment first), and the interest list's stateful step (the only
# shuffle) runs as ONE task, so it never holds both cores and an enrichment task
# always finds a free one. (8 partitions: p95 latency 5 s in the bench; 1: < 2 s.)
# No "no-data" batches: by default, after every batch that moves the watermark,
# Spark runs an extra empty batch just to time out old state (~0.7 s of CPU
# here, every interest trigger). Old plays are dropped on the next real batch instead.
SPARK_CONF = {"spark.scheduler.mode": "FAIR", "spark.sql.shuffle.partitions": "1",
              "spark.scheduler.allocation.file": str(Path(__file__).with_name("fairscheduler.xml")),
              "spark.sql.streaming.noDataMicroBatches.enabled": "false",
              "spark.ui.showConsoleProgress": "false"}   # our status line instead of Spark's bars


@dataclass
class JobOptions:
    max_events: int | None = None     # stop once this many records were handled
    duration: float | None = None     # after this many seconds, finish what Kafka holds and stop
    available_now: bool = False       # process what Kafka holds now, then stop
    stage3: bool = False
    naive: bool = False
    interest: bool = True
    checkpoint_dir: Path | None = None
    quiet: bool = False               # no status lines (tests)
    max_offsets_per_trigger: int = MAX_OFFSETS_PER_TRIGGER
    interest_trigger: str = INTEREST_TRIGGER


def target_index(settings: Settings, opts: JobOptions) -> str:
    return settings.index_stage3 if opts.stage3 else settings.index_stage2


def checkpoint_root(settings: Settings, opts: JobOptions) -> Path:
    # Named after topic and index: another topic or index starts from the beginning.
    name = f"stage2-{settings.kafka_topic}-{target_index(settings, opts)}" + ("-naive" if opts.naive else "")
    return opts.checkpoint_dir or settings.checkpoint_dir / name


def drop_uncommitted_batch(checkpoint: Path) -> list[int]:
    """Forget the plan of a micro-batch that was started but never committed.

    A job killed mid-batch leaves offsets/N without commits/N. Spark would replay
    exactly that batch, but Spark 4.1.1's Kafka source then fails in its progress
    metrics (NullPointerException, SPARK-55271). Without offsets/N, Spark plans
    batch N again from the last commit: same start offsets, and the writes are
    idempotent (document ids), so nothing is lost or duplicated either way.
    """
    offsets, commits = checkpoint / "offsets", checkpoint / "commits"
    planned = {int(f.name) for f in offsets.glob("*") if f.name.isdigit()}
    done = {int(f.name) for f in commits.glob("*") if f.name.isdigit()}
    if planned and not done:
        # Not even batch 0 finished: start afresh (a stateful query refuses to
        # plan batch 0 again over the state files the crashed attempt left).
        shutil.rmtree(checkpoint)
        return sorted(planned)
    for batch in sorted(planned - done):
        (offsets / str(batch)).unlink()
        (offsets / f".{batch}.crc").unlink(missing_ok=True)
    return sorted(planned - done)


def forget_uncommitted(checkpoint: Path, opts: JobOptions) -> None:
    dropped = drop_uncommitted_batch(checkpoint)
    if dropped and not opts.quiet:
        print(f"{checkpoint.name}: batch {dropped[-1]} was started but never committed (a crash?); "
              "it is planned again from the last commit", flush=True)


def load_catalog(settings: Settings) -> dict[int, dict]:
    with open(settings.data_dir / "music.csv", newline="", encoding="utf-8") as f:
        return catalog_from_rows(csv.DictReader(f))


def kafka_stream(spark, settings: Settings, opts: JobOptions):
    return (spark.readStream.format("kafka")
            .option("kafka.bootstrap.servers", settings.kafka_bootstrap_servers)
            .option("subscribe", settings.kafka_topic)
            .option("startingOffsets", "earliest")       # first start only; then the checkpoint
            .option("maxOffsetsPerTrigger", opts.max_offsets_per_trigger)
            .load())


class BatchStatus:
    """Totals over the run and the one status line per micro-batch."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.records = self.indexed = self.rejected = self.unknown = 0
        self.lock = threading.Lock()

    def add(self, batch_id: int, parts: list[dict], seconds: float) -> None:
        n = sum(p["records"] for p in parts)
        with self.lock:
            self.records += n
            self.indexed += sum(p["indexed"] for p in parts)
            self.rejected += sum(p["rejected"] for p in parts)
            self.unknown += sum(p["unknown_customers"] for p in parts)
        oldest = [p["oldest_ms"] for p in parts if p["oldest_ms"]]
        # lag: how long the oldest record of the batch waited in Kafka before it was indexed
        lag = (max(p["finished_ms"] for p in parts) - min(oldest)) / 1000 if oldest else 0.0
        if not self.quiet and n:
            print(f"batch {batch_id:>5}: {n:>6} rows in {seconds:5.2f} s = {n / seconds:>7.0f} rows/s"
                  f"  lag {lag:5.1f} s  | total indexed {self.indexed}  rejected {self.rejected}"
                  f"  unknown customers {self.unknown}", flush=True)


def start_enrich_query(spark, settings: Settings, opts: JobOptions, status: BatchStatus):
    index, stage3, naive = target_index(settings, opts), opts.stage3, opts.naive
    catalog = spark.sparkContext.broadcast(load_catalog(settings))
    es = es_client(settings)

    def enrich_batch(batch_df, batch_id):
        started = time.monotonic()
        # mapInArrow runs on the executors and hands each partition over as Arrow
        # columns (cheaper than one Python Row per record); only the counts come back.
        parts = [row.asDict() for row in
                 batch_df.select("value", "topic", "partition", "offset", "timestamp")
                 .mapInArrow(lambda batches: index_partition_arrow(
                     batches, settings, catalog.value, index, stage3=stage3, naive=naive),
                     PARTITION_COUNTS_DDL)
                 .collect()]
        if any(p["records"] for p in parts):
            # searchable now, not at the next periodic refresh (up to 1 s later)
            es.indices.refresh(index=[index, settings.index_deadletter])
        status.add(batch_id, parts, time.monotonic() - started)

    forget_uncommitted(checkpoint_root(settings, opts) / "enrich", opts)
    writer = (kafka_stream(spark, settings, opts).writeStream.queryName("enrich")
              .foreachBatch(enrich_batch)
              .option("checkpointLocation", str(checkpoint_root(settings, opts) / "enrich")))
    spark.sparkContext.setLocalProperty("spark.scheduler.pool", "enrich")
    return _trigger(writer, settings, opts).start()


def start_interest_query(spark, settings: Settings, opts: JobOptions):
    from pyspark.sql import functions as F

    plays = (kafka_stream(spark, settings, opts).select("value")
             .mapInPandas(plays_from_kafka, "customer_id INT, track_id INT, played_at TIMESTAMP")
             # Plays older than (latest event time seen - lateness) are dropped as too late.
             .withWatermark("played_at", f"{settings.interest_lateness_minutes} minutes")
             .withColumn("bucket", F.col("customer_id") % INTEREST_BUCKETS))
    min_plays, window_ms = settings.interest_min_plays, settings.interest_window_minutes * 60_000
    interest = (plays.groupBy("bucket")
                .applyInPandasWithState(
                    lambda key, frames, state: update_interest_list(key, frames, state, min_plays, window_ms),
                    outputStructType=INTEREST_OUTPUT_DDL, stateStructType=INTEREST_STATE_DDL,
                    outputMode="Update", timeoutConf="EventTimeTimeout"))

    def write_batch(batch_df, batch_id):
        started = time.monotonic()
        updates = batch_df.rdd.mapPartitions(lambda rows: [write_interest_partition(rows, settings)]).sum()
        if not opts.quiet:
            print(f"interest batch {batch_id:>5}: {updates} new or denser interest windows "
                  f"in {time.monotonic() - started:5.2f} s", flush=True)

    forget_uncommitted(checkpoint_root(settings, opts) / "interest", opts)
    writer = (interest.writeStream.queryName("interest").outputMode("update")
              .foreachBatch(write_batch)
              .option("checkpointLocation", str(checkpoint_root(settings, opts) / "interest")))
    spark.sparkContext.setLocalProperty("spark.scheduler.pool", "interest")
    return _trigger(writer, settings, opts, opts.interest_trigger).start()


def _trigger(writer, settings: Settings, opts: JobOptions, interval: str | None = None):
    if opts.available_now:
        return writer.trigger(availableNow=True)
    return writer.trigger(processingTime=interval or settings.trigger_interval)


def prepare(settings: Settings, opts: JobOptions) -> None:
    """Topic and indices exist before the queries start (idempotent)."""
    ensure_topic(settings.kafka_topic, settings=settings)
    es = es_client(settings)
    # No periodic refresh: enrich_batch refreshes after every batch, so the 1 s
    # timer would only cut extra small segments that Elasticsearch must merge.
    ensure_index(es, target_index(settings, opts), STAGE3_DOC_FIELDS if opts.stage3 else STAGE2_DOC_FIELDS,
                 refresh_interval="-1")
    ensure_index(es, settings.index_deadletter, DEADLETTER_FIELDS)
    ensure_index(es, settings.index_interest, INTEREST_FIELDS)
    redis_client(settings)   # fails now, with the fix, if Redis is not there


def refresh(settings: Settings, opts: JobOptions) -> None:
    es = es_client(settings)
    es.indices.refresh(index=[target_index(settings, opts), settings.index_deadletter,
                              settings.index_interest])


def run(spark, settings: Settings, opts: JobOptions) -> BatchStatus:
    """Start the queries and return when the bounded run is complete (or on Ctrl-C)."""
    prepare(settings, opts)
    status = BatchStatus(opts.quiet)
    enrich = start_enrich_query(spark, settings, opts, status)
    queries = [enrich] + ([start_interest_query(spark, settings, opts)] if opts.interest else [])
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    deadline = time.monotonic() + opts.duration if opts.duration else None
    try:
        while not stop.is_set():
            for q in queries:
                if q.exception():
                    raise q.exception()
            if all(not q.isActive for q in queries):
                break                       # --available-now: both drained Kafka
            if ((opts.max_events and status.records >= opts.max_events)
                    or (deadline and time.monotonic() >= deadline)):
                for q in queries:
                    q.processAllAvailable()  # finish what Kafka holds now, interest list too
                break
            time.sleep(0.2)
    finally:
        for q in queries:
            q.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    refresh(settings, opts)
    return status


def main() -> int:
    s = get_settings()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--max-events", type=int, help="exit 0 once this many records are handled and searchable")
    p.add_argument("--duration", type=float, help="stop after this many seconds")
    p.add_argument("--available-now", action="store_true", help="process what Kafka holds, then exit")
    p.add_argument("--stage3", action="store_true", default=s.stage3_enabled,
                   help="queue SMS offers for targets and write the stage-3 index")
    p.add_argument("--naive", action="store_true", help="one Redis and one ES request per record")
    p.add_argument("--no-interest", dest="interest", action="store_false", help="skip the interest list")
    p.add_argument("--checkpoint-dir", type=Path, help="default: .runtime/checkpoints/stage2-<topic>-<index>")
    p.add_argument("--max-offsets-per-trigger", type=int, default=MAX_OFFSETS_PER_TRIGGER,
                   help="at most this many Kafka records per micro-batch")
    p.add_argument("--interest-trigger", default=INTEREST_TRIGGER, help="trigger of the interest-list query")
    p.add_argument("--fresh", action="store_true", help="delete the checkpoint first: re-read the topic from the start")
    args = p.parse_args()
    opts = JobOptions(max_events=args.max_events, duration=args.duration,
                      available_now=args.available_now, stage3=args.stage3, naive=args.naive,
                      interest=args.interest, checkpoint_dir=args.checkpoint_dir,
                      max_offsets_per_trigger=args.max_offsets_per_trigger,
                      interest_trigger=args.interest_trigger)
    if args.fresh:
        shutil.rmtree(checkpoint_root(s, opts), ignore_errors=True)

    from common.spark import get_spark
    # pyspark 4.1's own pandas code warns about a pandas deprecation in every worker
    os.environ.setdefault("PYTHONWARNINGS", "ignore::FutureWarning")
    spark = get_spark("stage2-streaming", s, extra_conf=SPARK_CONF)
    index = target_index(s, opts)
    print(f"reading Kafka topic {s.kafka_topic!r} -> index {index!r}, trigger {s.trigger_interval}, "
          f"checkpoint {checkpoint_root(s, opts)}", flush=True)
    status = run(spark, s, opts)
    print(f"done: {status.records} records, {status.indexed} indexed into {index}, "
          f"{status.rejected} dead-lettered, {status.unknown} with an unknown customer", flush=True)
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
