"""Stage 2 in one command: customers -> Redis, then generator -> shipper -> Kafka -> Spark.

1. imports data/cust.csv into Redis hashes (01.stage2/import_customers.py), then runs together:
2. the live generator (00.stage1/live_generator.py) appending plays to the live file,
3. the shipper with its Kafka sink (00.stage1/shipper.py --sink kafka),
4. the streaming job (01.stage2/streaming_job.py): enrichment + interest list.
Ctrl-C stops all of them cleanly (each prints its summary).

    python 01.stage2/run_stage2.py                                # live, until Ctrl-C
    python 01.stage2/run_stage2.py --max-events 2000 --rate 200   # exit 0 once 2000 are indexed
    python 01.stage2/run_stage2.py --duration 60
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # for `common`

from common.config import REPO_ROOT, get_settings
from common.runner import Child, StageRunner

PY = sys.executable


def bounded(args, extra_seconds: float = 0) -> list[str]:
    out = []
    if args.max_events:
        out += ["--max-events", str(args.max_events)]
    if args.duration:
        out += ["--duration", str(args.duration + extra_seconds)]
    return out


def stage2_children(args, stage3: bool = False) -> list[Child]:
    """Generator, shipper (Kafka) and streaming job; run_stage3.py reuses this."""
    s = get_settings()
    live = str(args.live_file)
    rate = ["--rate", str(args.rate)] if args.rate else []
    return [
        Child("generator", [PY, "00.stage1/live_generator.py", "--source", str(args.source),
                            "--out", live, *rate, *bounded(args)]),
        # With --duration the shipper and the job get a few seconds more to drain the tail.
        Child("shipper", [PY, "00.stage1/shipper.py", "--sink", "kafka", "--live-file", live,
                          "--topic", s.kafka_topic, *bounded(args, 3)]),
        Child("streaming", [PY, "01.stage2/streaming_job.py", *bounded(args, 5),
                            *(["--stage3"] if stage3 else [])]),
    ]


def add_stage_args(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of a streaming stage; run_stage3.py adds its own to these."""
    s = get_settings()
    p.add_argument("--max-events", type=int, help="stop once this many events are indexed")
    p.add_argument("--rate", type=float, help=f"events per second (default {s.replay_rate})")
    p.add_argument("--duration", type=float, help="generate for this many seconds, then finish")
    p.add_argument("--live-file", type=Path, default=s.live_file)
    p.add_argument("--source", type=Path, default=s.data_dir / "tracks.csv", help="plays to replay")
    return p


def parse_args(argv=None):
    return add_stage_args(argparse.ArgumentParser(description=__doc__.splitlines()[0])).parse_args(argv)


def main() -> int:
    args = parse_args()
    imported = subprocess.run([PY, "01.stage2/import_customers.py"], cwd=REPO_ROOT)
    if imported.returncode != 0:
        return imported.returncode
    runner = StageRunner(stage2_children(args))
    # Bounded: done when the streaming job has indexed everything and exited.
    return runner.run(until=["streaming"] if (args.max_events or args.duration) else None)


if __name__ == "__main__":
    sys.exit(main())
