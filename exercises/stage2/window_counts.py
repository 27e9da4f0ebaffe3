"""Exercise 2.5 (stretch): write the windowed aggregate yourself (40 minutes).

The stage's query "stats" (01.stage2/window_stats.py) counts plays in sliding
windows of event time: 30 minutes long, a new one every 5 minutes, so a play
counts in the 6 windows that hold it; each window covers [start, start + 30 min)
and starts on a 5-minute mark. A watermark says how late a play may arrive.

Here you write that aggregate for one dimension, as a function of a DataFrame.
The checker runs it on a static DataFrame of the sample plays (and compares
every window with a pandas oracle, plays exactly on a window's edge included),
then on a stream, to see your watermark. On a static DataFrame the watermark
changes nothing; on the stream it is what lets Spark forget old windows.

Given: plays, a Spark DataFrame with the columns
    customer_id INT, track_id INT, played_at TIMESTAMP (event time, UTC),
    level STRING (Free / Silver / Gold), device STRING (mobile / pc)

Your task: plays_per_window(plays, by, length, slide, lateness) -> a DataFrame
with one row per window and value of the column `by` ("level" or "device"):
    window_start TIMESTAMP, window_end TIMESTAMP, key STRING, plays LONG

Check:  make check-stage2 EX=2.5   (starts Spark: about 15 seconds)

한국어
------
과제 2.5 (심화, 40분): window 집계 직접 작성하기.
단계의 query "stats"(01.stage2/window_stats.py)는 event time의 sliding window로 재생을 셉니다.
길이 30분, 5분마다 새 window이므로 재생 하나가 window 6개에 들어가고, 각 window는
[start, start + 30 min)이며 5분 눈금에서 시작합니다. watermark는 재생이 얼마나 늦게 도착해도
되는지 정합니다. 채점기는 먼저 샘플 재생의 정적 DataFrame에서 모든 window를 pandas oracle과
비교하고(window 경계에 딱 걸친 재생 포함), 그다음 stream에서 watermark를 확인합니다.
주어진 것: plays(customer_id, track_id, played_at TIMESTAMP, level, device 컬럼의 Spark DataFrame).
할 일: plays_per_window(plays, by, length, slide, lateness) -> window와 `by`("level" 또는
"device") 값마다 한 행: window_start, window_end, key, plays.
"""
from __future__ import annotations


def plays_per_window(plays, by: str, length: str = "30 minutes", slide: str = "5 minutes",
                     lateness: str = "10 minutes"):
    """Plays per sliding window of event time and value of `by`."""
    # from pyspark.sql import functions as F
    # 1. the watermark on the event-time column: plays.withWatermark(...)
    # 2. group by F.window(<event time>, length, slide) and the column `by`, count
    # 3. the window is a struct: its fields start and end become window_start, window_end
    raise NotImplementedError("plays_per_window: withWatermark, groupBy(window(...), by), count")
