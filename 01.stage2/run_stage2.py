"""Stage 2 in one command: customers -> Redis, then generator -> shipper -> Kafka -> Spark.

1. imports data/cust.csv into Redis hashes (stage2.import_customers), then runs together:
2. stage 1's live generator, appending new plays to the live file,
3. stage 1's shipper with its Kafka sink (topic `realtime`, keyed by customer),
4. the streaming job (stage2.streaming_job): enrichment + interest list.
Ctrl-C stops all of them cleanly (each prints its summary). An engine that goes
away is waited for by each part on its own (docs/faults.md); the stage stops
only when a part gives up after ENGINE_GIVE_UP_SECONDS.

Bounded (--max-events, or --duration at --rate) the stage exits 0 once the
streaming job has handled exactly this run's plays (by their event ids). A job
that never ran starts at the topic's current end: records other stages put in
Kafka before are theirs; records an earlier stage-2 run left unprocessed come
first, and are reported as backlog.

    python -m stage2.run_stage2                                # live, until Ctrl-C
    python -m stage2.run_stage2 --max-events 2000 --rate 200   # exit 0 once 2000 are searchable
    make stage2 MAX_EVENTS=2000 RATE=200                       # the same, engines and data first
"""
from __future__ import annotations

import argparse
import json
import sys

from common.clients import EngineUnavailable, ensure_topic, topic_end_offsets
from common.config import Settings, get_settings
from common.retry import call_with_retry
from common.runner import Child, StageRunner
from stage1.run_stage1 import LiveRun, add_live_args, plan_live_run
from stage2 import import_customers

PY = sys.executable


def parse_args(argv=None, doc: str = __doc__) -> argparse.Namespace:
    return add_live_args(argparse.ArgumentParser(description=doc.splitlines()[0]), get_settings()).parse_args(argv)


def streaming_children(s: Settings, args: argparse.Namespace, job: str = "stage2.streaming_job",
                       job_args: tuple[str, ...] = ()) -> tuple[list[Child], LiveRun]:
    """Generator, shipper (Kafka) and the streaming ``job`` module, and the run they
    make (bounded or live); stage 3 passes its own job and options."""
    # where the job starts if it has no checkpoint yet: the topic's end, now
    # (waiting for Kafka with one status line if it is restarting)
    ends = call_with_retry(lambda: (ensure_topic(s.kafka_topic, settings=s), topic_end_offsets(s.kafka_topic, s))[1],
                           "Kafka", s.kafka_bootstrap_servers)
    start = json.dumps({s.kafka_topic: {str(p): o for p, o in ends.items()}})
    run: LiveRun = plan_live_run(s, args, "kafka", s.kafka_topic)
    return [run.generator(),
            run.shipper("--sink", "kafka", "--topic", s.kafka_topic),
            Child("streaming", [PY, "-m", job, "--starting-offsets", start, *run.own_plays_args(), *job_args])], run


def main(argv=None) -> int:
    s = get_settings()
    args = parse_args(argv)
    code = import_customers.main([])
    if code != 0:
        return code
    try:
        children, run = streaming_children(s, args)
    except EngineUnavailable as exc:      # Kafka gone for longer than ENGINE_GIVE_UP_SECONDS
        print(f"stage 2: {exc}", file=sys.stderr)
        return 1
    # Bounded: done when the streaming job has indexed this run's plays and exited.
    return StageRunner(children).run(until=["streaming"] if run.events is not None else None)


if __name__ == "__main__":
    sys.exit(main())
