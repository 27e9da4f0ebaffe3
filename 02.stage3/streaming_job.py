"""Stage 3's streaming job: stage 2's queries, with live ad targeting plugged in.

    read      the Kafka topic `realtime`, as in stage 2
    enrich    stage 2's enrichment, and before indexing each partition's documents
              stage3.offers.queue_offers flags plays of ad targets and queues ONE
              SMS offer per Free/Silver target per day (Redis stream sms:offers)
              -> the index ba_realtime3 (stage-2 fields + ad_target, send_event)
    interest  stage 2's interest list, unchanged

    python -m stage3.streaming_job                       # live, until Ctrl-C
    python -m stage3.streaming_job --max-events 2000     # exit 0 once 2000 records are searchable

Same options as stage2.streaming_job; its own checkpoint (stage3-<topic>-<index>).
Like it, it waits for an engine that goes away and restarts a failed query from
its checkpoint (see stage2.streaming_job).
"""
from __future__ import annotations

import sys

from common.clients import EngineUnavailable
from common.config import get_settings
from common.schema import STAGE3_DOC_FIELDS
from stage2.streaming_job import parse_args, run, start_spark
from stage3.offers import queue_offers


def main(argv: list[str] | None = None) -> int:
    s = get_settings()
    opts = parse_args(argv, app="stage3", doc=__doc__)
    spark = start_spark("stage3-streaming", s, opts, s.index_stage3)
    try:
        # stage 2's job, with the targeting run on each partition's documents before indexing
        status = run(spark, s, opts, s.index_stage3, STAGE3_DOC_FIELDS, before_index=queue_offers)
    except EngineUnavailable as exc:       # only after ENGINE_GIVE_UP_SECONDS
        print(f"streaming job: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        spark.stop()
    print(status.summary(s.index_stage3), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
