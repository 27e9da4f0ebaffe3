"""How every script runs bounded or live: ``--max-events``, ``--duration``, ``--rate`` and Ctrl-C.

Without bounds a script runs live until Ctrl-C (or SIGTERM from the stage
runner); with them it stops by itself and exits 0. The same three options mean
the same thing in every script and every ``make`` target:

    --max-events N   stop once N events (plays, offers ...) are handled
    --duration S     stop after S seconds
    --rate R         at most R events per second

    from common.bounded import Bounds, add_bounded_args, stop_on_signals
    parser = add_bounded_args(argparse.ArgumentParser(), rate=5.0)
    bounds = Bounds.from_args(parser.parse_args())
    stop = stop_on_signals()                 # set by Ctrl-C or SIGTERM
    while not bounds.done(handled, stop):
        handled += handle(bounds.due(handled))   # due: how many the rate allows by now
"""
from __future__ import annotations

import argparse
import math
import signal
import threading
import time
from dataclasses import dataclass, field


def add_bounded_args(parser: argparse.ArgumentParser, rate: float | None | bool = None,
                     what: str = "events") -> argparse.ArgumentParser:
    """Add --max-events and --duration, and --rate unless ``rate`` is False
    (a number is its default)."""
    parser.add_argument("--max-events", type=int, help=f"stop once this many {what} are handled")
    parser.add_argument("--duration", type=float, help="stop after this many seconds")
    if rate is not False:
        default = None if rate is None or rate is True else float(rate)
        parser.add_argument("--rate", type=float, default=default,
                            help=f"at most this many {what} per second" + (f" (default {default:g})" if default else ""))
    return parser


@dataclass
class Bounds:
    max_events: int | None = None
    duration: float | None = None
    rate: float | None = None
    started: float = field(default_factory=time.monotonic)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "Bounds":
        return cls(getattr(args, "max_events", None), getattr(args, "duration", None),
                   getattr(args, "rate", None))

    @property
    def bounded(self) -> bool:
        return self.max_events is not None or self.duration is not None

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def done(self, handled: int = 0, stop: threading.Event | None = None) -> bool:
        """True once Ctrl-C came, ``max_events`` are handled or ``duration`` has passed."""
        return bool((stop is not None and stop.is_set())
                    or (self.max_events is not None and handled >= self.max_events)
                    or (self.duration is not None and self.elapsed() >= self.duration))

    def due(self, handled: int) -> int:
        """How many more may be handled now: a steady schedule of ``rate`` per
        second from the start (all at once without a rate), never past ``max_events``."""
        due = math.inf if not self.rate else int(self.elapsed() * self.rate) + 1 - handled
        if self.max_events is not None:
            due = min(due, self.max_events - handled)
        return max(int(min(due, 1 << 30)), 0)

    def planned_events(self) -> int | None:
        """A stage's bounded run as a number of events: --max-events, or
        rate x duration for --duration (so the run can end exactly when its
        last event is handled, not at a guessed time)."""
        by_time = math.ceil(self.rate * self.duration) if self.duration and self.rate else None
        counts = [n for n in (self.max_events, by_time) if n is not None]
        return min(counts) if counts else None


def stop_on_signals(stop: threading.Event | None = None) -> threading.Event:
    """An event that Ctrl-C (SIGINT) and SIGTERM set, instead of raising
    KeyboardInterrupt: the script finishes its batch and prints its summary.

    Starting Spark installs PySpark's own SIGINT handler (cancel every job, raise
    KeyboardInterrupt); call this again with the same event after ``get_spark``."""
    stop = stop or threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop
