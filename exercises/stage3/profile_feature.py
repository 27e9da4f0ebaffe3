"""Exercise 3.2: night share and distinct-track ratio in pandas (15 minutes).

Stage 3 describes each customer by their listening profile, from EVERY play:
the share of plays in each part of the day, the mobile share, distinct tracks
over plays, and the number of plays (02.stage3/features.py computes them in
Spark). Two of them matter most for the offer (data/sample/GROUND_TRUTH.md):
    night           share of the customer's plays that started at night, [22:00, 05:00)
    distinct_ratio  distinct tracks / plays (1.0 = never the same track twice)

Given: plays, a pandas DataFrame as common.readers.read_events gives it:
    event_id, customer_id, track_id, datetime ('YYYY-MM-DD HH:MM:SS', UTC, text),
    ismobile, listening_zip_code
(the checker adds a few hand-made plays on the edges of the night, and shuffles the rows).

Your task: two functions, each returning a pandas Series indexed by customer_id,
one value per customer who played. Do not call common.profiles.listening_profile:
it is what the checker compares you with.

Check:  make check-stage3 EX=3.2
"""
from __future__ import annotations

import pandas as pd


def night_share(plays: pd.DataFrame) -> pd.Series:
    """Per customer_id: the share of their plays that started at night, [22:00, 05:00)."""
    # 1. the hour of each play (the text 'YYYY-MM-DD HH:MM:SS' holds it)
    # 2. is that hour at night? mind the midnight
    # 3. per customer, the share of plays at night
    raise NotImplementedError("night_share: hour of each play, at night or not, share per customer")


def distinct_ratio(plays: pd.DataFrame) -> pd.Series:
    """Per customer_id: distinct tracks / plays."""
    raise NotImplementedError("distinct_ratio: per customer, number of different tracks / number of plays")


if __name__ == "__main__":
    from common.config import REPO_ROOT
    from common.readers import read_events

    events = read_events(REPO_ROOT / "data" / "sample" / "tracks.csv")
    print(pd.concat([night_share(events), distinct_ratio(events)], axis=1).describe())
