"""common.bounded: the one meaning of --max-events, --duration and --rate."""
from __future__ import annotations

import argparse
import threading
import time

from common.bounded import Bounds, add_bounded_args


def test_the_options_parse_the_same_everywhere():
    p = add_bounded_args(argparse.ArgumentParser(), rate=5.0)
    b = Bounds.from_args(p.parse_args(["--max-events", "10", "--duration", "3"]))
    assert (b.max_events, b.duration, b.rate, b.bounded) == (10, 3.0, 5.0, True)
    assert not Bounds.from_args(p.parse_args([])).bounded
    no_rate = add_bounded_args(argparse.ArgumentParser(), rate=False).parse_args([])
    assert not hasattr(no_rate, "rate")


def test_done_on_count_time_or_stop():
    stop = threading.Event()
    assert not Bounds(max_events=3).done(2, stop)
    assert Bounds(max_events=3).done(3, stop)
    assert Bounds(duration=0.0).done(0)
    stop.set()
    assert Bounds().done(0, stop)


def test_due_keeps_a_steady_rate_and_never_passes_max_events():
    b = Bounds(rate=100, max_events=1000, started=time.monotonic() - 2.0)
    assert 190 <= b.due(10) <= 195           # ~201 due after 2 s, 10 already done
    assert b.due(1000) == 0
    assert Bounds(max_events=50).due(20) == 30            # no rate: all that is left, at once


def test_a_duration_at_a_rate_is_planned_as_a_number_of_events():
    assert Bounds(duration=60, rate=20).planned_events() == 1200
    assert Bounds(duration=60, rate=20, max_events=100).planned_events() == 100
    assert Bounds(rate=20).planned_events() is None
