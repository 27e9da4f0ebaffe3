"""Stage 2: Spark Structured Streaming from Kafka to Elasticsearch and Redis.

    read      the Kafka topic `realtime`: one CSV line per play, keyed by customer
    enrich    parse each play, add its customer (Redis, one pipelined lookup per
              partition) and its track (music.csv); bulk-index into ba_realtime2
              with event_id as _id; dead-letter what cannot be parsed
    interest  3+ plays of one track by one customer within 30 minutes of event
              time (stateful, with a watermark) -> Redis interest:{customer_id}
              and the index ba_interest
    profiles  each customer's listening profile (stage 3's features), from counts
              kept in Spark state -> the index ba_profiles (stage2.profiles)
    stats     plays per 30-minute window, sliding every 5 minutes, by state, level
              and device (event time, watermark, update mode) -> the index ba_stats

Every query checkpoints under .runtime/checkpoints/, so a stopped or killed job
resumes where it left off: nothing lost, and a replayed batch rewrites the same
ids. One status line is printed per enrichment micro-batch.

Engines may go away while it runs. Each Redis and Elasticsearch request on the
executors waits for its engine (common.retry: bounded backoff, one status line);
a query that fails all the same (Kafka gone, a request given up) is started
again from its checkpoint once every engine answers. The job exits 1 only after
ENGINE_GIVE_UP_SECONDS without an engine.

    python -m stage2.streaming_job                       # live, until Ctrl-C
    python -m stage2.streaming_job --max-events 2000     # exit 0 once 2000 records are searchable
    python -m stage2.streaming_job --available-now       # drain what Kafka holds, then exit
    python 01.stage2/streaming_job.py --naive            # one request per record (benchmark)

Stage 3 runs the same queries with its targeting plugged in (stage3.streaming_job).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from common.bounded import add_bounded_args, stop_on_signals
from common.clients import EngineUnavailable, ensure_topic, es_client, redis_client
from common.config import Settings, get_settings
from common.readers import read_catalog
from common.retry import call_with_retry, engine_down_in
from common.schema import (DEADLETTER_FIELDS, INTEREST_FIELDS, PROFILE_FIELDS, STAGE2_DOC_FIELDS, STATS_FIELDS,
                           Field)
from common.sinks import bulk_or_wait, ensure_index
from stage2.checkpoints import forget_uncommitted
from stage2.enrich import PARTITION_COUNTS_DDL, BeforeIndex, index_partition_arrow
from stage2.interest import (add_to_redis, best_per_pair, better_than_indexed, interest_actions,
                             interest_windows)
from stage2.plays import plays_from_kafka
from stage2.progress_listener import publish_progress
from stage2.profiles import live_profiles, profile_actions
from stage2.tuning import INTEREST_TRIGGER, MAX_OFFSETS_PER_TRIGGER, SPARK_CONF
from stage2.window_stats import stats_actions, windowed_counts


def main(argv: list[str] | None = None) -> int:
    s = get_settings()
    opts = parse_args(argv)
    spark = start_spark("stage2-streaming", s, opts, s.index_stage2)
    try:
        status = run(spark, s, opts, s.index_stage2, STAGE2_DOC_FIELDS)
    except EngineUnavailable as exc:       # only after ENGINE_GIVE_UP_SECONDS
        print(f"streaming job: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        spark.stop()
    print(status.summary(s.index_stage2), flush=True)
    return 0


def run(spark, s: Settings, opts: "JobOptions", index: str, fields: tuple[Field, ...],
        before_index: BeforeIndex | None = None) -> "BatchStatus":
    """The job: read Kafka, enrich and index, keep the interest list; until done."""
    prepare(s, index, fields)
    publish_progress(spark, s, opts.app, triggers=query_triggers(s, opts))   # progress -> Redis (stage4.pipeline)
    records = read_kafka(spark, s, opts)                                          # read
    plays = plays_from_kafka(records, s)              # the well-formed plays, parsed by Spark
    status = BatchStatus(opts)
    queries = [Restartable("enrich", lambda: start_enrich_query(records, s, opts, index, status,
                                                                before_index))]   # enrich -> ES
    if opts.interest:                                                           # interest -> Redis, ES
        queries.append(Restartable("interest", lambda: start_interest_query(plays, s, opts, index)))
    if opts.profiles:                                                           # profiles -> ES
        queries.append(Restartable("profiles", lambda: start_profiles_query(plays, s, opts, index)))
    if opts.stats:                                                              # windows -> ES
        queries.append(Restartable("stats", lambda: start_stats_query(plays, s, opts, index)))
    wait_until_done(queries, status, opts, s)                                   # bounded, or Ctrl-C
    refresh(s, index)
    return status


# --- options -------------------------------------------------------------------------
@dataclass
class JobOptions:
    app: str = "stage2"               # names the checkpoint: <app>-<topic>-<index>
    max_events: int | None = None     # stop once this many records of this run were handled
    first_event_id: int | None = None # this run's records: ids first .. first+max_events-1
    duration: float | None = None     # after this many seconds, finish what Kafka holds and stop
    available_now: bool = False       # process what Kafka holds now, then stop
    naive: bool = False
    interest: bool = True
    stats: bool = True                # the windowed aggregates (stage2.window_stats)
    profiles: bool = True             # the live customer profiles (stage2.profiles)
    checkpoint_dir: Path | None = None
    starting_offsets: str = "earliest"  # where a NEW checkpoint starts (a JSON of offsets, or earliest)
    quiet: bool = False               # no status lines (tests)
    max_offsets_per_trigger: int = MAX_OFFSETS_PER_TRIGGER
    interest_trigger: str = INTEREST_TRIGGER
    fresh: bool = False
    extra: argparse.Namespace | None = None   # the options a later stage adds (parse_args' extend)

    def own_ids(self) -> tuple[int, int] | None:
        if self.first_event_id is None or self.max_events is None:
            return None
        return self.first_event_id, self.first_event_id + self.max_events


def parse_args(argv: list[str] | None = None, app: str = "stage2", doc: str | None = None,
               extend=None) -> JobOptions:
    """The job's options; ``extend(parser)`` adds a later stage's own (in JobOptions.extra)."""
    p = argparse.ArgumentParser(description=(doc or __doc__).splitlines()[0])
    add_bounded_args(p, rate=False, what="records")
    p.add_argument("--first-event-id", type=int,
                   help="with --max-events: wait for the plays first .. first+N-1 (this run's), not any N")
    p.add_argument("--available-now", action="store_true", help="process what Kafka holds, then exit")
    p.add_argument("--naive", action="store_true", help="one Redis and one ES request per record")
    p.add_argument("--no-interest", dest="interest", action="store_false", help="skip the interest list")
    p.add_argument("--no-stats", dest="stats", action="store_false", help="skip the windowed aggregates")
    p.add_argument("--no-profiles", dest="profiles", action="store_false", help="skip the live customer profiles")
    p.add_argument("--checkpoint-dir", type=Path, help=f"default: .runtime/checkpoints/{app}-<topic>-<index>")
    p.add_argument("--starting-offsets", default="earliest",
                   help="where a new checkpoint starts reading: earliest, or Spark's JSON of offsets")
    p.add_argument("--max-offsets-per-trigger", type=int, default=MAX_OFFSETS_PER_TRIGGER,
                   help="at most this many Kafka records per micro-batch")
    p.add_argument("--interest-trigger", default=INTEREST_TRIGGER, help="trigger of the interest-list query")
    p.add_argument("--fresh", action="store_true", help="delete the checkpoint first: re-read the topic from the start")
    if extend is not None:
        extend(p)
    a = p.parse_args(argv)
    return JobOptions(app=app, max_events=a.max_events, first_event_id=a.first_event_id, duration=a.duration,
                      available_now=a.available_now, naive=a.naive, interest=a.interest, stats=a.stats,
                      profiles=a.profiles,
                      checkpoint_dir=a.checkpoint_dir, starting_offsets=a.starting_offsets,
                      max_offsets_per_trigger=a.max_offsets_per_trigger,
                      interest_trigger=a.interest_trigger, fresh=a.fresh, extra=a if extend else None)


# --- set-up ----------------------------------------------------------------------------
def checkpoint_root(settings: Settings, opts: JobOptions, index: str) -> Path:
    # Named after topic and index: another topic or index starts from the beginning; and
    # after the Kafka it reads (Settings.place_tag): a cluster's offsets are not this broker's.
    name = (f"{opts.app}-{settings.kafka_topic}{settings.place_tag('kafka')}-{index}"
            + ("-naive" if opts.naive else ""))
    return opts.checkpoint_dir or settings.checkpoint_dir / name


def start_spark(app_name: str, settings: Settings, opts: JobOptions, index: str):
    from common.spark import get_spark

    if opts.fresh:
        shutil.rmtree(checkpoint_root(settings, opts, index), ignore_errors=True)
    # pyspark 4.1's own pandas code warns about a pandas deprecation in every worker
    os.environ.setdefault("PYTHONWARNINGS", "ignore::FutureWarning")
    spark = get_spark(app_name, settings, extra_conf=SPARK_CONF)
    # While Kafka is away, its Java clients warn about every failed connection, several
    # times a second; the job says it once (see Restartable). Errors still show.
    spark._jvm.org.apache.logging.log4j.core.config.Configurator.setLevel(
        "org.apache.kafka.clients.NetworkClient", spark._jvm.org.apache.logging.log4j.Level.ERROR)
    if not opts.quiet:
        print(f"reading Kafka topic {settings.kafka_topic!r} -> index {index!r}, trigger "
              f"{settings.trigger_interval}, checkpoint {checkpoint_root(settings, opts, index)}", flush=True)
    return spark


def prepare(settings: Settings, index: str, fields: tuple[Field, ...]) -> None:
    """Topic and indices exist before the queries start (idempotent); each engine is
    waited for (common.retry) if it is not there yet."""
    wait_for_engines(settings)
    es = es_client(settings, check=False)

    def ensure_indices():
        # No periodic refresh: the job refreshes after every batch, so the 1 s timer
        # would only cut extra small segments that Elasticsearch must merge.
        ensure_index(es, index, fields, refresh_interval="-1")
        ensure_index(es, settings.index_deadletter, DEADLETTER_FIELDS)
        ensure_index(es, settings.index_interest, INTEREST_FIELDS)
        ensure_index(es, settings.index_profiles, PROFILE_FIELDS)
        ensure_index(es, settings.index_stats, STATS_FIELDS)

    call_with_retry(ensure_indices, "Elasticsearch", settings.es_url)


def wait_for_engines(settings: Settings, give_up: float | None = None) -> None:
    """Return once Kafka (and the topic), Elasticsearch and Redis all answer."""
    call_with_retry(lambda: ensure_topic(settings.kafka_topic, settings=settings),
                    "Kafka", settings.kafka_bootstrap_servers, give_up=give_up)
    call_with_retry(lambda: es_client(settings), "Elasticsearch", settings.es_url, give_up=give_up)
    call_with_retry(lambda: redis_client(settings), "Redis", settings.redis_url, give_up=give_up)


def read_kafka(spark, settings: Settings, opts: JobOptions, min_partitions: int = 0):
    """The topic as a streaming DataFrame (key, value, topic, partition, offset, timestamp ...).
    ``min_partitions``: split each micro-batch into at least that many tasks (0: one per Kafka partition)."""
    reader = spark.readStream.format("kafka")
    if min_partitions:
        reader = reader.option("minPartitions", min_partitions)
    return (reader
            .option("kafka.bootstrap.servers", settings.kafka_bootstrap_servers)
            # When a partition's leader broker dies, a request to it hangs until these time
            # out, and only then asks who leads now: 60 s by default for the offsets the driver
            # reads each batch. Measured on three brokers: a 60 s stall at a leader's kill
            # with the defaults, ~20 s with these (README.md, "Running on a cluster").
            .option("kafka.default.api.timeout.ms", 15_000)
            .option("kafka.request.timeout.ms", 10_000)
            .option("subscribe", settings.kafka_topic)
            .option("startingOffsets", opts.starting_offsets)   # a new checkpoint only; then the checkpoint
            .option("maxOffsetsPerTrigger", opts.max_offsets_per_trigger)
            .option("includeHeaders", "true")     # the shipper's source position: dead-letter ids
            .load())


# --- the enrichment query ---------------------------------------------------------------
def start_enrich_query(kafka, settings: Settings, opts: JobOptions, index: str, status: "BatchStatus",
                       before_index: BeforeIndex | None = None):
    """Each micro-batch: every Kafka partition is parsed, enriched and bulk-indexed on an
    executor (stage2.enrich.index_partition); only the counts come back to the driver.
    ``before_index(redis, docs, settings)`` may add fields first (stage 3's targeting)."""
    spark = kafka.sparkSession
    catalog = spark.sparkContext.broadcast(read_catalog(settings.data_dir / "music.csv"))
    es = es_client(settings, check=False)
    naive, own_ids = opts.naive, opts.own_ids()

    def enrich_batch(batch_df, batch_id):
        started = time.monotonic()
        # mapInArrow hands each partition over as Arrow columns (cheaper than one Row per record)
        parts = [row.asDict() for row in
                 batch_df.select("value", "topic", "partition", "offset", "timestamp", "headers")
                 .mapInArrow(lambda batches: index_partition_arrow(
                     batches, settings, catalog.value, index, naive, before_index, own_ids),
                     PARTITION_COUNTS_DDL)
                 .collect()]
        if any(p["records"] for p in parts):
            # searchable now, not at the next periodic refresh
            call_with_retry(lambda: es.indices.refresh(index=[index, settings.index_deadletter]),
                            "Elasticsearch", settings.es_url)
        status.add(batch_id, parts, time.monotonic() - started)

    checkpoint = checkpoint_root(settings, opts, index) / "enrich"
    forget_uncommitted(checkpoint, opts.quiet)        # SPARK-55271, see stage2/checkpoints.py
    writer = (kafka.writeStream.queryName("enrich").foreachBatch(enrich_batch)
              .option("checkpointLocation", str(checkpoint)))
    spark.sparkContext.setLocalProperty("spark.scheduler.pool", "enrich")
    return trigger(writer, settings, opts).start()


# --- the stateful queries: windowed counts, live profiles, interest list -----------------
# Each is a streaming aggregation that Spark runs in the JVM on the plays of
# stage2.plays, in update mode: a micro-batch hands over only the rows whose state
# changed, few enough (thousands) for the driver to write them itself.
def start_stats_query(plays, settings: Settings, opts: JobOptions, index: str):
    """Plays per sliding window by state, level and device (stage2.window_stats), in
    update mode: each trigger upserts the windows whose count changed into ba_stats."""
    es = es_client(settings, check=False)

    def write(batch_df):
        actions = stats_actions(batch_df.collect(), settings)
        return bulk_with_retry(es, actions, settings)

    return start_stateful_query("stats", windowed_counts(plays, settings), write,
                                f"window counts updated in {settings.index_stats}", settings, opts, index)


def start_profiles_query(plays, settings: Settings, opts: JobOptions, index: str):
    """Each customer's listening profile, from counts kept in Spark state
    (stage2.profiles), indexed whole into ba_profiles (_id = customer_id)."""
    es = es_client(settings, check=False)

    def write(batch_df):
        return bulk_with_retry(es, profile_actions(batch_df.collect(), settings), settings)

    return start_stateful_query("profiles", live_profiles(plays, settings), write,
                                f"customer profiles updated in {settings.index_profiles}", settings, opts, index)


def start_interest_query(plays, settings: Settings, opts: JobOptions, index: str | None = None):
    """Play times per (customer, track, window) in Spark state (stage2.interest):
    the best window of each pair -> Redis and ES (best of all batches kept by ES)."""
    es = es_client(settings, check=False)
    window = timedelta(minutes=settings.interest_window_minutes)

    def write(batch_df):
        best = best_per_pair(batch_df.collect(), settings.interest_min_plays, window)
        if not best:
            return 0
        call_with_retry(lambda: add_to_redis(redis_client(settings), best, settings),
                        "Redis", settings.redis_url)                  # SADD: idempotent
        docs = call_with_retry(lambda: better_than_indexed(es, best, settings),
                               "Elasticsearch", settings.es_url)
        return bulk_with_retry(es, interest_actions(docs, settings), settings)

    return start_stateful_query("interest", interest_windows(plays, settings), write,
                                "new or denser interest windows", settings, opts, index or settings.index_stage2)


def bulk_with_retry(es, actions: list[dict], settings: Settings) -> int:
    """helpers.bulk of ``actions``, the whole list again while Elasticsearch is down or
    refuses writes (common.sinks.bulk_or_wait; the writes are idempotent: fixed ids);
    returns how many were sent."""
    if actions:
        call_with_retry(lambda: bulk_or_wait(es, actions, settings.bulk_size), "Elasticsearch", settings.es_url)
    return len(actions)


# The three stateful queries fire on the same 30 s boundary. Each runs its Spark
# jobs inside its foreachBatch call (the collect), so this lock makes them take
# turns instead of holding both cores at once while the enrichment waits.
STATEFUL_TURN = threading.Lock()


def start_stateful_query(name: str, frame, write, what: str, settings: Settings,
                         opts: JobOptions, index: str):
    """Start one of the stateful queries in update mode: each micro-batch's changed
    rows are written by ``write(batch_df) -> count`` on the driver; its checkpoint
    sits beside the enrichment's (one job, one checkpoint folder); they share the
    "interest" pool (fairscheduler.xml) and its slower trigger."""
    def write_batch(batch_df, batch_id):
        started = time.monotonic()
        with STATEFUL_TURN:        # one stateful batch at a time: the other core stays with the enrichment
            written = write(batch_df)
        if not opts.quiet and written:
            print(f"{name} batch {batch_id:>5}: {written} {what} in {time.monotonic() - started:5.2f} s",
                  flush=True)

    checkpoint = checkpoint_root(settings, opts, index) / name
    forget_uncommitted(checkpoint, opts.quiet)       # SPARK-55271, see stage2/checkpoints.py
    writer = (frame.writeStream.queryName(name).outputMode("update")
              .foreachBatch(write_batch).option("checkpointLocation", str(checkpoint)))
    frame.sparkSession.sparkContext.setLocalProperty("spark.scheduler.pool", "interest")
    return trigger(writer, settings, opts, opts.interest_trigger).start()


def query_triggers(settings: Settings, opts: JobOptions) -> dict[str, str]:
    """Each query's processing-time trigger: the enrichment's, and the stateful queries' slower one."""
    return {"enrich": settings.trigger_interval,
            **{name: opts.interest_trigger for name in ("interest", "profiles", "stats")}}


def trigger(writer, settings: Settings, opts: JobOptions, interval: str | None = None):
    if opts.available_now:
        return writer.trigger(availableNow=True)
    return writer.trigger(processingTime=interval or settings.trigger_interval)


# --- running bounded or live -------------------------------------------------------------
class BatchStatus:
    """Totals over the run and the one status line per micro-batch."""

    def __init__(self, opts: JobOptions):
        self.quiet, self.counted = opts.quiet, opts.own_ids() is not None
        self.records = self.own = self.indexed = self.rejected = self.unknown = 0
        self.lock = threading.Lock()

    def add(self, batch_id: int, parts: list[dict], seconds: float) -> None:
        n = sum(p["records"] for p in parts)
        with self.lock:
            self.records += n
            self.own += sum(p["own"] for p in parts)
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

    def summary(self, index: str) -> str:
        backlog = self.records - self.own
        earlier = f" ({backlog} of them left in Kafka by earlier runs)" if self.counted and backlog else ""
        return (f"done: {self.records} records{earlier}, {self.indexed} indexed into {index}, "
                f"{self.rejected} dead-lettered, {self.unknown} with an unknown customer")


class Restartable:
    """A streaming query that is started again from its checkpoint when it failed
    because an engine went away (the checkpoint makes that lossless; replayed
    writes reuse their ids). Any other failure is raised."""

    def __init__(self, name: str, start):
        self.name, self.start = name, start
        self.query = start()
        self.failing_since: float | None = None

    def restart_if_failed(self, settings: Settings) -> None:
        error = self.query.exception()
        if error is None:
            # lastProgress is a JSON round trip through the JVM: asked only while recovering
            if self.failing_since is not None and self.query.lastProgress is not None:
                self.failing_since = None          # it has run a batch since
            return
        if not engine_down_in(str(error)):
            raise error                            # a bug or bad data: not ours to wait out
        # the give-up time counts from the first failure: a query failing again
        # and again with every engine up is not waited for forever
        self.failing_since = self.failing_since or time.monotonic()
        left = settings.engine_give_up_seconds - (time.monotonic() - self.failing_since)
        # the line of Spark's long error that names the engine, e.g.
        # "common.clients.EngineUnavailable: Redis is not reachable at ..."
        said = [line.strip() for line in str(error).splitlines()
                if engine_down_in(line) and re.match(r"\s*[\w.$]+: ", line)]
        cause = (said or str(error).strip().splitlines())[-1][:200]
        if left <= 0:
            raise EngineUnavailable("An engine", settings.kafka_bootstrap_servers,
                                    f"query {self.name} kept failing: {cause}")
        print(f"query {self.name} stopped, an engine went away ({cause}); "
              "waiting for the engines, then restarting it from its checkpoint", flush=True)
        wait_for_engines(settings, give_up=left)
        self.query = self.start()

    def drain(self, settings: Settings) -> None:
        """Process everything Kafka holds now, surviving an engine outage meanwhile."""
        while True:
            try:
                self.query.processAllAvailable()
                return
            except Exception:                      # noqa: BLE001 - restart_if_failed decides
                if self.query.exception() is None:
                    raise
                self.restart_if_failed(settings)

    def stop(self) -> None:
        self.query.stop()


class KafkaWatch:
    """Spark's Kafka clients wait for a broker that went away by themselves, and
    silently (their warnings are muted in start_spark): this says so, in one line
    per backoff step, and when Kafka is back."""

    def __init__(self, settings: Settings):
        from confluent_kafka.admin import AdminClient

        from common.clients import kafka_config
        self.admin = AdminClient(kafka_config(settings))
        self.url, self.settings = settings.kafka_bootstrap_servers, settings
        self.next_check, self.down_since, self.attempt = 0.0, None, 0

    def check(self) -> None:
        from confluent_kafka import KafkaException

        from common.retry import backoff
        now = time.monotonic()
        if now < self.next_check:
            return
        try:
            self.admin.list_topics(timeout=min(2.0, self.settings.engine_timeout_seconds))
        except KafkaException as exc:
            self.down_since, self.attempt = self.down_since or now, self.attempt + 1
            pause = backoff(self.attempt, cap=self.settings.engine_retry_cap_seconds)
            print(f"Kafka at {self.url} unreachable ({exc.args[0].name()}), the queries wait for it; "
                  f"retry {self.attempt} in {pause:g} s", flush=True)
            self.next_check = time.monotonic() + pause
            return
        if self.down_since is not None:
            print(f"Kafka at {self.url} is back after {now - self.down_since:.0f} s", flush=True)
        self.down_since, self.attempt = None, 0
        self.next_check = now + self.settings.engine_timeout_seconds


def wait_until_done(queries: list[Restartable], status: BatchStatus, opts: JobOptions,
                    settings: Settings) -> None:
    """Return when the bounded run is complete (or on Ctrl-C); the queries are stopped."""
    stop = stop_on_signals()
    deadline = time.monotonic() + opts.duration if opts.duration else None
    kafka = KafkaWatch(settings)
    try:
        while not stop.is_set():
            kafka.check()
            for q in queries:
                q.restart_if_failed(settings)
            if all(not q.query.isActive for q in queries):
                break                       # --available-now: every query drained Kafka
            if ((opts.max_events and status.own >= opts.max_events)
                    or (deadline and time.monotonic() >= deadline)):
                # finish what Kafka holds now, interest list too. All at once: a stateful
                # query waits for its next (30 s) trigger, and one after the other those waits add up
                with ThreadPoolExecutor(len(queries), thread_name_prefix="drain") as pool:
                    list(pool.map(lambda q: q.drain(settings), queries))
                break
            time.sleep(0.2)
    finally:
        for q in queries:
            q.stop()


def refresh(settings: Settings, index: str) -> None:
    call_with_retry(lambda: es_client(settings).indices.refresh(
        index=[index, settings.index_deadletter, settings.index_interest]), "Elasticsearch", settings.es_url)


if __name__ == "__main__":
    sys.exit(main())
