"""Exercise 2.2, a worked solution: interest threshold 4, predict then confirm.

The stage finds the interest list with a two-pointer walk over each pair's
sorted plays (stage2.interest.densest_window), inside Spark's state. Here the
same rule is written for a whole table at once, in pandas: no loop per pair.
"""
from __future__ import annotations

import pandas as pd

# The reasoning, before running anything: GROUND_TRUTH.md says 26 pairs at 3 plays,
# mostly planted bursts of 3 to 5 plays (1 minute or more apart, within 29
# minutes), so roughly a third of them (the 3-play bursts) drop out at 4, while
# the few heavy replayers who reach 4 by chance stay. Raising the threshold can
# only remove pairs: 4 plays within 30 minutes always contain 3. Guess: 18.
# (Confirmed: 21. Fewer bursts had exactly 3 plays than a uniform 3-5 suggests.)
PREDICTED_PAIRS_AT_4 = 18


def interest_pairs(plays: pd.DataFrame, min_plays: int = 3, window_minutes: int = 30) -> set[tuple[int, int]]:
    """{(customer_id, track_id), ...} with min_plays plays at most window_minutes apart."""
    t = plays[["customer_id", "track_id"]].copy()
    # event time, from the play itself (never the time we read it)
    t["ts"] = pd.to_datetime(plays["datetime"], format="%Y-%m-%d %H:%M:%S")
    # sort by pair, then time: each pair's plays are now consecutive and in order
    t = t.sort_values(["customer_id", "track_id", "ts"]).reset_index(drop=True)
    # the play (min_plays - 1) rows further down; if it belongs to the same pair,
    # this play and that one enclose min_plays plays of the pair
    ahead = t.shift(-(min_plays - 1))
    same_pair = (ahead["customer_id"] == t["customer_id"]) & (ahead["track_id"] == t["track_id"])
    # "at most" 30 minutes: <=, so exactly 30:00 counts and 30:01 does not
    close = ahead["ts"] - t["ts"] <= pd.Timedelta(minutes=window_minutes)
    hits = t[same_pair & close]
    return {(int(c), int(k)) for c, k in zip(hits["customer_id"], hits["track_id"])}


if __name__ == "__main__":
    from common.config import REPO_ROOT
    from common.readers import read_events

    sample = read_events(REPO_ROOT / "data" / "sample" / "tracks.csv")
    for k in (3, 4):
        print(f"{k} plays within 30 minutes: {len(interest_pairs(sample, k))} pairs")
    print(f"your prediction for 4: {PREDICTED_PAIRS_AT_4}")
