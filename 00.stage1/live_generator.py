"""Live generator: replay recorded plays into a log file, as if they happened now.

Each line of data/tracks.csv (no header; columns common.schema.EVENT_COLUMNS)
becomes a NEW play appended to the live file (default 00.stage1/tracks_live.csv):
the same customer, track, device and zip, but the current UTC time and a new
event_id. Ids continue across runs: the first run starts after the largest id
in the source (so live plays never collide with the history), and every run
goes on where the last one stopped, in the ids and in the source, which it
starts again from the top when it reaches the end. The position is kept in
.runtime/generator/ (``make reset`` wipes it along with the indices).

Lines are written whole and flushed at a steady --rate, so a reader tailing the
file never sees half a line for long. A source line that is not a play (wrong
number of columns, or an event_id that is not a number) is replayed unchanged
and not counted: useful to watch the shipper's dead-letter path.

    python -m stage1.live_generator                      # 5 events/s until Ctrl-C
    python -m stage1.live_generator --rate 500 --max-events 2000
    python 00.stage1/live_generator.py --duration 60 --out /tmp/live.csv
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from common.bounded import Bounds, add_bounded_args, stop_on_signals
from common.config import Settings, get_settings
from common.events import Rejected, event_id_of, split_line
from common.progress import ProgressLine
from common.schema import EVENT_COLUMNS, EVENT_DATETIME_FORMAT

DATETIME_COLUMN = EVENT_COLUMNS.index("datetime")
MAX_BATCH = 10_000          # lines per write, whatever the rate


def as_new_play(line: str, event_id: int, now: datetime) -> str | None:
    """The source line as a play happening now, with ``event_id``; None when the
    line is not a play (it is then replayed unchanged)."""
    columns = split_line(line)
    if isinstance(columns, Rejected) or event_id_of(line) is None:
        return None
    columns[0] = str(event_id)
    columns[DATETIME_COLUMN] = now.strftime(EVENT_DATETIME_FORMAT)
    return ",".join(columns)


# --- where the last run stopped ----------------------------------------------------
@dataclass
class ReplayPosition:
    next_event_id: int      # the id the next play gets
    source: str             # the source file it reads
    source_line: int        # the next line of the source to replay


def position_file(settings: Settings, live_file: Path) -> Path:
    """One position per live file: ids are unique among the plays of one live file."""
    tag = hashlib.sha1(str(Path(live_file).resolve()).encode()).hexdigest()[:8]
    return settings.runtime_dir / "generator" / f"{Path(live_file).name}-{tag}.json"


def largest_event_id(source: Path) -> int:
    """The largest whole-number event_id in ``source`` (-1 when it has none)."""
    largest = -1
    with open(source, "rb") as f:
        for line in f:
            event_id = event_id_of(line)
            if event_id is not None and event_id > largest:
                largest = event_id
    return largest


def load_position(settings: Settings, source: Path, live_file: Path) -> ReplayPosition:
    """Where this live file's replay goes on; the first time: the top of the
    source, with ids after the source's largest one. A new source starts at
    its top, ids still never below the saved ones."""
    try:
        saved = ReplayPosition(**json.loads(position_file(settings, live_file).read_text()))
    except (FileNotFoundError, ValueError, TypeError):
        saved = None
    source = Path(source).resolve()
    if saved is not None and saved.source == str(source):
        return saved
    first_id = largest_event_id(source) + 1
    return ReplayPosition(max(first_id, saved.next_event_id if saved else 0), str(source), 0)


def save_position(settings: Settings, live_file: Path, position: ReplayPosition) -> None:
    path = position_file(settings, live_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(position)))
    os.replace(tmp, path)          # atomic: a crash leaves the old position or the new one


def next_event_id(settings: Settings, source: Path, live_file: Path) -> int:
    """The id the next replayed play will get (a bounded stage counts its own plays from it)."""
    return load_position(settings, source, live_file).next_event_id


def source_lines(source: Path, start: int) -> Iterator[tuple[int, str]]:
    """(line number, line) of ``source`` from line ``start``, round and round."""
    while True:
        found = False
        with open(source, encoding="utf-8", errors="surrogateescape", newline="") as f:
            for number, line in enumerate(f):
                if number >= start:
                    found = True
                    yield number, line.rstrip("\r\n")
        if not found and start == 0:
            return                      # an empty source: nothing to replay
        start = 0


# --- the replay ---------------------------------------------------------------------
def replay(settings: Settings, source: Path, out: Path, bounds: Bounds, stop) -> int:
    """Append new plays to ``out`` until ``bounds`` or ``stop`` says so; returns how many."""
    position = load_position(settings, source, out)
    lines = source_lines(source, position.source_line)
    out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with open(out, "a", encoding="utf-8", errors="surrogateescape") as live, \
            ProgressLine(f"replaying into {out.name}", total=bounds.max_events) as progress:
        while not bounds.done(written, stop):
            due, batch, plays, now = bounds.due(written), [], 0, datetime.now(timezone.utc)
            for number, line in (lines if due else ()):
                play = as_new_play(line, position.next_event_id, now)
                if play is not None:
                    position.next_event_id += 1
                    plays += 1
                batch.append(play if play is not None else line)
                position.source_line = number + 1
                if plays >= due or len(batch) >= MAX_BATCH:
                    break
            if not batch:
                if due:
                    break                    # the source is empty
                time.sleep(0.01)             # nothing due yet at this rate
                continue
            # The position is saved BEFORE the lines are written: a crash in
            # between skips a few ids, it never hands the same id out twice.
            save_position(settings, out, position)
            live.write("\n".join(batch) + "\n")
            live.flush()
            written += plays
            progress.advance(plays)
            time.sleep(min(0.05, max(1.0 / (bounds.rate or 1000), 0.001)))
    return written


def main(argv: list[str] | None = None) -> int:
    s = get_settings()
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_bounded_args(p, rate=s.replay_rate, what="plays")
    p.add_argument("--source", type=Path, default=s.data_dir / "tracks.csv")
    p.add_argument("--out", type=Path, default=s.live_file)
    a = p.parse_args(argv)
    if not a.source.exists():
        print(f"{a.source} is missing; generate it with: make data", file=sys.stderr)
        return 1
    bounds, stop = Bounds.from_args(a), stop_on_signals()
    first = next_event_id(s, a.source, a.out)
    written = replay(s, a.source, a.out, bounds, stop)
    print(f"generator: wrote {written} events (ids {first}..{first + written - 1}) to {a.out} "
          f"in {bounds.elapsed():.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
