"""The interest-list rule (stage2.interest.densest_window), no engines."""
from datetime import datetime, timedelta

from stage2.interest import InterestWindow, better, densest_window

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


class FakeGroupState:
    """The part of Spark's GroupState that update_interest_list uses."""

    def __init__(self):
        self.value, self.watermark, self.hasTimedOut, self.timeout = None, 0, False, None

    exists = property(lambda self: self.value is not None)
    get = property(lambda self: self.value)

    def getCurrentWatermarkMs(self):
        return self.watermark

    def update(self, value):
        self.value = value

    def setTimeoutTimestamp(self, ms):
        self.timeout = ms

    def remove(self):
        self.value = None


BASE = 28_000_000   # minutes since 1970, so minute 0 of the test is in 2023
_IDS = iter(range(1_000_000, 10**9, 1000))   # first event id of each batch (no id used twice)


def batch(state, *plays):
    """Feed (customer, track, minute[, event id]) plays; returns the emitted rows as
    tuples (minutes). Without an event id each play gets a new one."""
    import itertools

    import pandas as pd

    from stage2.interest import update_interest_list

    new_ids = itertools.count(next(_IDS))          # a block of ids no other batch uses
    ids = [p[3] if len(p) > 3 else next(new_ids) for p in plays]
    frame = pd.DataFrame({"event_id": ids, "customer_id": [p[0] for p in plays], "track_id": [p[1] for p in plays],
                          "played_at": pd.to_datetime([(BASE + p[2]) * 60_000 for p in plays], unit="ms")})
    out = list(update_interest_list((0,), iter([frame]), state, 3, 30 * 60_000))
    rows = out[0].itertuples(index=False) if out else []
    return [(r.customer_id, r.track_id, r.first_play.value // 60_000_000_000 - BASE,
             r.last_play.value // 60_000_000_000 - BASE, r.plays) for r in rows]


def test_state_function_emits_only_new_or_denser_windows_and_drops_late_plays():
    state = FakeGroupState()
    assert batch(state, (1, 10, 0), (1, 10, 10), (2, 10, 0)) == []
    assert batch(state, (1, 10, 30), (2, 10, 5)) == [(1, 10, 0, 30, 3)]
    assert batch(state, (1, 10, 20)) == [(1, 10, 0, 30, 4)]          # denser: updated
    assert batch(state, (1, 10, 29)) == [(1, 10, 0, 30, 5)]
    state.watermark = (BASE + 40) * 60_000                                       # now plays <= 40 are late
    assert batch(state, (2, 10, 39), (2, 10, 41)) == []                 # 39 dropped; 5, 41 too far apart
    assert state.timeout == (BASE + 41 + 30) * 60_000
    state.watermark, state.hasTimedOut = (BASE + 72) * 60_000, True              # timeout: recent plays forgotten
    assert batch(state) == []
    assert state.value[0] == [] and list(state.value[4]) == [1]         # only the emitted window is kept


def test_a_record_seen_twice_counts_once():
    """The shipper may send a record to Kafka again after a crash: the same event id
    is one play, in the same micro-batch or a later one; another event id at the
    same second is another play."""
    state = FakeGroupState()
    assert batch(state, (1, 10, 0, 1), (1, 10, 10, 2), (1, 10, 10, 2)) == []     # copy in the same batch
    assert batch(state, (1, 10, 0, 1), (1, 10, 10, 2)) == []                     # copies in a later batch
    assert batch(state, (1, 10, 20, 3)) == [(1, 10, 0, 20, 3)]
    assert batch(state, (1, 10, 20, 3)) == []                                    # no 4th play
    assert batch(state, (1, 10, 20, 4)) == [(1, 10, 0, 20, 4)]                   # same second, new event


def test_state_keeps_only_plays_that_can_still_count():
    """State older than the window + lateness is dropped: after the watermark moves
    on, the recent plays are forgotten and the state holds only the emitted windows."""
    state = FakeGroupState()
    batch(state, *[(c, 10, m) for c in range(5) for m in (0, 1)])
    assert len(state.value[0]) == 10
    state.watermark = (BASE + 40) * 60_000            # 1 + 30 < 40: none of them can share a window now
    batch(state, (9, 10, 41))
    assert list(state.value[0]) == [9]
