"""``make demo``: the whole pipeline, live, with the dashboard.

    python -m tools.demo                      until Ctrl-C
    python -m tools.demo --duration 60        60 s of live plays, then finish them and exit 0
    python -m tools.demo --history 20000      load only this many history plays
    python -m tools.demo --every 2m           live, retraining every 2 minutes (default 10m)

What it runs (``make demo`` has already done setup, data and services-up), all
through the stages' own public functions:

1. history: the plays of data/tracks.csv, with their original timestamps, into
   the stage-1 index (skipped when it already holds them), so notebook 1 and
   Kibana have months to look at;
2. stage 3 (stage3.run_stage3): customers into Redis, one training round (model
   + ad targets), then generator -> shipper -> Kafka -> streaming job (enrich,
   interest list, targeting) -> Elasticsearch/Redis -> SMS sender, with
   retraining every 10 minutes when live (in the streaming job's own Spark);
3. beside it, the dashboard (stage4.run_stage4) on http://127.0.0.1:3000, with the
   pipeline collector (stage4.pipeline) that its Pipeline panel draws.

Every demo replays NEW plays (new event ids, continuing the last run's), so the
dashboard's counts grow from one demo to the next. --duration D makes the run
bounded like ``make stage3 DURATION=D``: rate x D plays, then the demo exits 0
once they are all searchable. Ctrl-C stops every part; each prints its summary.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

from common.config import REPO_ROOT, get_settings
from common.runner import Child
from stage3 import run_stage3

PY = sys.executable
DEMO_RATE = 20.0   # events/s: fast enough that the charts move, slow enough to read the feed


def _holds_history(index: str, lines: int, first_id: str, last_id: str) -> bool:
    """The index holds at least ``lines`` documents, the history's first and last among them."""
    from common.clients import es_client

    es = es_client(get_settings())
    if not es.indices.exists(index=index):
        return False
    return (es.count(index=index)["count"] >= lines
            and es.exists(index=index, id=first_id) and es.exists(index=index, id=last_id))


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
    lines, first, last = 0, b"", b""
    with open(source, "rb") as f:
        for lines, last in enumerate(f, 1):
            first = first or last
    first_id, last_id = (line.split(b",", 1)[0].decode() for line in (first, last))
    if lines and _holds_history(s.index_stage1, lines, first_id, last_id):
        print(f"==> history: {s.index_stage1} already holds {lines:,} plays, not loading again", flush=True)
        return 0
    print(f"==> history: loading {lines:,} plays into {s.index_stage1}", flush=True)
    return subprocess.run([PY, "-m", "stage1.shipper", "--history", "--source", str(source)],
                          cwd=REPO_ROOT).returncode


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, help="live plays for this many seconds, then finish and exit 0")
    p.add_argument("--history", type=int, default=int(os.environ.get("DEMO_HISTORY", 0)) or None,
                   help="load only this many history plays (default: all of data/tracks.csv)")
    p.add_argument("--rate", type=float, default=float(os.environ.get("DEMO_RATE", DEMO_RATE)),
                   help=f"live events per second (default {DEMO_RATE:g})")
    p.add_argument("--every", default=os.environ.get("DEMO_EVERY"),
                   help="live: retrain this often (default 10m); make memory uses it to see a round")
    args = p.parse_args(argv)
    s = get_settings()

    # history, customers and one training round before the live part starts:
    # a round on the full history takes about a minute
    code = load_history(args.history) or run_stage3.prepare()
    if code != 0:
        return code
    url = f"http://{s.bind_host}:{s.dashboard_port}"
    print(f"==> live pipeline (stage 3) and the dashboard: {url}\n"
          "    look at: plays per minute and mobile share moving, the US map, top tracks,\n"
          "    and SMS offers appearing in the feed once targeted customers play;\n"
          "    the Pipeline panel shows each hop's lag (make status prints the same)\n", flush=True)
    stage3_args = run_stage3.parse_args(["--rate", str(args.rate)]
                                        + (["--duration", str(args.duration)] if args.duration else [])
                                        + (["--every", args.every] if args.every else []))
    run_stage3.switch_drift(stage3_args)      # no drift left over from a `make stage3 DRIFT=1`
    dashboard = Child("dashboard", [PY, "-m", "stage4.run_stage4"])
    code = run_stage3.run(stage3_args, extra=[dashboard], grace=40)
    print(f"==> demo finished (exit {code}); engines are still running: make services-down to stop them",
          flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
