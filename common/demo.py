"""``make demo``: the whole pipeline, live, with the dashboard.

    python -m common.demo                     until Ctrl-C
    python -m common.demo --duration 60       stop everything after 60 s, exit 0
    python -m common.demo --history 20000     load only this many history plays

What it runs (``make demo`` has already done setup, data and services-up):

1. history: the plays of data/tracks.csv, with their original timestamps, into
   the stage-1 index (skipped when it already holds them), so notebook 1 and
   Kibana have months to look at;
2. stage 3 live (the parts of 02.stage3/run_stage3.py): customers into Redis,
   one training round (model + ad targets), then generator -> shipper -> Kafka ->
   streaming job (enrich, interest list, targeting) -> Elasticsearch/Redis ->
   SMS sender, with retraining every 10 minutes;
3. the dashboard (03.stage4/run_stage4.py) on http://127.0.0.1:3000.

Ctrl-C (or --duration) stops every part; each prints its summary.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading

from common.config import REPO_ROOT, get_settings
from common.runner import Child, StageRunner
from common.scripts import load_script

PY = sys.executable
DEMO_RATE = 20.0   # events/s: fast enough that the charts move, slow enough to read the feed


def _indexed(index: str) -> int:
    from elasticsearch import Elasticsearch, NotFoundError

    try:
        return Elasticsearch(**get_settings().es_client_kwargs()).count(index=index)["count"]
    except NotFoundError:
        return 0


def load_history(limit: int | None) -> int:
    """Bulk-load the first ``limit`` plays (all when None) into the stage-1 index."""
    s = get_settings()
    source = s.data_dir / "tracks.csv"
    if limit:
        subset = s.runtime_dir / f"demo_history_{limit}.csv"
        if not subset.exists():
            s.runtime_dir.mkdir(parents=True, exist_ok=True)
            with open(source, "rb") as src, open(subset, "wb") as out:
                for i, line in enumerate(src):
                    if i >= limit:
                        break
                    out.write(line)
        source = subset
    with open(source, "rb") as f:
        lines = sum(1 for _ in f)
    if _indexed(s.index_stage1) >= lines:
        print(f"==> history: {s.index_stage1} already holds {lines:,} plays, not loading again", flush=True)
        return 0
    print(f"==> history: loading {lines:,} plays into {s.index_stage1}", flush=True)
    return subprocess.run([PY, "00.stage1/shipper.py", "--history", "--source", str(source)],
                          cwd=REPO_ROOT).returncode


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, help="stop everything after this many seconds (exit 0)")
    p.add_argument("--history", type=int, default=int(os.environ.get("DEMO_HISTORY", 0)) or None,
                   help="load only this many history plays (default: all of data/tracks.csv)")
    p.add_argument("--rate", type=float, default=float(os.environ.get("DEMO_RATE", DEMO_RATE)),
                   help=f"live events per second (default {DEMO_RATE:g})")
    args = p.parse_args(argv)
    s = get_settings()

    code = load_history(args.history)
    if code != 0:
        return code
    # customers into Redis and one training round (model + targets) before the
    # clock of --duration starts: a round on the full history takes about a minute
    for step in (["01.stage2/import_customers.py"], ["02.stage3/train.py"]):
        code = subprocess.run([PY, *step], cwd=REPO_ROOT).returncode
        if code != 0:
            return code
    url = f"http://{s.bind_host}:{s.dashboard_port}"
    print(f"==> live pipeline (stage 3 on) and the dashboard: {url}\n"
          "    look at: plays per minute and mobile share moving, the US map, top tracks,\n"
          "    and SMS offers appearing in the feed once targeted customers play\n", flush=True)
    stage3 = load_script("02.stage3/run_stage3.py")
    stage3_args = stage3.parse_args(["--rate", str(args.rate)])
    children = stage3._stage2().stage2_children(stage3_args, stage3=True) + [
        Child("sms", [PY, "02.stage3/sms_sender.py"]),
        Child("retrain", [PY, "02.stage3/train.py", "--every", "10m", "--skip-first"]),
        Child("dashboard", [PY, "03.stage4/run_stage4.py"]),
    ]
    runner = StageRunner(children, grace=40)
    timer = None
    if args.duration:
        timer = threading.Timer(args.duration, runner.request_stop)
        timer.daemon = True
        timer.start()
    code = runner.run()
    if timer is not None and not timer.is_alive() and code == 130:
        code = 0                        # stopped by --duration, as asked
    print(f"==> demo finished (exit {code}); engines are still running: make services-down to stop them",
          flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
