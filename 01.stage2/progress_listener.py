"""Each streaming query's progress, published to Redis for the pipeline collector.

Spark's Kafka source does not commit its offsets to a consumer group, so the
usual lag tools (``kafka-consumer-groups``) see nothing of this job. Spark
itself knows, after every micro-batch, which offsets the query has processed
(``sources[0].endOffset``), how many rows came in and how fast they went, how
long the batch took and where the watermark is. This listener keeps the last of
those per query in one Redis hash, so the collector (stage4.pipeline) can say how
far behind the job is: the topic's end offsets now, minus what the query processed.

    from stage2.progress_listener import publish_progress
    publish_progress(spark, settings, app="stage2")      # before the queries start

The hash is ``pipeline:progress:<topic>`` (REDIS_PIPELINE_PROGRESS, then the Kafka
topic the query reads), one field per query, ``<app>:<query>`` (``stage3:enrich``),
holding a small JSON object (``progress_summary``); it has as many fields as the
jobs reading that topic have queries, and expires a week after its last write.
Publishing never holds up a query: Spark calls the listener on its own thread,
after the batch; a Redis that does not answer within a second is skipped (said
once), and the next batch's progress replaces what was missed.
"""
from __future__ import annotations

import json
import time

from common.config import Settings

PROGRESS_TTL_SECONDS = 7 * 86400


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None      # NaN (no rows yet): unknown


def progress_summary(app: str, progress: dict) -> dict:
    """The fields the collector reads, from one StreamingQueryProgress as JSON (pure)."""
    source = (progress.get("sources") or [{}])[0]
    metrics = source.get("metrics") or {}

    def offsets(text):
        # Spark writes the Kafka source's offsets as JSON: {"topic": {"0": 123, "1": 456}}
        if isinstance(text, str):
            try:
                text = json.loads(text)
            except ValueError:
                return {}
        return text if isinstance(text, dict) else {}

    return {
        "app": app, "query": progress.get("name") or "", "run_id": progress.get("runId"),
        "batch_id": progress.get("batchId"), "at": progress.get("timestamp"),
        "published_at": time.time(),
        "end_offsets": offsets(source.get("endOffset")),          # processed up to (exclusive)
        "latest_offsets": offsets(source.get("latestOffset")),    # the topic's end when the batch was planned
        "input_rows": progress.get("numInputRows"),
        "input_rows_per_s": _number(progress.get("inputRowsPerSecond")),
        "processed_rows_per_s": _number(progress.get("processedRowsPerSecond")),
        "batch_seconds": (progress.get("batchDuration") or 0) / 1000,
        "watermark": (progress.get("eventTime") or {}).get("watermark"),
        # Spark's Kafka source metrics: records behind the latest offsets after this batch
        "min_offsets_behind_latest": _number(metrics.get("minOffsetsBehindLatest")),
        "max_offsets_behind_latest": _number(metrics.get("maxOffsetsBehindLatest")),
        "avg_offsets_behind_latest": _number(metrics.get("avgOffsetsBehindLatest")),
        "state": "running",
    }


def progress_key(prefix: str, summary: dict) -> str:
    """The hash of the topic the query reads: ``pipeline:progress:realtime``."""
    return f"{prefix}:{next(iter(summary['end_offsets']), '')}"


def trigger_seconds(trigger: str | None) -> float | None:
    """Spark's processing-time interval in seconds: "2 seconds" -> 2.0, "1 minute" -> 60.0 (pure)."""
    number, _, unit = (trigger or "").strip().partition(" ")
    unit = unit.strip().lower() or "seconds"
    scale = {"ms": 0.001, "millisecond": 0.001, "second": 1.0, "minute": 60.0, "hour": 3600.0}
    factor = scale.get(unit) or scale.get(unit.removesuffix("s"))
    try:
        return float(number) * factor if factor else None
    except ValueError:
        return None


def publish_progress(spark, settings: Settings, app: str,
                     triggers: dict[str, str] | None = None) -> "ProgressToRedis":
    """Add the listener to ``spark``'s streaming queries; returns it. ``triggers``
    names each query's trigger ({"enrich": "2 seconds"}), published with its progress."""
    listener = ProgressToRedis(settings, app, triggers)
    spark.streams.addListener(listener)
    return listener


def _listener_base():
    from pyspark.sql.streaming import StreamingQueryListener
    return StreamingQueryListener


class _ProgressAsJson:
    """What the JVM calls (a Py4J object implementing Spark's Python listener interface):
    PySpark's own wrapper turns each progress into Python objects attribute by attribute,
    dozens of JVM round trips per batch; this asks once, for the progress as JSON."""

    def __init__(self, listener: "ProgressToRedis"):
        self.listener = listener

    def onQueryStarted(self, jevent) -> None:
        pass

    def onQueryProgress(self, jevent) -> None:
        started = time.thread_time()
        self.listener.on_progress_json(jevent.progress().json(), started)

    def onQueryIdle(self, jevent) -> None:
        pass

    def onQueryTerminated(self, jevent) -> None:
        pass

    class Java:
        implements = ["org.apache.spark.sql.streaming.PythonStreamingQueryListener"]


class ProgressToRedis(_listener_base()):
    def __init__(self, settings: Settings, app: str, triggers: dict[str, str] | None = None):
        import redis

        self.key, self.app = settings.redis_pipeline_progress, app
        # short timeouts: a paused Redis costs the listener thread a second, never a query
        self.redis = redis.Redis.from_url(settings.redis_url, decode_responses=True,
                                          socket_timeout=1.0, socket_connect_timeout=1.0)
        self.cpu_seconds = 0.0           # spent in the callbacks (make bench: the listener's cost)
        self.progresses = 0
        self.last_published: dict[str, float] = {}
        self.triggers = {name: trigger_seconds(text) for name, text in (triggers or {}).items()}
        self.failing = False

    @property
    def _jlistener(self):
        from pyspark import SparkContext

        if not hasattr(self, "_jlistenerobj"):
            self._jlistenerobj = SparkContext._jvm.PythonStreamingQueryListenerWrapper(_ProgressAsJson(self))
        return self._jlistenerobj

    def on_progress_json(self, text: str, started: float | None = None) -> None:
        started = time.thread_time() if started is None else started
        progress = json.loads(text)
        query, summary = progress.get("name") or "", progress_summary(self.app, progress)
        # how often this query runs a batch (its trigger, or longer when batches take longer)
        previous = self.last_published.get(query)
        summary["interval_seconds"] = round(summary["published_at"] - previous, 2) if previous else None
        summary["trigger_seconds"] = self.triggers.get(query)
        self.last_published[query] = summary["published_at"]
        # what this listener has cost so far, this callback up to here included (make bench reads it)
        summary["listener_cpu_seconds"] = round(self.cpu_seconds + time.thread_time() - started, 6)
        self._write(query, summary)
        self.progresses += 1
        self.cpu_seconds += time.thread_time() - started

    def _write(self, query: str, summary: dict) -> None:
        import redis

        try:
            key = progress_key(self.key, summary)
            tx = self.redis.pipeline(transaction=True)
            tx.hset(key, f"{self.app}:{query}", json.dumps(summary))
            tx.expire(key, PROGRESS_TTL_SECONDS)
            tx.execute()
            if self.failing:
                print("progress listener: Redis is back; publishing each query's progress again", flush=True)
            self.failing = False
        except redis.RedisError as exc:
            if not self.failing:
                print(f"progress listener: Redis did not take the progress ({type(exc).__name__}); "
                      "skipped until it answers", flush=True)
            self.failing = True

    # the StreamingQueryListener interface (the JVM calls _ProgressAsJson instead)
    def onQueryStarted(self, event) -> None:
        pass

    def onQueryProgress(self, event) -> None:
        self.on_progress_json(event.progress.json)

    def onQueryIdle(self, event) -> None:
        pass

    def onQueryTerminated(self, event) -> None:
        pass
