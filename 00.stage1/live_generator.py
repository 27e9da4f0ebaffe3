"""Live generator: replay recorded plays into a log file, as if they happened now.

Reads data/tracks.csv (no header; columns common.schema.EVENT_COLUMNS), replaces
each play's timestamp with the current UTC time and appends the line to the live
file (default 00.stage1/tracks_live.csv), at a steady rate. Lines are written
whole and flushed, so a reader tailing the file never sees half a line for long.
Lines that do not have the expected columns are replayed unchanged (useful to
see the shipper's dead-letter path).

    python 00.stage1/live_generator.py                      # 5 events/s until Ctrl-C
    python 00.stage1/live_generator.py --rate 500 --max-events 2000
    python 00.stage1/live_generator.py --duration 60 --start-at 10000 --out /tmp/live.csv
"""
from __future__ import annotations

import argparse
import signal
import sys
import time
from datetime import datetime, timezone
from itertools import islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # for `common`

from common.config import get_settings
from common.progress import ProgressLine
from common.schema import EVENT_COLUMNS, EVENT_DATETIME_FORMAT

DATETIME_COLUMN = EVENT_COLUMNS.index("datetime")


def with_current_time(line: str, now: datetime) -> str:
    columns = line.split(",")
    if len(columns) != len(EVENT_COLUMNS):
        return line
    columns[DATETIME_COLUMN] = now.strftime(EVENT_DATETIME_FORMAT)
    return ",".join(columns)


def main(argv: list[str] | None = None) -> int:
    s = get_settings()
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--source", type=Path, default=s.data_dir / "tracks.csv")
    p.add_argument("--out", type=Path, default=s.live_file)
    p.add_argument("--rate", type=float, default=s.replay_rate, help="events per second")
    p.add_argument("--max-events", type=int, help="stop after this many lines")
    p.add_argument("--duration", type=float, help="stop after this many seconds")
    p.add_argument("--start-at", type=int, default=0, help="skip this many source lines first")
    a = p.parse_args(argv)
    if not a.source.exists():
        print(f"{a.source} is missing; generate it with: make data", file=sys.stderr)
        return 1

    stop = False

    def on_signal(*_):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    a.out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    started = time.monotonic()
    with open(a.source, encoding="utf-8", errors="surrogateescape", newline="") as source, \
            open(a.out, "a", encoding="utf-8", errors="surrogateescape") as out, \
            ProgressLine(f"replaying into {a.out.name}", total=a.max_events) as progress:
        lines = (line.rstrip("\r\n") for line in islice(source, a.start_at, None))
        while not stop:
            elapsed = time.monotonic() - started
            if a.duration is not None and elapsed >= a.duration:
                break
            # everything due by now, on a steady schedule of `rate` per second
            due = int(elapsed * a.rate) + 1 - written
            if a.max_events is not None:
                due = min(due, a.max_events - written)
            now = datetime.now(timezone.utc)
            batch = [with_current_time(line, now) for line in islice(lines, max(due, 0))]
            if batch:
                out.write("\n".join(batch) + "\n")
                out.flush()
                written += len(batch)
                progress.advance(len(batch))
            if (a.max_events is not None and written >= a.max_events) or len(batch) < due:
                break   # done, or the source ran out
            time.sleep(min(0.05, max(1.0 / a.rate, 0.001)))
    print(f"generator: wrote {written} events to {a.out} in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
