"""Shipper: tail the live listening log and ship it, to Elasticsearch (stage 1) or Kafka (stage 2).

It follows 00.stage1/tracks_live.csv like Logstash's file input: only complete
lines, in batches, and it remembers how far it got (an offset file under
.runtime/offsets/, written only after the sink confirmed a batch), so a restart
resumes without losing or repeating a line.

  --sink es     parse each line (common.events), bulk-index good ones into the
                stage-1 index with event_id as _id (a re-run overwrites, never
                duplicates); malformed lines go, with their reason, to the
                dead-letter index.
  --sink kafka  send every non-empty line unchanged to the Kafka topic, keyed by
                customer id, for stage 2's Spark job (which parses and dead-letters).
  --history     load the whole data/tracks.csv, original timestamps, as fast as
                the bulk API allows (refresh turned off during the load).

When the sink's engine goes away (killed, paused, restarting) the shipper
waits for it with one status line per retry (common.retry) and then goes on
with the same batch: nothing is committed before the sink confirmed it, so
nothing is lost, and nothing is sent twice (Elasticsearch: same ids; Kafka: the
idempotent producer keeps the unacknowledged messages and delivers them once).
It exits 1, saying so, only after ENGINE_GIVE_UP_SECONDS without the engine.

A bounded run ships until its own plays are shipped: ``--max-events N`` with
``--first-event-id F`` waits for the plays F .. F+N-1 (what the generator wrote
for this run); lines an earlier run left behind are shipped too, first, and
reported as backlog. Without --first-event-id every line counts.

    python -m stage1.shipper                             # live, to ES, until Ctrl-C
    python -m stage1.shipper --max-events 2000           # exit 0 once 2000 lines are searchable
    python -m stage1.shipper --sink kafka                # stage 2
    python 00.stage1/shipper.py --history                # months of data for the charts
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO, Iterator

from confluent_kafka import KafkaException

from common.bounded import Bounds, add_bounded_args, stop_on_signals
from common.clients import EngineUnavailable, WritesRefused, ensure_topic, es_client
from common.config import Settings, get_settings
from common.events import RAW_KEEP_BYTES, Rejected, customer_key, event_id_of, parse_event, too_long_line
from common.progress import ProgressLine
from common.retry import call_with_retry, error_type, is_engine_error, is_refusal
from common.schema import DEADLETTER_FIELDS, STAGE1_DOC_FIELDS
from common.sinks import EsBulkSink, KafkaEventProducer, ensure_index
from stage1.follower import FileFollower, Line

# A live batch is sent when it has this many lines, or when the file has been
# quiet for one poll (LIVE_POLL_SECONDS): small batches keep latency low at 5
# events/s, big ones keep up at thousands per second. A line waits half a poll
# on average before it is read (bench/README.md: the append -> Kafka hop).
LIVE_BATCH_LINES = 500
LIVE_POLL_SECONDS = 0.1


class ToElasticsearch:
    """Parse lines; index events, dead-letter the rest. ``ship`` returns when ES confirmed."""

    def __init__(self, settings: Settings, index: str, stop: threading.Event | None = None):
        self.url, self.stop = settings.es_url, stop
        self.es = es_client(settings, check=False)
        self.index = index
        self.retry(lambda: (ensure_index(self.es, index, STAGE1_DOC_FIELDS),
                            ensure_index(self.es, settings.index_deadletter, DEADLETTER_FIELDS)))
        self.sink = EsBulkSink(self.es, index, settings.index_deadletter, source="shipper",
                               chunk_size=settings.bulk_size)
        self.counts = {"shipped": 0, "indexed": 0, "rejected": 0}

    def retry(self, call):
        """``call()``, waiting while Elasticsearch does not answer or refuses writes (common.retry)."""
        return call_with_retry(call, "Elasticsearch", self.url, stop=self.stop)

    def ship(self, lines: list[Line]) -> None:
        docs, bad = [], []
        for line in lines:
            parsed = parse_event(line.data)
            if isinstance(parsed, Rejected):
                bad.append((parsed.reason, parsed.raw, f"{line.position.inode}:{line.offset}"))
            else:
                docs.append(parsed)
        # the whole batch again after an outage: same ids, so nothing is doubled
        result = self.retry(lambda: (self.sink.write(docs), self.sink.write_deadletters(bad))[0])
        self.counts["shipped"] += len(lines)
        self.counts["indexed"] += result.indexed
        self.counts["rejected"] += len(bad) + len(result.failed)

    def finish(self) -> str:
        self.retry(self.sink.refresh)   # everything shipped is searchable when we return
        total = self.retry(lambda: self.es.count(index=self.index)["count"])
        return f"(index {self.index} now holds {total} documents)"


class ToKafka:
    """Send raw lines keyed by customer id; ``ship`` returns when every broker acknowledged."""

    def __init__(self, settings: Settings, topic: str, stop: threading.Event | None = None):
        self.url, self.stop, self.timeout = settings.kafka_bootstrap_servers, stop, settings.engine_timeout_seconds
        self.topic = topic
        call_with_retry(lambda: ensure_topic(topic, settings=settings), "Kafka", self.url, stop=stop)
        # librdkafka keeps an unacknowledged message and retries it by itself while the
        # broker is away; it gives one up only after the give-up time, as we do.
        give_up_ms = int(settings.engine_give_up_seconds * 1000)
        self.producer = call_with_retry(
            lambda: KafkaEventProducer(settings, topic, **{"message.timeout.ms": give_up_ms}),
            "Kafka", self.url, stop=stop)
        self.counts = {"shipped": 0, "sent": 0, "rejected": 0}

    def ship(self, lines: list[Line]) -> None:
        for line in lines:
            if line.data.strip():   # source: the line's place in its file, the same on a re-send
                self.producer.send(line.data, key=customer_key(line.data),
                                   source=f"{line.position.inode}:{line.offset}")
        sent = sum(1 for line in lines if line.data.strip())
        # Wait for the acknowledgements, one status line per timeout while the broker
        # is away. Nothing is sent again: the messages wait in librdkafka's queue.
        call_with_retry(lambda: self.producer.flush(timeout=self.timeout), "Kafka", self.url, stop=self.stop)
        self.counts["shipped"] += len(lines)
        self.counts["sent"] += sent
        self.counts["rejected"] += len(lines) - sent   # empty lines: nothing to send

    def finish(self) -> str:
        self.producer.close()
        return f"(topic {self.topic})"


def default_offset_file(settings: Settings, sink: str, target: str, live_file: Path) -> Path:
    """One offset file per (sink, target, live file, engine): shipping to a new index, or
    to another Kafka or Elasticsearch (a cluster: Settings.place_tag), starts over."""
    tag = hashlib.sha1(str(live_file.resolve()).encode()).hexdigest()[:8]
    place = settings.place_tag("kafka" if sink == "kafka" else "elasticsearch")
    return settings.runtime_dir / "offsets" / f"shipper-{sink}-{target}{place}-{tag}.json"


class OwnPlays:
    """Tells the lines of this run (event ids first .. first+count-1) from the
    backlog of earlier runs. Without ``first`` every line counts as this run's."""

    def __init__(self, first: int | None, count: int | None):
        self.first, self.count = first, count
        self.own = self.backlog = 0

    def is_own(self, line: bytes) -> bool:
        if self.first is None:
            return True
        event_id = event_id_of(line)
        return event_id is not None and self.first <= event_id < self.first + (self.count or 1 << 62)


def ship_live(follower: FileFollower, sink, bounds: Bounds, stop: threading.Event,
              plays: OwnPlays) -> None:
    """Ship batches of complete lines; commit each batch's position once the sink confirmed it."""
    batch: list[Line] = []
    own_in_batch = 0
    with ProgressLine(f"shipping {follower.path.name}", total=bounds.max_events) as progress:
        for line in follower.lines(stop=stop, idle_ticks=True):
            if line is not None:
                batch.append(line)
                own_in_batch += plays.is_own(line.data)
            enough = bounds.max_events is not None and plays.own + own_in_batch >= bounds.max_events
            if batch and (line is None or len(batch) >= LIVE_BATCH_LINES or enough):
                sink.ship(batch)                        # waits while the engine is away
                follower.commit(batch[-1].position)     # only after the sink confirmed
                plays.own += own_in_batch
                plays.backlog += len(batch) - own_in_batch
                progress.advance(len(batch), rejected=sink.counts["rejected"])
                batch, own_in_batch = [], 0
            if bounds.done(plays.own, stop):
                break
    # lines read but not confirmed (Ctrl-C mid-batch) are simply read again next time


def history_lines(f: BinaryIO, max_line_bytes: int) -> Iterator[bytes]:
    """The lines of a file, newline kept, holding at most ``max_line_bytes`` of any one:
    a longer line (even one that never ends) is read past in bounded pieces and handed
    over as its short stand-in (common.events.too_long_line), which parse_event rejects
    as line_too_long, as the live follower does."""
    start = 0
    while data := f.readline(max_line_bytes + 1):
        if len(data) > max_line_bytes and not data.endswith(b"\n"):
            head, length = data[:RAW_KEEP_BYTES], len(data)
            while data and not data.endswith(b"\n"):       # skip the rest, 1 MiB at a time
                data = f.readline(1 << 20)
                length += len(data)
            length -= data.endswith(b"\n")
            yield too_long_line(head, length, start)
            start += length + 1
        else:
            yield data
            start += len(data)


def count_lines(source: Path) -> int:
    """Lines in a file (a last one without newline counts), read in 1 MiB blocks."""
    lines, last = 0, b"\n"
    with open(source, "rb") as f:
        while block := f.read(1 << 20):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (last != b"\n")


def ship_history(source: Path, sink: ToElasticsearch, bulk_size: int,
                 max_events: int | None, stop: threading.Event) -> None:
    """Bulk-load a whole file with its own timestamps: this thread parses and builds each
    bulk body (NDJSON bytes, orjson), two others send them; periodic refresh and
    replicas are off during the load and restored after it (also on Ctrl-C)."""
    import orjson

    s = get_settings()
    total = count_lines(source)
    if max_events is not None:
        total = min(total, max_events)
    bad: list[tuple[str, str, str]] = []
    es, index = sink.es, sink.index
    received_at = datetime.now(timezone.utc).replace(tzinfo=None)   # one clock for the whole file

    def send(parts: list[bytes], ids: list[str]) -> None:
        """One bulk request. Documents refused for what they hold are dead letters; those
        refused for the engine's state (full queue, read-only index: is_refusal) are
        sent again, with backoff, until Elasticsearch takes them."""
        def attempt():
            nonlocal parts, ids
            reply = es.bulk(index=index, operations=b"".join(parts),
                            filter_path="errors,items.*.status,items.*.error")
            if not reply["errors"]:
                return
            again, refused = [], []
            for i, item in enumerate(reply["items"]):
                info = item["index"]
                if "error" not in info:
                    continue
                if is_refusal(info.get("status"), info["error"]):
                    again.append(i)
                    refused.append(error_type(info["error"]))
                else:
                    bad.append((f"index_error: {info['error'].get('type')}", str(info), ids[i]))
            parts, ids = [parts[i] for i in again], [ids[i] for i in again]
            if parts:
                raise WritesRefused(refused)

        sink.retry(attempt)

    previous = sink.retry(lambda: es.indices.get_settings(index=index, flat_settings=True))[index]["settings"]
    # Refreshing makes new segments searchable and replicas copy every document;
    # during a bulk load both are wasted work, so they are off until it ends.
    sink.retry(lambda: es.indices.put_settings(index=index, settings={"index.refresh_interval": "-1",
                                                                      "index.auto_expand_replicas": "false",
                                                                      "index.number_of_replicas": 0}))
    started = time.monotonic()
    in_flight: deque = deque()
    sent = unparsed = 0
    try:
        with ProgressLine(f"loading {source.name}", total=total) as progress, \
                ThreadPoolExecutor(2, thread_name_prefix="bulk") as pool, open(source, "rb") as f:
            def wait_oldest():
                n, future = in_flight.popleft()
                future.result()                               # raises if ES went away
                progress.advance(n, rejected=len(bad))

            parts: list[bytes] = []
            ids: list[str] = []
            for number, raw in enumerate(history_lines(f, s.max_line_bytes)):
                if number >= total or stop.is_set():
                    break
                parsed = parse_event(raw, received_at, s.max_event_lead_seconds, s.max_line_bytes)
                if isinstance(parsed, Rejected):
                    bad.append((parsed.reason, parsed.raw, f"{source.name}:{number}"))
                    unparsed += 1
                    continue
                sent += 1
                event_id = str(parsed["event_id"])
                parts.append(b'{"index":{"_id":"%s"}}\n%s\n' % (event_id.encode(), orjson.dumps(parsed)))
                ids.append(event_id)
                if len(parts) >= bulk_size:
                    in_flight.append((len(parts), pool.submit(send, parts, ids)))
                    parts, ids = [], []
                    if len(in_flight) > 2:                    # at most 3 bodies in memory
                        wait_oldest()
            if parts:
                in_flight.append((len(parts), pool.submit(send, parts, ids)))
            while in_flight:
                wait_oldest()
    finally:
        for future in in_flight:
            future.cancel()
        sink.retry(lambda: es.indices.put_settings(index=index, settings={
            "index.refresh_interval": previous.get("index.refresh_interval"),      # None: the default
            "index.auto_expand_replicas": previous.get("index.auto_expand_replicas"),  # None: false
            "index.number_of_replicas": previous.get("index.number_of_replicas", "1")}))
    seconds = time.monotonic() - started
    sink.retry(lambda: sink.sink.write_deadletters(bad))
    sink.counts["indexed"] = sent - (len(bad) - unparsed)     # the rest of ``bad``: refused by ES
    sink.counts["rejected"] = len(bad)
    sink.counts["shipped"] = sent + unparsed
    print(f"history: {sink.counts['indexed']} events in {seconds:.1f} s = "
          f"{sink.counts['indexed'] / max(seconds, 1e-9):,.0f} events/s (bulk size {bulk_size}), "
          f"{len(bad)} rejected", flush=True)


def main(argv: list[str] | None = None) -> int:
    s = get_settings()
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_bounded_args(p, rate=False, what="lines of this run")
    p.add_argument("--first-event-id", type=int, help="this run's plays start at this id (see above)")
    p.add_argument("--sink", choices=["es", "kafka"], default="es")
    p.add_argument("--live-file", type=Path, default=s.live_file)
    p.add_argument("--offset-file", type=Path, help="default: .runtime/offsets/shipper-<sink>-<target>-<hash>.json")
    p.add_argument("--index", default=s.index_stage1, help="Elasticsearch index (--sink es)")
    p.add_argument("--topic", default=s.kafka_topic, help="Kafka topic (--sink kafka)")
    p.add_argument("--history", action="store_true", help="bulk-load --source with original timestamps")
    p.add_argument("--source", type=Path, default=s.data_dir / "tracks.csv", help="file for --history")
    p.add_argument("--bulk-size", type=int, default=s.bulk_size, help="documents per bulk request")
    a = p.parse_args(argv)
    bounds, stop = Bounds.from_args(a), stop_on_signals()
    plays = OwnPlays(a.first_event_id, a.max_events)

    try:
        if a.history:
            if not a.source.exists():
                print(f"{a.source} is missing; generate it with: make data", file=sys.stderr)
                return 1
            sink = ToElasticsearch(s, a.index, stop)
            try:
                ship_history(a.source, sink, a.bulk_size, a.max_events, stop)
            except Exception as exc:   # noqa: BLE001 - only an engine gone away is told apart
                if not is_engine_error(exc):
                    raise
                print(f"shipper: Elasticsearch at {s.es_url} went away during the load ({type(exc).__name__}); "
                      "run it again when it is back (same ids: nothing is doubled)", file=sys.stderr)
                return 1
        else:
            target = a.index if a.sink == "es" else a.topic
            sink = ToElasticsearch(s, a.index, stop) if a.sink == "es" else ToKafka(s, a.topic, stop)
            offset_file = a.offset_file or default_offset_file(s, a.sink, target, a.live_file)
            follower = FileFollower(a.live_file, offset_file, poll_interval=LIVE_POLL_SECONDS)
            print(f"shipper: following {a.live_file} -> {a.sink}:{target} (offsets in {offset_file})",
                  flush=True)
            ship_live(follower, sink, bounds, stop, plays)
        where = sink.finish()
    except EngineUnavailable as exc:
        if stop.is_set():           # Ctrl-C while waiting for an engine: what is not committed is shipped next time
            print("shipper: stopped while waiting for the engine", flush=True)
            return 0
        print(f"shipper: {exc}", file=sys.stderr)
        return 1
    except KafkaException as exc:   # a message not delivered within the give-up time
        print(f"shipper: Kafka at {s.kafka_bootstrap_servers} did not take the messages "
              f"({exc.args[0].str()}); they are sent again at the next start", file=sys.stderr)
        return 1
    c = sink.counts
    backlog = f", {plays.backlog} of them left by earlier runs" if plays.first is not None and plays.backlog else ""
    print(f"shipper: shipped {c['shipped']} events{backlog}, rejected {c['rejected']}, "
          + (f"indexed {c['indexed']} " if "indexed" in c else f"sent {c['sent']} ") + where, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
