"""The interest-list rule (common.interest.densest_window), no engines."""
from datetime import datetime, timedelta

from common.interest import InterestWindow, better, densest_window

T0 = datetime(2024, 5, 1, 8, 0, 0)
W = timedelta(minutes=30)


def at(*offsets: str) -> list[datetime]:
    """'mm:ss' offsets from T0 -> datetimes."""
    out = []
    for o in offsets:
        m, s = o.split(":")
        out.append(T0 + timedelta(minutes=int(m), seconds=int(s)))
    return out


def test_three_plays_spanning_exactly_30_minutes_qualify():
    times = at("00:00", "12:00", "30:00")
    assert densest_window(times, 3, W) == InterestWindow(times[0], times[2], 3)


def test_three_plays_spanning_30_minutes_and_one_second_do_not():
    assert densest_window(at("00:00", "12:00", "30:01"), 3, W) is None


def test_two_plays_never_qualify():
    assert densest_window(at("00:00", "00:01"), 3, W) is None
    assert densest_window([], 3, W) is None


def test_order_of_arrival_does_not_matter():
    times = at("40:00", "00:00", "20:00", "10:00")
    assert densest_window(times, 3, W) == densest_window(sorted(times), 3, W)
    # 00,10,20 fit; 10,20,40 fit too (30:00); 00..40 does not: densest has 3, earliest wins
    assert densest_window(times, 3, W) == InterestWindow(at("00:00")[0], at("20:00")[0], 3)


def test_densest_window_wins_over_earlier_smaller_one():
    times = at("00:00", "05:00", "10:00", "50:00", "51:00", "52:00", "53:00")
    assert densest_window(times, 3, W) == InterestWindow(at("50:00")[0], at("53:00")[0], 4)


def test_duplicates_count_as_plays():
    times = at("00:00", "00:00", "00:00")
    assert densest_window(times, 3, W) == InterestWindow(times[0], times[0], 3)


def test_threshold_and_window_are_parameters():
    times = at("00:00", "09:00")
    assert densest_window(times, 2, timedelta(minutes=10)).plays == 2
    assert densest_window(times, 2, timedelta(minutes=5)) is None


def test_epoch_milliseconds_work_like_datetimes():
    ms = [0, 600_000, 1_800_000]
    assert densest_window(ms, 3, 1_800_000) == InterestWindow(0, 1_800_000, 3)
    assert densest_window(ms, 3, 1_799_999) is None


def test_better_prefers_more_plays_then_earlier_start():
    a = InterestWindow(100, 200, 3)
    assert better(InterestWindow(0, 900, 4), a)
    assert better(InterestWindow(50, 150, 3), a)
    assert not better(InterestWindow(150, 250, 3), a)
    assert not better(a, a)
    assert better(a, None) and not better(None, a)
