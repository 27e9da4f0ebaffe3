"""The pipeline collector: every hop's lag and rate, sampled every few seconds.

    python -m stage4.pipeline            # sample every PIPELINE_INTERVAL_SECONDS (5 s) until Ctrl-C
    python -m stage4.pipeline --once     # one sample, printed as a table (make status)

Each number is read from where it lives, never estimated:

    live file -> shipper   the file's size minus the shipper's saved offset
                           (.runtime/offsets/shipper-*.json): bytes and complete lines not shipped
    Kafka -> Spark         per query: the topic's end offsets now (Kafka) minus the offsets the
                           query's last batch processed (the job's progress listener,
                           stage2.progress_listener, in Redis); Spark's own rates, batch
                           duration, watermark and maxOffsetsBehindLatest from the same progress
    Spark -> Elasticsearch documents indexed and refreshes per second (deltas of _nodes/stats),
                           write requests the node rejected
    dead letters           per minute, by source and reason (the dead-letter index)
    stage 3                offers in the stream (XLEN), not delivered yet (XINFO GROUPS lag +
                           XPENDING), dead offers, the model's last round (model:status)
    engines                each one up or down, as the collector's own requests find it

A sample goes to the index ba_pipeline (one document, fields: common.schema.PIPELINE_FIELDS;
kept in memory while Elasticsearch is away and sent when it is back) and to the Redis
list pipeline:samples (the last 10+ minutes, newest first), which the dashboard's
Pipeline panel draws. The dashboard launcher (stage4.run_stage4, so also make demo)
starts this collector as a process of its own. Two collectors never write at once: one
holds a short lease in Redis, another waits.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import socket
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from common.bounded import stop_on_signals
from common.config import Settings, get_settings
from common.retry import is_engine_error
from common.schema import PIPELINE_FIELDS
from stage1.follower import READ_CHUNK
from stage1.shipper import LIVE_BATCH_LINES

ENGINES = ("kafka", "elasticsearch", "redis")
REQUEST_TIMEOUT = 2.0          # seconds: a paused engine costs a sample this much, per request
KEPT_SECONDS = 12 * 60         # the Redis list holds this much (the panel draws the last 10 minutes)
BUFFERED_DOCS = 720            # samples kept for Elasticsearch while it is away (1 h at 5 s)
QUERIES = ("enrich", "interest", "profiles", "stats")
ARRIVALS_KEPT_SECONDS = 600.0  # the topic's end offsets are kept this long (what arrived in a batch cycle)
GROUP = "sms-sender"           # stage3.sms_sender's consumer group


# --- the red rule (the same in 03.stage4/lib/pipeline.js) -----------------------------------
def growing(values: list[float | None], floor: float = 0) -> bool:
    """A lag that grew at each of the last 3 samples and is above what the hop holds in flight."""
    last = [v for v in values[-4:]]
    if len(last) < 4 or any(v is None for v in last):
        return False
    return last[0] < last[1] < last[2] < last[3] and last[3] > floor


# --- live file -> shipper --------------------------------------------------------------------
class FileLag:
    """Bytes and complete lines of the live file after a shipper's saved offset. Lines are
    counted incrementally: each sample reads only what was appended or shipped since the last."""

    def __init__(self, live_file: Path, offsets_dir: Path, offset_file: Path | None = None):
        self.live_file, self.offsets_dir, self.given = live_file, offsets_dir, offset_file
        self.cache: tuple[int, int, int, int] | None = None     # inode, offset, end, lines between

    def offset_file(self) -> Path | None:
        """The offset file of the shipper that last committed for this live file."""
        if self.given is not None:
            return self.given if self.given.exists() else None
        # named as stage1.shipper.default_offset_file names them: shipper-<sink>-<target>-<hash of the path>
        tag = hashlib.sha1(str(self.live_file.resolve()).encode()).hexdigest()[:8]
        files = list(self.offsets_dir.glob(f"shipper-*-{tag}.json"))
        return max(files, key=lambda f: f.stat().st_mtime, default=None)

    @staticmethod
    def _lines(f, start: int, end: int) -> int:
        f.seek(start)
        left, lines = end - start, 0
        while left > 0 and (chunk := f.read(min(READ_CHUNK * 16, left))):
            lines += chunk.count(b"\n")
            left -= len(chunk)
        return lines

    def sample(self) -> dict:
        try:
            st = self.live_file.stat()
        except FileNotFoundError:
            return {"file_size_bytes": 0, "file_lag_bytes": 0, "file_lag_lines": 0, "shipper": None}
        offset_file = self.offset_file()
        saved, shipper = None, None
        if offset_file is not None:
            try:
                saved = json.loads(offset_file.read_text())
            except (OSError, ValueError):
                saved = None
            # shipper-kafka-realtime-1a2b3c4d.json -> kafka:realtime
            shipper = ("-".join(offset_file.stem.split("-")[1:-1]).replace("-", ":", 1)
                       if self.given is None else offset_file.name)
        offset = int(saved["offset"]) if saved and int(saved.get("inode", -1)) == st.st_ino else 0
        offset = min(offset, st.st_size)
        appended = None                 # complete lines written since the previous sample
        with open(self.live_file, "rb") as f:
            c = self.cache
            if c and c[0] == st.st_ino and c[1] <= offset <= c[2] <= st.st_size:
                appended = self._lines(f, c[2], st.st_size)
                lines = c[3] - self._lines(f, c[1], offset) + appended
            else:
                lines = self._lines(f, offset, st.st_size)
        self.cache = (st.st_ino, offset, st.st_size, lines)
        return {"file_size_bytes": st.st_size, "file_lag_bytes": st.st_size - offset,
                "file_lag_lines": lines, "shipper": shipper, "file_appended_lines": appended}


# --- the engines ------------------------------------------------------------------------------
class Engines:
    """Clients with short timeouts, made once; each read says which engine did not answer."""

    def __init__(self, s: Settings):
        from confluent_kafka import Consumer
        from elasticsearch import Elasticsearch
        import redis

        from common.clients import kafka_config
        self.s = s
        self.es = Elasticsearch(**{**s.es_client_kwargs(), "request_timeout": REQUEST_TIMEOUT,
                                   "max_retries": 0, "retry_on_timeout": False})
        self.redis = redis.Redis.from_url(s.redis_url, decode_responses=True, socket_timeout=REQUEST_TIMEOUT,
                                          socket_connect_timeout=REQUEST_TIMEOUT)
        self.kafka = Consumer(kafka_config(s, {"group.id": f"pipeline-collector-{os.getpid()}",
                                               "enable.auto.commit": False,
                                               "socket.timeout.ms": int(REQUEST_TIMEOUT * 1000)}))
        self.down: dict[str, str] = {}

    def read(self, engine: str, call, default=None):
        """``call()``; when the engine does not answer: ``default``, and the engine marked down."""
        try:
            return call()
        except Exception as exc:           # noqa: BLE001 - engine errors counted, others raised
            from confluent_kafka import KafkaException
            if engine == "kafka" and isinstance(exc, KafkaException):
                self.down[engine] = exc.args[0].name() if exc.args else type(exc).__name__
                return default
            if not is_engine_error(exc):
                raise
            self.down[engine] = type(exc).__name__
            return default

    def end_offsets(self, topic: str) -> dict[str, int]:
        from confluent_kafka import TopicPartition

        meta = self.kafka.list_topics(topic, timeout=REQUEST_TIMEOUT).topics.get(topic)
        if meta is None or meta.error is not None:
            return {}
        return {str(p): self.kafka.get_watermark_offsets(TopicPartition(topic, p), timeout=REQUEST_TIMEOUT)[1]
                for p in sorted(meta.partitions)}

    def close(self) -> None:
        self.kafka.close()


def query_lag(progress: dict, end_offsets: dict[str, int]) -> int | None:
    """Records in the topic after what the query's last batch processed (pure)."""
    processed = next(iter((progress.get("end_offsets") or {}).values()), None)
    if processed is None or not end_offsets:
        return None
    return sum(max(0, end - int(processed.get(p, 0))) for p, end in end_offsets.items())


class TopicArrivals:
    """The topic's end offsets, summed, as the last samples saw them: how many records
    arrived in the last N seconds."""

    def __init__(self, keep_seconds: float = ARRIVALS_KEPT_SECONDS):
        self.keep, self.points = keep_seconds, deque()      # (when, the end offsets summed)

    def add(self, ends: dict[str, int], now: float) -> None:
        if ends:                          # nothing when Kafka did not answer (or no topic yet)
            self.points.append((now, sum(ends.values())))
        while self.points and now - self.points[0][0] > self.keep:
            self.points.popleft()

    def within(self, seconds: float) -> int | None:
        """Records that arrived in at least the last ``seconds``: since the newest sample at
        least that old, or, while the samples do not go back that far, at their rate so
        far (None with fewer than two samples)."""
        if len(self.points) < 2:
            return None
        now, last = self.points[-1]
        old = [(at, total) for at, total in self.points if now - at >= seconds]
        if old:
            return max(0, last - old[-1][1])
        first_at, first = self.points[0]
        return round(max(0, last - first) * seconds / (now - first_at)) if now > first_at else None


def batch_cycle(progress: dict, arrivals: TopicArrivals) -> tuple[float, int]:
    """(seconds between two batches, records a healthy query holds just before a batch ends).

    A batch starts every trigger, or right after the last one when it took longer (the
    measured interval stands in when the job did not say its trigger). Until a batch
    ends, the lag counts every record since the previous batch was planned: what the
    topic received in one interval plus one batch. Spark's own input rate stands in only
    before the collector's second sample: it says 0 rows/s for a query's first batch."""
    batch = progress.get("batch_seconds") or 0.0
    trigger = progress.get("trigger_seconds")
    interval = max(trigger, batch) if trigger else (progress.get("interval_seconds") or 0.0)
    arrived = arrivals.within(interval + batch)
    if arrived is None:
        arrived = round((progress.get("input_rows_per_s") or 0.0) * (interval + batch))
    return interval, arrived


# --- one sample ---------------------------------------------------------------------------------
@dataclass
class NodeStats:
    at: float
    indexed: int
    refreshes: int
    rejected: int


class Collector:
    def __init__(self, s: Settings, offset_file: Path | None = None):
        self.s = s
        self.engines = Engines(s)
        self.file = FileLag(s.live_file, s.runtime_dir / "offsets", offset_file)
        self.node: NodeStats | None = None
        self.arrivals = TopicArrivals()

    def node_stats(self) -> NodeStats:
        reply = self.engines.es.nodes.stats(metric="indices,thread_pool", index_metric="indexing,refresh",
                                            filter_path="nodes.*.indices.indexing.index_total,"
                                                        "nodes.*.indices.refresh.total,nodes.*.thread_pool.write.rejected")
        nodes = reply.get("nodes", {}).values()
        return NodeStats(time.monotonic(), sum(n["indices"]["indexing"]["index_total"] for n in nodes),
                         sum(n["indices"]["refresh"]["total"] for n in nodes),
                         sum(n["thread_pool"]["write"]["rejected"] for n in nodes))

    def deadletters(self) -> tuple[int, list[str]]:
        reply = self.engines.es.options(ignore_status=404).search(
            index=self.s.index_deadletter, size=0, query={"range": {"rejected_at": {"gte": "now-1m"}}},
            aggs={"source": {"terms": {"field": "source", "size": 10},
                             "aggs": {"reason": {"terms": {"field": "reason", "size": 10}}}}})
        if "hits" not in reply:
            return 0, []
        reasons = [(f"{s['key']}/{r['key']}", r["doc_count"]) for s in reply["aggregations"]["source"]["buckets"]
                   for r in s["reason"]["buckets"]]
        reasons.sort(key=lambda kv: -kv[1])
        return reply["hits"]["total"]["value"], [f"{k}={n}" for k, n in reasons]

    def offers(self) -> dict:
        r, s = self.engines.redis, self.s
        pipe = r.pipeline(transaction=False)
        pipe.xlen(s.redis_offers_stream)
        pipe.xlen(s.redis_offers_dead_stream)
        pipe.hgetall(s.redis_model_status)
        queued, dead, model = pipe.execute()
        pending = 0
        try:
            groups = {g["name"]: g for g in r.xinfo_groups(s.redis_offers_stream)}
        except Exception as exc:     # noqa: BLE001 - no stream yet (ResponseError): nothing pending
            if is_engine_error(exc):
                raise
            groups = {}
        if GROUP in groups:
            g = groups[GROUP]
            # lag: entries not read by the group yet (None when Redis cannot tell: count from XPENDING alone)
            pending = int(g.get("lag") or 0) + int(r.xpending(s.redis_offers_stream, GROUP)["pending"])
        elif queued:
            pending = queued           # no sender ever read the stream: every entry waits
        last = model.get("last_version")
        return {"offers_queued": queued, "offers_dead": dead, "offers_pending": pending,
                "model_last_round": f"{last} {model.get('last_verdict', '')}".strip() if last else None,
                "model_last_at": model.get("last_at") or None}

    def progresses(self) -> tuple[str | None, dict[str, dict]]:
        """The queries of the streaming job that reported last: (app, {query: progress})."""
        raw = self.engines.redis.hgetall(f"{self.s.redis_pipeline_progress}:{self.s.kafka_topic}")
        by_app: dict[str, dict[str, dict]] = {}
        for field, text in raw.items():
            try:
                p = json.loads(text)
            except ValueError:
                continue
            by_app.setdefault(p.get("app") or field.split(":", 1)[0], {})[p.get("query") or field] = p
        if not by_app:
            return None, {}
        app = max(by_app, key=lambda a: max(p.get("published_at", 0) for p in by_app[a].values()))
        return app, by_app[app]

    def sample(self) -> dict:
        """One sample: the flat document (PIPELINE_FIELDS) and, under "queries", each query's detail."""
        e = self.engines
        e.down = {}
        now = time.time()
        doc: dict = {"sampled_at": datetime.fromtimestamp(now, timezone.utc).isoformat(timespec="milliseconds")}
        doc.update(self.file.sample())

        app, progresses = e.read("redis", self.progresses, (None, {}))
        doc["spark_app"] = app
        ends = e.read("kafka", lambda: e.end_offsets(self.s.kafka_topic), {})
        doc["kafka_end_offsets"] = sum(ends.values()) if "kafka" not in e.down else None
        self.arrivals.add(ends, time.monotonic())           # {} while Kafka does not answer: no point
        queries = {}
        for name, p in sorted(progresses.items()):
            lag = query_lag(p, ends) if "kafka" not in e.down else None
            interval, in_flight = batch_cycle(p, self.arrivals)
            queries[name] = {"lag": lag, "input_rows_per_s": p.get("input_rows_per_s"),
                             "processed_rows_per_s": p.get("processed_rows_per_s"),
                             "batch_seconds": p.get("batch_seconds"), "watermark": p.get("watermark"),
                             "behind_latest": p.get("max_offsets_behind_latest"),
                             "age_seconds": round(now - p.get("published_at", now), 1),
                             "batch_id": p.get("batch_id"), "interval_seconds": interval,
                             "in_flight": in_flight}
            if name in QUERIES and name != "enrich":
                doc[f"kafka_lag_{name}"] = lag
        enrich = queries.get("enrich", {})
        doc.update({"kafka_lag": enrich.get("lag"), "spark_behind_latest": enrich.get("behind_latest"),
                    "spark_input_rows_per_s": enrich.get("input_rows_per_s"),
                    "spark_processed_rows_per_s": enrich.get("processed_rows_per_s"),
                    "spark_batch_seconds": enrich.get("batch_seconds"),
                    "spark_progress_age_seconds": enrich.get("age_seconds"),
                    "spark_watermark": (queries.get("stats") or queries.get("interest") or {}).get("watermark")})

        stats = e.read("elasticsearch", self.node_stats)
        if stats is not None and self.node is not None and stats.at > self.node.at:
            dt = stats.at - self.node.at
            doc["es_docs_per_s"] = round(max(0, stats.indexed - self.node.indexed) / dt, 1)
            doc["es_refreshes_per_s"] = round(max(0, stats.refreshes - self.node.refreshes) / dt, 2)
            doc["es_write_rejected"] = max(0, stats.rejected - self.node.rejected)
        self.node = stats if stats is not None else self.node
        if "elasticsearch" not in e.down:
            doc["deadletters_per_min"], doc["deadletter_reasons"] = e.read("elasticsearch", self.deadletters, (None, []))
        doc.update(e.read("redis", self.offers, {}) or {})
        doc["engines_down"] = sorted(e.down)
        return {**{k: v for k, v in doc.items() if v is not None}, "queries": queries,
                "down_reasons": dict(e.down)}


# --- what the panel and make status show ----------------------------------------------------------
def _n(value, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def rows_of(sample: dict) -> list[dict]:
    """One row per hop (and per query): what the Pipeline panel and `make status` show.
    ``value`` is the row's number now (None: unknown, its engine is down); ``kind`` "lag"
    rows turn red when they grow (``growing``), "rate" rows never do."""
    down = set(sample.get("engines_down", []))
    rows = []

    def row(key, hop, what, value, unit, detail, kind="lag", floor=0, needs=()):
        state = "down" if set(needs) & down else ("none" if value is None else "ok")
        if state == "down":
            detail = f"unknown while {' and '.join(sorted(set(needs) & down))} does not answer"
        rows.append({"key": key, "hop": hop, "what": what, "value": None if state == "down" else value,
                     "unit": unit, "detail": detail, "kind": kind, "floor": floor, "state": state})

    shipper = sample.get("shipper")
    # in flight: what was appended since the last sample (a shipper ships every 0.1 s), at most one batch
    appended = sample.get("file_appended_lines")
    row("file", "live file → shipper", "lines not shipped", sample.get("file_lag_lines") if shipper else None,
        "lines", f"{_n(sample.get('file_lag_bytes'))} bytes behind, shipper {shipper}" if shipper
        else "no shipper has saved an offset for this file yet",
        floor=LIVE_BATCH_LINES if appended is None else max(1, min(LIVE_BATCH_LINES, appended)))
    queries = sample.get("queries", {})
    app = sample.get("spark_app")
    if not queries:
        row("kafka:enrich", "Kafka → Spark", "records behind", None, "records",
            "no progress from a streaming job yet (make stage2 or make stage3 starts one)", needs=("redis",))
    for name in sorted(queries, key=lambda q: (QUERIES.index(q) if q in QUERIES else 9, q)):
        q = queries[name]
        # a batch is expected every interval (its trigger, or its last batch's duration when longer)
        expected = (q.get("interval_seconds") or 0.0) + (q.get("batch_seconds") or 0.0)
        stalled = f", no batch for {q['age_seconds']:.0f} s" if q["age_seconds"] > max(30.0, 3 * expected) else ""
        detail = (f"{app} {name}: in {_n(q['input_rows_per_s'], 1)}/s, processed {_n(q['processed_rows_per_s'], 1)}/s, "
                  f"batch {_n(q['batch_seconds'], 2)} s" + (f", watermark {q['watermark']}" if q.get("watermark") else "")
                  + stalled)
        row(f"kafka:{name}", "Kafka → Spark", f"{name}: records behind", q["lag"], "records", detail,
            floor=q["in_flight"], needs=("kafka", "redis"))
    row("es", "Spark → Elasticsearch", "docs indexed/s", sample.get("es_docs_per_s"), "docs/s",
        f"refreshes {_n(sample.get('es_refreshes_per_s'), 1)}/s, write rejections {_n(sample.get('es_write_rejected'))}",
        kind="rate", needs=("elasticsearch",))
    reasons = sample.get("deadletter_reasons") or []
    row("dead", "dead letters", "per minute", sample.get("deadletters_per_min"), "/min",
        ", ".join(reasons) if reasons else "none in the last minute", kind="rate", needs=("elasticsearch",))
    model = sample.get("model_last_round")
    row("offers", "stage 3: SMS offers", "not delivered yet", sample.get("offers_pending"), "offers",
        f"{_n(sample.get('offers_queued'))} in the stream, {_n(sample.get('offers_dead'))} dead"
        + (f", model's last round {model}" if model else ", no training round yet"), floor=10, needs=("redis",))
    return rows


def mark_growing(rows: list[dict], history: list[dict]) -> list[dict]:
    """Each row's ``growing`` from the earlier samples (oldest first) and this one."""
    for r in rows:
        values = [next((h["value"] for h in s.get("rows", []) if h["key"] == r["key"]), None) for s in history]
        r["growing"] = r["kind"] == "lag" and growing([*values, r["value"]], r["floor"])
    return rows


def table(rows: list[dict], down: dict[str, str], s: Settings) -> str:
    """The rows as one plain-text table, each engine that did not answer on a line of its own."""
    urls = {"kafka": s.kafka_bootstrap_servers, "elasticsearch": s.es_url, "redis": s.redis_url}
    lines = [f"{'hop':<22} {'what':<26} {'now':>12}  detail"]
    for r in rows:
        now = "down" if r["state"] == "down" else f"{_n(r['value'], 1 if r['unit'].endswith('/s') else 0)}"
        mark = "  GROWING" if r.get("growing") else ""
        lines.append(f"{r['hop']:<22} {r['what']:<26} {now:>12}  {r['detail']}{mark}")
    lines.append("")
    for name in ENGINES:
        if name in down:
            lines.append(f"{name:<14} DOWN at {urls[name]} ({down[name]}): its numbers are unknown; "
                         "make services-status, then make services-up")
        else:
            lines.append(f"{name:<14} up at {urls[name]}")
    return "\n".join(lines)


# --- where samples go ------------------------------------------------------------------------
class Outputs:
    """ba_pipeline (buffered while Elasticsearch is away) and the Redis list the panel reads."""

    def __init__(self, collector: Collector, s: Settings):
        self.c, self.s = collector, s
        self.buffer: deque = deque(maxlen=BUFFERED_DOCS)
        self.keep = max(10, int(KEPT_SECONDS / s.pipeline_interval_seconds))
        self.lease = f"{s.redis_pipeline_samples}:collector"
        self.me = f"{socket.gethostname()}:{os.getpid()}"
        self.index_ready = False
        self.said: str | None = None

    def holds_lease(self) -> bool:
        r = self.c.engines.redis
        ttl = max(3, int(3 * self.s.pipeline_interval_seconds))
        if r.set(self.lease, self.me, nx=True, ex=ttl) or r.get(self.lease) == self.me:
            r.expire(self.lease, ttl)
            return True
        return False

    def write(self, sample: dict, rows: list[dict]) -> None:
        e = self.c.engines
        if not e.read("redis", self.holds_lease, True):
            self.say(f"another collector ({e.redis.get(self.lease)}) writes the samples; this one waits")
            return
        self.say(None)
        record = json.dumps({"at": int(time.time() * 1000), "engines_down": sample["engines_down"], "rows": rows})

        def push():
            tx = e.redis.pipeline(transaction=True)
            tx.lpush(self.s.redis_pipeline_samples, record)
            tx.ltrim(self.s.redis_pipeline_samples, 0, self.keep - 1)
            tx.expire(self.s.redis_pipeline_samples, 86400)
            tx.execute()
        e.read("redis", push)
        names = {f.name for f in PIPELINE_FIELDS}
        self.buffer.append({k: v for k, v in sample.items() if k in names})
        e.read("elasticsearch", self.flush)

    def flush(self) -> None:
        from elasticsearch import helpers

        from common.sinks import ensure_index
        if not self.index_ready:
            ensure_index(self.c.engines.es, self.s.index_pipeline, PIPELINE_FIELDS)
            self.index_ready = True
        docs = list(self.buffer)
        helpers.bulk(self.c.engines.es, ({"_index": self.s.index_pipeline, "_id": d["sampled_at"], "_source": d}
                                         for d in docs))
        for _ in docs:
            self.buffer.popleft()

    def say(self, line: str | None) -> None:
        if line and line != self.said:
            print(f"pipeline collector: {line}", flush=True)
        self.said = line


def history(s: Settings, engines: Engines) -> list[dict]:
    """The collector's recent samples from Redis, oldest first ([] without any)."""
    raw = engines.read("redis", lambda: engines.redis.lrange(s.redis_pipeline_samples, 0, 3), [])
    return [json.loads(x) for x in reversed(raw or [])]


def status(s: Settings) -> int:
    """`make status`: one sample as a table (rates from two readings 2 s apart: the enrichment's trigger)."""
    c = Collector(s)
    try:
        c.engines.read("elasticsearch", lambda: setattr(c, "node", c.node_stats()))
        if c.node is not None:
            time.sleep(2.0)
        sample = c.sample()
        rows = mark_growing(rows_of(sample), history(s, c.engines))
        print(table(rows, sample["down_reasons"], s))
    finally:
        c.engines.close()
    return 0


def run(s: Settings, stop: threading.Event, duration: float | None = None, offset_file: Path | None = None) -> int:
    c = Collector(s, offset_file)
    out = Outputs(c, s)
    print(f"pipeline collector: a sample every {s.pipeline_interval_seconds:g} s -> index {s.index_pipeline} "
          f"and Redis list {s.redis_pipeline_samples}", flush=True)
    recent: deque = deque(maxlen=3)
    started, cpu0 = time.monotonic(), time.process_time()
    was_down: list[str] = []
    try:
        while not stop.is_set() and (duration is None or time.monotonic() - started < duration):
            began = time.monotonic()
            sample = c.sample()
            rows = mark_growing(rows_of(sample), list(recent))
            recent.append({"rows": rows})
            out.write(sample, rows)
            if sample["engines_down"] != was_down:
                print("pipeline collector: " + (f"not answering: {', '.join(sample['engines_down'])}"
                                                if sample["engines_down"] else "every engine answers"), flush=True)
                was_down = sample["engines_down"]
            stop.wait(max(0.0, s.pipeline_interval_seconds - (time.monotonic() - began)))
    finally:
        c.engines.close()
    seconds = time.monotonic() - started
    print(f"pipeline collector: stopped after {seconds:.0f} s, CPU {time.process_time() - cpu0:.2f} s "
          f"({100 * (time.process_time() - cpu0) / max(seconds, 1e-9):.2f}% of a core)", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--once", action="store_true", help="one sample, printed as a table (make status)")
    p.add_argument("--duration", type=float, help="sample for this many seconds, then exit")
    p.add_argument("--offset-file", type=Path,
                   help="the shipper's offset file (default: the newest .runtime/offsets/shipper-*.json of LIVE_FILE)")
    a = p.parse_args(argv)
    s = get_settings()
    if a.once:
        return status(s)
    return run(s, stop_on_signals(), a.duration, a.offset_file)


if __name__ == "__main__":
    sys.exit(main())
