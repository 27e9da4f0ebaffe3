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
