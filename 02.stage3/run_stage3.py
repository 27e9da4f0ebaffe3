"""Stage 3 in one command: stage 2 with live targeting, plus training and the SMS sender.

1. imports data/cust.csv into Redis (stage2.import_customers);
2. trains, gates and scores once (stage3.train), so targets exist before plays arrive;
3. runs together: stage 1's generator and shipper (to Kafka), stage 3's streaming
   job (stage 2's queries + targeting -> ba_realtime3, offers queued in Redis),
   the SMS sender and, when live (or bounded with --every), a retraining round
   every 10 minutes, run by the streaming job on its own Spark JVM (stage3.retrainer);
4. bounded (--max-events, or --duration at --rate): once the streaming job has
   handled this run's plays, the sender delivers what is still queued and the
   stage exits 0.

The drift scenario (--drift, ``make stage3 DRIFT=1``) is for teachers: offers
every minute instead of every day (OFFER_PERIOD_SECONDS=60), half of the other
Free/Silver customers offered too (OFFER_EXPLORE_SHARE=0.5), a short memory
(MODEL_HISTORY_CUSTOMERS=1500), 100 plays/s, a retraining round every 45 s and,
--drift-after seconds (90) after the plays start, the simulated customers change
their minds (stage3.outcomes). Its answers go to their own history
(sms:outcomes:drift), which each drift run starts afresh: every run tells the
same story, and the normal stage never learns from the scenario. Watch the rounds: the current model's error
rises, a round trained on the mixed history is REFUSED (the targets stay), and a
later one PASSES. Each setting can be overridden in the environment.

    python -m stage3.run_stage3                                # live, until Ctrl-C
    python -m stage3.run_stage3 --max-events 2000 --rate 200   # bounded
    python -m stage3.run_stage3 --every 30m --webhook http://127.0.0.1:8000/sms
    python -m stage3.run_stage3 --drift                         # the drift scenario, until Ctrl-C
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from common.bounded import Bounds
from common.config import REPO_ROOT, get_settings
from common.runner import Child, StageRunner
from stage1.run_stage1 import add_live_args
from stage2 import import_customers
from stage2.run_stage2 import streaming_children
from stage3 import sms_sender
from stage3.outcomes import outcomes_by_time, set_drift

PY = sys.executable

# the drift scenario's settings (environment variables win, so a teacher can tune them)
DRIFT_ENV = {"OFFER_PERIOD_SECONDS": "60", "OFFER_EXPLORE_SHARE": "0.5", "MODEL_HISTORY_CUSTOMERS": "1500",
             "REPLAY_RATE": "100",
             # its own outcome history: the normal stage never learns from the scenario's answers
             "REDIS_OUTCOMES_HASH": "sms:outcomes:drift"}
DRIFT_EVERY = "45s"


def parse_args(argv=None) -> argparse.Namespace:
    p = add_live_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]), get_settings())
    p.add_argument("--every", help="retrain this often (live: default 10m, 45s with --drift; bounded: only when given)")
    p.add_argument("--drift", action="store_true", help="the drift scenario (see above)")
    p.add_argument("--drift-after", type=float, default=90.0, help="with --drift: seconds of plays before the drift")
    p.add_argument("--webhook", help="deliver SMS by HTTP POST here instead of the outbox file")
    p.add_argument("--outbox", type=Path, help="outbox file (default .runtime/sms_outbox.jsonl)")
    return p.parse_args(argv)


def prepare() -> int:
    """Customers into Redis and one training round (model + targets) before plays arrive.
    Training runs as its own process, so its Spark JVM is gone once the round is done."""
    return import_customers.main([]) or subprocess.run([PY, "-m", "stage3.train"], cwd=REPO_ROOT).returncode


def children(args: argparse.Namespace) -> tuple[list[Child], bool]:
    """The stage's processes, and whether the run is bounded; the demo adds the dashboard."""
    bounded = Bounds.from_args(args).planned_events() is not None
    retrain = []
    if not bounded or args.every:        # bounded runs retrain only when asked (make memory does)
        # the rounds run inside the streaming job, on its Spark JVM (stage3.retrainer)
        retrain = ["--retrain-every", args.every or (DRIFT_EVERY if args.drift else "10m")]
    kids, _ = streaming_children(get_settings(), args, job="stage3.streaming_job", job_args=tuple(retrain))
    kids.append(Child("sms", [PY, "-m", "stage3.sms_sender", *sender_args(args)]))
    return kids, bounded


def sender_args(args: argparse.Namespace) -> list[str]:
    # one consumer name for the live sender and the final drain: the drain resumes at once
    # the offers the stopped sender had read, instead of waiting SMS_CLAIM_IDLE_SECONDS
    return ["--consumer", f"{sms_sender.default_consumer()}-stage3",
            *(["--webhook", args.webhook] if args.webhook else []),
            *(["--outbox", str(args.outbox)] if args.outbox else [])]


def run(args: argparse.Namespace, extra: list[Child] = (), grace: float = 20.0) -> int:
    """Run the stage (and ``extra`` children beside it) until done or Ctrl-C."""
    kids, bounded = children(args)
    code = StageRunner(kids + list(extra), grace=grace).run(until=["streaming"] if bounded else None)
    if code == 0 and bounded:
        # the last micro-batch may have queued offers after the sender was stopped
        code = sms_sender.main(["--until-idle", "3", *sender_args(args)])
    return code


def switch_drift(args: argparse.Namespace) -> None:
    """Schedule the drift (--drift) or make sure none is left from an earlier run."""
    from common.clients import redis_client

    s = get_settings()
    set_drift(redis_client(s), s, time.time() + args.drift_after if args.drift else None)
    if args.drift:
        print(f"drift scenario: the customers change their minds in {args.drift_after:.0f} s; "
              f"{', '.join(f'{k}={os.environ[k]}' for k in DRIFT_ENV)}", flush=True)


def forget_outcomes() -> None:
    """The drift scenario starts from clicks.csv alone (its own history, emptied)."""
    from common.clients import redis_client

    s = get_settings()
    r = redis_client(s)
    print(f"drift scenario: forgetting {r.hlen(s.redis_outcomes_hash):,} earlier offer outcomes", flush=True)
    r.delete(s.redis_outcomes_hash, outcomes_by_time(s))


def main(argv=None) -> int:
    if "--drift" in (sys.argv[1:] if argv is None else argv):
        for name, value in DRIFT_ENV.items():      # before any settings are read, so children inherit them
            os.environ.setdefault(name, value)
        get_settings.cache_clear()
    args = parse_args(argv)
    if args.drift:
        forget_outcomes()
    code = prepare()
    if code:
        return code
    switch_drift(args)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
