"""Stage 3 in one command: stage 2 with targeting on, plus training and the SMS sender.

1. imports data/cust.csv into Redis (01.stage2/import_customers.py);
2. trains, gates and scores once (02.stage3/train.py), so targets exist before plays arrive;
3. runs together: the generator, the shipper (Kafka), the streaming job with
   --stage3 (queues offers, writes ba_realtime3), the SMS sender and, when live,
   the retrainer (train.py --every, 10m by default);
4. bounded (--max-events / --duration): once the streaming job is done, the
   sender delivers what is still queued (--until-idle) and the stage exits 0.

    python 02.stage3/run_stage3.py                                # live, until Ctrl-C
    python 02.stage3/run_stage3.py --max-events 2000 --rate 200   # bounded
    python 02.stage3/run_stage3.py --every 30m --webhook http://127.0.0.1:8000/sms
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # for `common`

from common.config import REPO_ROOT  # noqa: E402
from common.runner import Child, StageRunner  # noqa: E402
from common.scripts import load_script  # noqa: E402

PY = sys.executable


def _stage2():
    """01.stage2/run_stage2.py, whose children (generator, shipper, job) stage 3 reuses."""
    return load_script("01.stage2/run_stage2.py")


def parse_args(argv=None):
    p = _stage2().add_stage_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    p.add_argument("--every", default="10m", help="live: retrain this often (default 10m)")
    p.add_argument("--webhook", help="deliver SMS by HTTP POST here instead of the outbox file")
    p.add_argument("--outbox", type=Path, help="outbox file (default .runtime/sms_outbox.jsonl)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    bounded = bool(args.max_events or args.duration)
    sender_opts = [*(["--webhook", args.webhook] if args.webhook else []),
                   *(["--outbox", str(args.outbox)] if args.outbox else [])]

    for step in (["01.stage2/import_customers.py"], ["02.stage3/train.py"]):
        done = subprocess.run([PY, *step], cwd=REPO_ROOT)
        if done.returncode != 0:
            return done.returncode

    children = _stage2().stage2_children(args, stage3=True)
    children.append(Child("sms", [PY, "02.stage3/sms_sender.py", *sender_opts]))
    if not bounded:
        children.append(Child("retrain", [PY, "02.stage3/train.py", "--every", args.every, "--skip-first"]))
    code = StageRunner(children).run(until=["streaming"] if bounded else None)
    if code == 0 and bounded:
        # the last micro-batch may have queued offers after the sender was stopped
        code = subprocess.run([PY, "02.stage3/sms_sender.py", "--until-idle", "3", *sender_opts],
                              cwd=REPO_ROOT).returncode
    return code


if __name__ == "__main__":
    sys.exit(main())
