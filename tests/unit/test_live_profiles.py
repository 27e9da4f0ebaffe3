"""The listening profile from counts (common.profiles.profile_from_counts), against
common.profiles.listening_profile on a crafted history, no engines (the same
history through stage 2's Spark aggregation: tests/integration/test_profiles.py).

The history puts plays on every time-of-day boundary (04:59:59, 05:00:00,
11:59:59, 12:00:00, 16:59:59, 17:00:00, 21:59:59, 22:00:00, midnight) and
repeats tracks, so every feature is exercised."""
from __future__ import annotations

import pandas as pd
from common.profiles import PROFILE_COLUMNS, listening_profile, profile_from_counts

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
