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

한국어
------
과제 3.2 (15분): pandas로 night 비율과 distinct-track 비율 구하기.
3단계는 고객을 **모든** 재생에서 구한 청취 프로필로 나타냅니다(02.stage3/features.py가 Spark로
계산). 제안에 가장 중요한 것은 둘입니다(data/sample/GROUND_TRUTH.ko.md):
    night           밤 [22:00, 05:00)에 시작한 재생의 비율
    distinct_ratio  서로 다른 곡 수 / 재생 수(1.0 = 같은 곡을 두 번 들은 적 없음)
주어진 것: plays, common.readers.read_events가 주는 pandas DataFrame(채점기는 밤의 경계에 걸친 재생을
몇 개 더하고 행을 섞습니다).
할 일: customer_id를 index로, 재생한 고객마다 값 하나를 담은 pandas Series를 돌려주는 함수 두 개.
채점기가 비교하는 정답인 common.profiles.listening_profile은 부르지 마세요.
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
