"""The listening-profile rules, defined once: the generator builds its ground
truth with them and stage 3 computes the same features (in Spark) from them.

- ``time_of_day(hour)``: morning [5, 12), afternoon [12, 17), evening [17, 22),
  night [22, 5).
- ``listening_profile(events)``: per customer, from every play (not only the
  last one, as the original demo's code did): the share of plays in each part of
  the day, the mobile share, distinct tracks over plays, and the number of plays.
- ``profile_from_counts(...)``: the arithmetic of those features, from a
  customer's counts. ``listening_profile`` (pandas), stage 3's
  ``customer_features`` (Spark columns) and stage 2's live profiles
  (stage2.profiles, counts kept in streaming state) all call it.

    from common.profiles import time_of_day, listening_profile, profile_from_counts
    time_of_day(4)   -> 'night'
    listening_profile(read_events("data/sample/tracks.csv")).head()
    profile_from_counts(plays=4, parts={"morning": 1, "afternoon": 0, "evening": 2, "night": 1},
                        mobile_plays=3, distinct_tracks=2)
    -> {'morning': 0.25, 'afternoon': 0.0, 'evening': 0.5, 'night': 0.25,
        'mobile': 0.75, 'distinct_ratio': 0.5, 'plays': 4}
"""
from __future__ import annotations

import numpy as np
import pandas as pd

TIME_OF_DAY = ("morning", "afternoon", "evening", "night")
# first hour of each part of the day; night wraps round midnight
TIME_OF_DAY_STARTS = {"morning": 5, "afternoon": 12, "evening": 17, "night": 22}

# hour of day (0-23) -> index into TIME_OF_DAY
_HOUR_TO_PART = np.array([3] * 5 + [0] * 7 + [1] * 5 + [2] * 5 + [3] * 2)

PROFILE_COLUMNS = ["morning", "afternoon", "evening", "night", "mobile", "distinct_ratio", "plays"]


def time_of_day(hour: int) -> str:
    if not 0 <= hour <= 23:
        raise ValueError(f"hour must be 0-23, got {hour}")
    return TIME_OF_DAY[_HOUR_TO_PART[hour]]


def time_of_day_index(hours) -> np.ndarray:
    """Vectorised ``time_of_day``: hours -> 0 morning, 1 afternoon, 2 evening, 3 night."""
    return _HOUR_TO_PART[np.asarray(hours, dtype=np.int64)]


def listening_profile(events: pd.DataFrame) -> pd.DataFrame:
    """Per customer_id: shares of plays per part of the day, mobile share,
    distinct_ratio (distinct tracks / plays) and plays.

    ``events`` has the columns of ``schema.EVENT_COLUMNS``; ``datetime`` may be
    text ('YYYY-MM-DD HH:MM:SS') or a datetime64 column.
    """
    when = events["datetime"]
    if pd.api.types.is_datetime64_any_dtype(when):
        hours = when.dt.hour.to_numpy()
    else:
        hours = when.str.slice(11, 13).astype(int).to_numpy()
    parts = pd.DataFrame(
        np.eye(len(TIME_OF_DAY), dtype=np.int64)[time_of_day_index(hours)],
        columns=list(TIME_OF_DAY), index=events.index,
    )
    parts["customer_id"] = events["customer_id"].to_numpy()
    parts_per_customer = parts.groupby("customer_id")[list(TIME_OF_DAY)].sum()
    by_customer = events.groupby("customer_id")
    profile = profile_from_counts(plays=by_customer.size(), parts=parts_per_customer,
                                  mobile_plays=by_customer["ismobile"].sum(),
                                  distinct_tracks=by_customer["track_id"].nunique())
    return pd.DataFrame(profile)[PROFILE_COLUMNS]


def profile_from_counts(plays, parts, mobile_plays, distinct_tracks) -> dict:
    """The profile features (PROFILE_COLUMNS, in that order) from a customer's counts:
    ``plays``, ``parts[part]`` = plays in each part of the day (TIME_OF_DAY),
    ``mobile_plays`` and ``distinct_tracks``.

    Only division, so the counts may be numbers, numpy arrays, pandas Series
    (one value per customer) or Spark Columns: every caller gets the same arithmetic.
    """
    shares = {part: parts[part] / plays for part in TIME_OF_DAY}
    return {**shares, "mobile": mobile_plays / plays, "distinct_ratio": distinct_tracks / plays, "plays": plays}
