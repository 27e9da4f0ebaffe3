"""How the stage-2 job is tuned for a 2-core laptop. Not needed to follow the
idea of the job; the measurements behind each value are in 01.stage2/README.md
("Tuning").
"""
from __future__ import annotations

from pathlib import Path

# At most this many Kafka records per micro-batch, so a job that was down for a
# while catches up in bounded steps instead of one huge batch.
MAX_OFFSETS_PER_TRIGGER = 100_000

# The interest list is not latency-critical and each of its batches has a fixed
# cost of Spark overhead, so it runs on a slower trigger than the enrichment.
INTEREST_TRIGGER = "30 seconds"

SPARK_CONF = {
    # the queries share the cores: FAIR pools, enrichment first (fairscheduler.xml)
    "spark.scheduler.mode": "FAIR",
    "spark.scheduler.allocation.file": str(Path(__file__).with_name("fairscheduler.xml")),
    # the interest list's stateful step (the only shuffle) runs as ONE task, so an
    # enrichment task always finds a free core
    "spark.sql.shuffle.partitions": "1",
    # no extra empty batch after each watermark move: old interest state is
    # dropped on the next real batch instead
    "spark.sql.streaming.noDataMicroBatches.enabled": "false",
    # our one status line per batch instead of Spark's progress bars
    "spark.ui.showConsoleProgress": "false",
}
