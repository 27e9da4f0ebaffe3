"""The interest-list rule (stage2.interest: densest_window, best_per_pair, beats), no engines."""
from datetime import datetime, timedelta

from stage2.interest import InterestWindow, beats, best_per_pair, better, densest_window

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


def test_plays_at_the_same_second_count_as_plays():
    """densest_window counts the plays it is given: three different events at one
    second are three plays (a record that Kafka holds twice is removed before, by
    its event id: see test_a_record_seen_twice_counts_once below)."""
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


def spark_windows(times: list[datetime], span: timedelta) -> list[list[datetime]]:
    """The plays of each event-time window of 2 x span sliding by span, the way Spark's
    window() assigns them (windows start at multiples of the slide since 1970)."""
    slide, epoch = span, datetime(1970, 1, 1)
    starts = {epoch + ((t - epoch) // slide - k) * slide for t in times for k in (0, 1)}
    return [[t for t in times if start <= t < start + 2 * span] for start in sorted(starts)]


def rows_of(customer: int, track: int, windows: list[list[datetime]]):
    from types import SimpleNamespace
    return [SimpleNamespace(customer_id=customer, track_id=track, times=w) for w in windows]


def test_the_densest_window_lies_whole_in_one_sliding_window_of_twice_the_span():
    """interest_windows keeps play times per window of 60 minutes sliding by 30; the
    best of their densest runs is the densest run of all the plays, ties included."""
    import random

    rng = random.Random(7)
    for _ in range(300):
        times = [T0 + timedelta(seconds=rng.randrange(0, 4 * 3600, 30)) for _ in range(rng.randint(3, 12))]
        best = best_per_pair(rows_of(1, 10, spark_windows(times, W)), 3, W)
        assert best.get((1, 10)) == densest_window(times, 3, W), times


def test_a_run_of_exactly_the_span_across_a_window_edge_is_found():
    times = at("20:00", "35:00", "50:00")           # 08:20 .. 08:50, across the 08:30 edge
    assert best_per_pair(rows_of(1, 10, spark_windows(times, W)), 3, W)[(1, 10)] == \
        InterestWindow(times[0], times[2], 3)


def test_best_per_pair_keeps_pairs_apart_and_leaves_out_windows_without_a_run():
    rows = rows_of(1, 10, [at("00:00", "10:00", "20:00")]) + rows_of(1, 11, [at("00:00", "10:00", "45:00")]) \
        + rows_of(2, 10, [at("05:00", "06:00", "07:00", "08:00")])
    assert best_per_pair(rows, 3, W) == {(1, 10): InterestWindow(*at("00:00", "20:00"), 3),
                                         (2, 10): InterestWindow(*at("05:00", "08:00"), 4)}


def test_a_window_replaces_the_indexed_one_only_when_it_is_better():
    """stage2.interest.beats: what better_than_indexed keeps of a micro-batch."""
    def doc(first, plays):
        return {"first_play": first, "plays": plays}

    now = doc("2024-05-01 08:10:00", 3)
    assert beats(doc("2024-05-01 09:00:00", 4), now)                # more plays
    assert beats(doc("2024-05-01 08:00:00", 3), now)                # as many, earlier
    assert not beats(doc("2024-05-01 08:10:00", 3), now)            # the same: a replayed batch
    assert not beats(doc("2024-05-01 08:20:00", 3), now)            # as many, later
    assert not beats(doc("2024-05-01 07:00:00", 2), now)            # fewer
    assert beats(now, None)                                         # nothing indexed yet
