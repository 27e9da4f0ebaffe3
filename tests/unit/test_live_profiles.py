"""The listening profile from counts (common.profiles.profile_from_counts) and the
stage-2 live profiles' state function (stage2.profiles.update_profiles), against
common.profiles.listening_profile on a crafted history, no engines.

The history puts plays on every time-of-day boundary (04:59:59, 05:00:00,
11:59:59, 12:00:00, 16:59:59, 17:00:00, 21:59:59, 22:00:00, midnight) and
repeats tracks, so every feature is exercised."""
from __future__ import annotations

import pandas as pd
import pytest

from common.profiles import PROFILE_COLUMNS, listening_profile, profile_from_counts
from stage2.profiles import update_profiles

# customer, track, datetime, ismobile
PLAYS = [
    (1, 10, "2026-03-02 04:59:59", 1), (1, 10, "2026-03-02 05:00:00", 1), (1, 11, "2026-03-02 11:59:59", 0),
    (1, 12, "2026-03-02 12:00:00", 0), (1, 10, "2026-03-02 21:59:59", 1), (1, 13, "2026-03-02 22:00:00", 1),
    (2, 20, "2026-03-02 16:59:59", 0), (2, 20, "2026-03-02 17:00:00", 0), (2, 20, "2026-03-03 00:00:00", 1),
    (3, 30, "2026-03-04 23:59:59", 1),
    (33, 40, "2026-03-04 08:00:00", 0), (33, 41, "2026-03-04 08:30:00", 0), (33, 42, "2026-03-05 13:00:00", 1),
    (33, 40, "2026-03-05 19:00:00", 0),
]


def history(plays=PLAYS) -> pd.DataFrame:
    return pd.DataFrame(plays, columns=["customer_id", "track_id", "datetime", "ismobile"])


def oracle_part(hour: int) -> str:
    # written out here on purpose, independent of common.profiles
    return ("morning" if 5 <= hour < 12 else "afternoon" if 12 <= hour < 17
            else "evening" if 17 <= hour < 22 else "night")


def test_profile_from_counts_equals_listening_profile_exactly():
    events = history()
    events["part"] = events["datetime"].str[11:13].astype(int).map(oracle_part)
    g = events.groupby("customer_id")
    parts = pd.crosstab(events["customer_id"], events["part"])   # plays per part, by hand
    parts = parts.reindex(columns=["morning", "afternoon", "evening", "night"], fill_value=0)
    got = pd.DataFrame(profile_from_counts(plays=g.size(), parts=parts, mobile_plays=g["ismobile"].sum(),
                                           distinct_tracks=g["track_id"].nunique()))[PROFILE_COLUMNS]
    pd.testing.assert_frame_equal(got, listening_profile(history()), check_exact=True, check_names=False)
    # customer 1 by hand: 04:59:59 and 22:00 night, 05:00 and 11:59:59 morning, 12:00 afternoon, 21:59:59 evening
    assert got.loc[1].to_dict() == {"morning": 2 / 6, "afternoon": 1 / 6, "evening": 1 / 6, "night": 2 / 6,
                                    "mobile": 4 / 6, "distinct_ratio": 4 / 6, "plays": 6}


def test_profile_from_counts_on_plain_numbers():
    assert profile_from_counts(plays=4, parts={"morning": 1, "afternoon": 0, "evening": 2, "night": 1},
                               mobile_plays=3, distinct_tracks=2) == {
        "morning": 0.25, "afternoon": 0.0, "evening": 0.5, "night": 0.25,
        "mobile": 0.75, "distinct_ratio": 0.5, "plays": 4}


class FakeState:
    """The part of Spark's GroupState that update_profiles uses; ``get`` round-trips
    through a tuple of lists, as Spark's state row would."""

    def __init__(self, row=None, watermark_ms: int = -1):
        self.row, self.watermark_ms = row, watermark_ms

    @property
    def exists(self):
        return self.row is not None

    @property
    def get(self):
        return self.row

    def update(self, row):
        self.row = tuple(list(column) for column in row)

    def getCurrentWatermarkMs(self):
        return self.watermark_ms


def frame(plays) -> pd.DataFrame:
    """Plays as the query hands them to update_profiles (played_at a naive UTC datetime64)."""
    out = history(plays)
    return out.assign(played_at=pd.to_datetime(out.pop("datetime")))


def run_bucket(batches, state: FakeState) -> pd.DataFrame:
    """update_profiles over micro-batches of one bucket; the last profile of each customer."""
    out = [row for batch in batches for row in update_profiles((0,), iter([frame(batch)]), state)]
    return pd.concat(out).drop_duplicates("customer_id", keep="last").set_index("customer_id").sort_index()


def test_live_counts_over_micro_batches_equal_listening_profile_exactly():
    state = FakeState()
    # arrival order differs from event order; three micro-batches, state carried between them
    got = run_bucket([PLAYS[5:9], PLAYS[:3] + PLAYS[12:], PLAYS[3:5] + PLAYS[9:12]], state)
    pd.testing.assert_frame_equal(got[PROFILE_COLUMNS], listening_profile(history()),
                                  check_exact=True, check_names=False, check_dtype=False)
    assert got.loc[1, "last_play_ms"] == pd.Timestamp("2026-03-02 22:00:00").value // 1_000_000
    # state keeps exactly one (customer, track) pair per distinct track
    customers, track_customers = state.row[0], state.row[-2]
    assert customers == [1, 2, 3, 33] and len(track_customers) == 4 + 1 + 1 + 3


def test_replaying_a_micro_batch_from_its_state_counts_each_play_once():
    first = FakeState()
    run_bucket([PLAYS[:7]], first)
    before = first.row
    # Spark replays a batch from the state committed before it: same input, same output
    once = run_bucket([PLAYS[7:]], FakeState(before))
    replayed = run_bucket([PLAYS[7:]], FakeState(before))
    pd.testing.assert_frame_equal(once, replayed)
    assert once.loc[2, "plays"] == 3


def test_only_customers_with_new_plays_are_emitted_and_late_plays_are_dropped():
    state = FakeState()
    run_bucket([PLAYS[:6]], state)                                 # customer 1, up to 22:00
    state.watermark_ms = pd.Timestamp("2026-03-02 21:50:00").value // 1_000_000
    late, in_time = (1, 99, "2026-03-02 21:50:00", 0), (2, 20, "2026-03-02 21:50:01", 1)
    got = run_bucket([[late, in_time]], state)
    assert list(got.index) == [2]                                  # the late play changed nothing
    assert got.loc[2, "plays"] == 1 and got.loc[2, "evening"] == 1.0
    assert state.row[0] == [1, 2] and state.row[1] == [6, 1]


@pytest.mark.parametrize("hour, part", [(4, "night"), (5, "morning"), (11, "morning"), (12, "afternoon"),
                                        (16, "afternoon"), (17, "evening"), (21, "evening"), (22, "night"),
                                        (0, "night")])
def test_each_boundary_hour_lands_in_its_part_of_the_day(hour, part):
    got = run_bucket([[(5, 50, f"2026-03-02 {hour:02d}:00:00", 0)]], FakeState())
    assert got.loc[5, part] == 1.0 and got.loc[5, ["morning", "afternoon", "evening", "night"]].sum() == 1.0
