"""Stage 1 in one command: the live generator and the shipper, side by side.

    live_generator   data/tracks.csv -> 00.stage1/tracks_live.csv (new plays, current time)
    shipper          tracks_live.csv -> Elasticsearch index ba_realtime
run together (common.runner); Ctrl-C stops both, each prints its summary.

Bounded (--max-events, or --duration at --rate) the stage plans its plays up
front: their ids start where the generator's sequence stands, and the stage
exits 0 once exactly those plays are searchable. A shipper that never ran for
this index starts at the end of the live file (plays written for other stages
are not this index's); lines an earlier stage-1 run left unshipped go first.

    python -m stage1.run_stage1                            # live until Ctrl-C
    python -m stage1.run_stage1 --max-events 2000 --rate 500
    make stage1 MAX_EVENTS=2000 RATE=500                   # the same, engines and data first
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from common.bounded import Bounds, add_bounded_args
from common.clients import EngineUnavailable, es_client
from common.config import Settings, get_settings
from common.runner import Child, StageRunner
from common.schema import STAGE1_DOC_FIELDS
from common.sinks import ensure_index
from stage1.follower import FileFollower
from stage1.live_generator import next_event_id
from stage1.shipper import default_offset_file

PY = sys.executable


def add_live_args(p: argparse.ArgumentParser, s: Settings) -> argparse.ArgumentParser:
    """The options every live stage shares (stages 2 and 3 reuse them)."""
    add_bounded_args(p, rate=s.replay_rate, what="plays")
    p.add_argument("--live-file", type=Path, default=s.live_file)
    p.add_argument("--source", type=Path, default=s.data_dir / "tracks.csv", help="plays to replay")
    return p


@dataclass
class LiveRun:
    """One run of the live log: where from, where to, and which plays are its own."""
    source: Path
    live_file: Path
    rate: float
    first_event_id: int
    events: int | None          # planned plays of a bounded run; None = live until Ctrl-C

    def own_plays_args(self) -> list[str]:
        """Tells a downstream part which plays to wait for (empty when live)."""
        if self.events is None:
            return []
        return ["--first-event-id", str(self.first_event_id), "--max-events", str(self.events)]

    def generator(self) -> Child:
        bounded = [] if self.events is None else ["--max-events", str(self.events)]
        return Child("generator", [PY, "-m", "stage1.live_generator", "--source", str(self.source),
                                   "--out", str(self.live_file), "--rate", str(self.rate), *bounded])

    def shipper(self, *sink_args: str) -> Child:
        return Child("shipper", [PY, "-m", "stage1.shipper", "--live-file", str(self.live_file),
                                 *sink_args, *self.own_plays_args()])


def plan_live_run(s: Settings, args: argparse.Namespace, sink: str, target: str) -> LiveRun:
    """Before anything starts: this run's first id, and the shipper's starting point."""
    follower = FileFollower(args.live_file, default_offset_file(s, sink, target, args.live_file))
    if follower.start_at_end_if_new():
        print(f"{sink}:{target} is new: its shipper starts at the end of {args.live_file.name}", flush=True)
    backlog = follower.backlog_lines()
    if backlog:
        print(f"{backlog} lines were written to {args.live_file.name} since this shipper last ran "
              "(earlier runs, other stages): they are shipped first", flush=True)
    run = LiveRun(args.source, args.live_file, args.rate, next_event_id(s, args.source, args.live_file),
                  Bounds.from_args(args).planned_events())
    if run.events is not None:
        print(f"this run: {run.events} plays, event ids {run.first_event_id}.."
              f"{run.first_event_id + run.events - 1}", flush=True)
    return run


def main(argv: list[str] | None = None) -> int:
    s = get_settings()
    p = add_live_args(argparse.ArgumentParser(description=__doc__.split("\n\n")[0]), s)
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

    run = plan_live_run(s, a, "es", a.index)
    runner = StageRunner([run.generator(), run.shipper("--sink", "es", "--index", a.index)])
    # bounded: done when the shipper is (it waits until its last play is searchable)
    return runner.run(until=["shipper"] if run.events is not None else None)


if __name__ == "__main__":
    sys.exit(main())
