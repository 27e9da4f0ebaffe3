"""Exercise 2.2: interest threshold 4, predict then confirm (15 minutes).

The interest list (01.stage2/interest.py): a customer is interested in a track
when they played it at least 3 times with the first and the last of those plays
at most 30 minutes apart, in event time (exactly 30:00 counts, 30:01 does not).
On the sample data (data/sample/tracks.csv) that gives the 26 pairs of
data/sample/GROUND_TRUTH.md. The threshold is the setting INTEREST_MIN_PLAYS.

Your task:
  1. BEFORE you compute anything: how many (customer, track) pairs will there
     be at 4 plays? Write your guess in PREDICTED_PAIRS_AT_4, and one line on
     why. GROUND_TRUTH.md says how the bursts were planted.
  2. interest_pairs(plays, min_plays, window_minutes): the set of
     (customer_id, track_id) pairs that pass the rule, in pandas.
     plays is common.readers.read_events(...): columns event_id, customer_id,
     track_id, datetime (text 'YYYY-MM-DD HH:MM:SS'), ismobile,
     listening_zip_code; in any order.
  3. Confirm: python exercises/stage2/interest_threshold.py prints your
     prediction next to the real figure.

Check:  make check-stage2 EX=2.2
"""
from __future__ import annotations

import pandas as pd

# Your prediction, a whole number, written before you run anything.
PREDICTED_PAIRS_AT_4 = None
# Why:


def interest_pairs(plays: pd.DataFrame, min_plays: int = 3, window_minutes: int = 30) -> set[tuple[int, int]]:
    """{(customer_id, track_id), ...} with min_plays plays at most window_minutes apart."""
    # Hint: per (customer, track), sort the play times; min_plays plays fit in the
    # window when some play and the one (min_plays - 1) places later are close enough.
    raise NotImplementedError("interest_pairs: sort per (customer, track), compare play i with play i + min_plays - 1")


if __name__ == "__main__":
    from common.config import REPO_ROOT
    from common.readers import read_events

    sample = read_events(REPO_ROOT / "data" / "sample" / "tracks.csv")
    for k in (3, 4):
        print(f"{k} plays within 30 minutes: {len(interest_pairs(sample, k))} pairs")
    print(f"your prediction for 4: {PREDICTED_PAIRS_AT_4}")
