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

한국어
------
과제 2.2 (15분): 관심 기준 4회, 먼저 예측하고 확인하기.
관심 목록(01.stage2/interest.py): 고객이 한 곡을 3번 이상 재생했고 그중 처음과 마지막 재생이
event time으로 30분 이내이면(정확히 30:00은 포함, 30:01은 제외) 그 곡에 관심이 있습니다. 샘플
데이터에서는 data/sample/GROUND_TRUTH.ko.md의 26쌍이 나옵니다. 기준은 설정 INTEREST_MIN_PLAYS입니다.
할 일:
  1. 계산하기 **전에**: 4회 기준이면 (고객, 곡) 쌍이 몇 개일까요? PREDICTED_PAIRS_AT_4에 예측값을,
     그 이유를 한 줄로 적으세요.
  2. interest_pairs(plays, min_plays, window_minutes): 규칙을 통과하는 (customer_id, track_id)
     쌍의 set을 pandas로 구합니다. plays의 행 순서는 정해져 있지 않습니다.
  3. 확인: python exercises/stage2/interest_threshold.py가 예측값과 실제 값을 나란히 보여 줍니다.
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
