"""Exercise 2.5, a worked solution: the windowed aggregate.

The same three steps as the stage's query "stats" (01.stage2/window_stats.py),
for one dimension. Because it only uses DataFrame operations, the function works
unchanged on a static DataFrame (a batch: every window complete at once) and on
a streaming one (Spark keeps each window's count in its state and updates it
micro-batch by micro-batch).
"""
from __future__ import annotations


def plays_per_window(plays, by: str, length: str = "30 minutes", slide: str = "5 minutes",
                     lateness: str = "10 minutes"):
    """Plays per sliding window of event time and value of `by`."""
    from pyspark.sql import functions as F

    counts = (
        plays
        # 1. Watermark: on a stream, Spark tracks the latest played_at it has seen;
        #    a window is final once its end is `lateness` behind that, and Spark
        #    drops its state. It must be set on the same column the window uses.
        #    On a static DataFrame Spark ignores it (there is nothing to forget).
        .withWatermark("played_at", lateness)
        # 2. window(time, length, slide) gives each play one row per window that
        #    holds it: with 30 minutes and 5 minutes, 6 rows. Windows start on
        #    multiples of `slide` (counted from 1970-01-01 UTC) and cover
        #    [start, start + length): a play at exactly 10:05:00 is in
        #    [10:05, 10:35) and not in [09:35, 10:05).
        .groupBy(F.window("played_at", length, slide).alias("window"), F.col(by).alias("key"))
        .agg(F.count("*").alias("plays"))
    )
    # 3. The window column is a struct (start, end): flatten it for the output.
    return counts.select(F.col("window.start").alias("window_start"),
                         F.col("window.end").alias("window_end"), "key", "plays")
