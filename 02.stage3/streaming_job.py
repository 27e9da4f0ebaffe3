"""Stage 3's streaming job: stage 2's queries, with live ad targeting plugged in.

    read      the Kafka topic `realtime`, as in stage 2
    enrich    stage 2's enrichment, and before indexing each partition's documents
              stage3.offers.queue_offers flags plays of ad targets and queues ONE
              SMS offer per Free/Silver target per day (Redis stream sms:offers)
              -> the index ba_realtime3 (stage-2 fields + ad_target, send_event)
    interest  stage 2's interest list, unchanged
    retrain   with --retrain-every, a thread of this job retrains the model on the
              job's own Spark (stage3.retrainer): no second Spark JVM

    python -m stage3.streaming_job                       # live, until Ctrl-C
    python -m stage3.streaming_job --max-events 2000     # exit 0 once 2000 records are searchable
    python -m stage3.streaming_job --retrain-every 10m   # live, a retraining round every 10 minutes

Same options as stage2.streaming_job; its own checkpoint (stage3-<topic>-<index>).
Like it, it waits for an engine that goes away and restarts a failed query from
its checkpoint (see stage2.streaming_job).
"""
from __future__ import annotations

import argparse
import sys

from common.clients import EngineUnavailable
from common.config import get_settings
from common.schema import STAGE3_DOC_FIELDS
from stage2.streaming_job import parse_args, run, start_spark
from stage3.offers import queue_offers
from stage3.retrainer import Retrainer
from stage3.train import parse_every


def retrain_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--retrain-every", type=parse_every, metavar="DURATION",
                   help="retrain the model in this job's Spark this often (10m, 45s); the first round after one period")
    p.add_argument("--retrain-from-es", action="store_true",
                   help="with --retrain-every: the history from the stage-2/3 indices, not tracks.csv")


def main(argv: list[str] | None = None) -> int:
    s = get_settings()
    opts = parse_args(argv, app="stage3", doc=__doc__, extend=retrain_args)
    spark = start_spark("stage3-streaming", s, opts, s.index_stage3)
    retrainer = None
    if opts.extra.retrain_every:
        retrainer = Retrainer(spark, s, opts.extra.retrain_every, from_es=opts.extra.retrain_from_es).start()
    try:
        # stage 2's job, with the targeting run on each partition's documents before indexing
        status = run(spark, s, opts, s.index_stage3, STAGE3_DOC_FIELDS, before_index=queue_offers)
    except EngineUnavailable as exc:       # only after ENGINE_GIVE_UP_SECONDS
        print(f"streaming job: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        if retrainer is not None:
            retrainer.stop()
        spark.stop()
    print(status.summary(s.index_stage3), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
