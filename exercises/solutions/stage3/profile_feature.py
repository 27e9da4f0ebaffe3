"""Exercise 3.2, a worked solution: night share and distinct-track ratio in pandas.

common.profiles.listening_profile computes all seven profile columns at once; stage 3's
customer_features computes the same in Spark, and the data generator drew the clicks
from them. Here two of them, the plain pandas way.
"""
from __future__ import annotations

import pandas as pd


def night_share(plays: pd.DataFrame) -> pd.Series:
    """Per customer_id: the share of their plays that started at night, [22:00, 05:00)."""
    # 'YYYY-MM-DD HH:MM:SS': the hour is characters 11-12, already in UTC like the stage
    hour = plays["datetime"].str.slice(11, 13).astype(int)
    # the night wraps round midnight, so it is two ranges joined by OR: 22, 23 and 0..4
    at_night = (hour >= 22) | (hour < 5)
    # the mean of a True/False column per group is the share of True
    return at_night.groupby(plays["customer_id"]).mean().rename("night")


def distinct_ratio(plays: pd.DataFrame) -> pd.Series:
    """Per customer_id: distinct tracks / plays (1.0 = never the same track twice)."""
    per_customer = plays.groupby("customer_id")["track_id"]
    # nunique counts the different tracks of each customer, size() their plays
    return (per_customer.nunique() / per_customer.size()).rename("distinct_ratio")


if __name__ == "__main__":
    from common.config import REPO_ROOT
    from common.readers import read_events

    events = read_events(REPO_ROOT / "data" / "sample" / "tracks.csv")
    print(pd.concat([night_share(events), distinct_ratio(events)], axis=1).describe())
