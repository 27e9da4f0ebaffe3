"""Stage 1 in one command: the live generator and the shipper, side by side.

Creates the stage-1 index from the shared template, then runs
  live_generator.py  data/tracks.csv -> 00.stage1/tracks_live.csv (current timestamps)
  shipper.py         tracks_live.csv -> Elasticsearch index ba_realtime
together (common.runner). Ctrl-C stops both; each prints its summary.
Bounded (--max-events / --duration) it exits 0 once the last event is searchable.

    python 00.stage1/run_stage1.py                            # live until Ctrl-C
    python 00.stage1/run_stage1.py --max-events 2000 --rate 500
    make stage1 MAX_EVENTS=2000 RATE=500                      # the same, engines and data first
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))   # for `common`

from common.clients import EngineUnavailable, es_client
from common.config import get_settings
from common.follower import FileFollower
from common.runner import Child, StageRunner
from common.schema import STAGE1_DOC_FIELDS
from common.sinks import ensure_index

sys.path.insert(0, str(HERE))
from shipper import default_offset_file   # noqa: E402  (the shipper's own offset-file rule)


def main(argv: list[str] | None = None) -> int:
    s = get_settings()
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rate", type=float, default=s.replay_rate, help="events per second")
    p.add_argument("--max-events", type=int)
    p.add_argument("--duration", type=float)
    p.add_argument("--live-file", type=Path, default=s.live_file)
    p.add_argument("--source", type=Path, default=s.data_dir / "tracks.csv")
    p.add_argument("--index", default=s.index_stage1)
    a = p.parse_args(argv)

    if not a.source.exists():
        print(f"{a.source} is missing; generate it with: make data", file=sys.stderr)
        return 1
    try:
        ensure_index(es_client(s), a.index, STAGE1_DOC_FIELDS)
    except EngineUnavailable as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"stage 1: {a.source} -> {a.live_file} -> Elasticsearch {s.es_url} index {a.index}", flush=True)

    generator = [sys.executable, str(HERE / "live_generator.py"), "--source", str(a.source),
                 "--out", str(a.live_file), "--rate", str(a.rate)]
    shipper = [sys.executable, str(HERE / "shipper.py"), "--sink", "es", "--index", a.index,
               "--live-file", str(a.live_file)]
    if a.duration is not None:
        generator += ["--duration", str(a.duration)]
    if a.max_events is not None:
        # Lines an earlier run left unshipped are shipped first; count them in, so
        # the shipper stops after the last line this run writes.
        offsets = default_offset_file(s, "es", a.index, a.live_file)
        backlog = FileFollower(a.live_file, offsets).backlog_lines()
        if backlog:
            print(f"stage 1: {backlog} lines from an earlier run are still to ship", flush=True)
        with open(a.source, "rb") as f:    # a small source file ends the replay early
            replayed = min(a.max_events, sum(1 for _ in f))
        generator += ["--max-events", str(replayed)]
        shipper += ["--max-events", str(replayed + backlog)]
    elif a.duration is not None:
        shipper += ["--duration", str(a.duration + 5)]   # a little longer to catch the last lines

    runner = StageRunner([Child("generator", generator), Child("shipper", shipper)])
    # bounded: done when the shipper is (it waits until its last line is searchable)
    bounded = a.max_events is not None or a.duration is not None
    return runner.run(until=["generator", "shipper"] if bounded else None)


if __name__ == "__main__":
    sys.exit(main())
