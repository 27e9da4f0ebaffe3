"""``make es-templates``: index templates and indices first, for tools that create nothing.

Logstash and Kibana do not know common/schema.py. A Logstash that writes to an
index nobody created gets mappings guessed from the first document (no
``geo_point``: the Kibana map breaks), so the pipelines never create an index
(``manage_template => false``) and this tool makes every index beforehand, each
with the template rendered from the schema. It also writes the zip tables
Logstash's translate filter reads (``.runtime/logstash/``). Idempotent.

    make es-templates                         # local engines
    ENGINES=external make es-templates        # docker compose / a shared cluster
"""
from __future__ import annotations

import sys

from common.clients import es_client
from common.config import Settings, get_settings
from common.schema import (DEADLETTER_FIELDS, INTEREST_FIELDS, PIPELINE_FIELDS, PROFILE_FIELDS, STAGE1_DOC_FIELDS,
                           STAGE2_DOC_FIELDS, STAGE3_DOC_FIELDS, STATS_FIELDS, Field)
from common.sinks import ensure_index
from stage1.logstash_dictionaries import write_dictionaries


def index_fields(s: Settings) -> dict[str, tuple[Field, ...]]:
    """Every index the workshop writes, with the schema fields of its template."""
    return {
        s.index_stage1: STAGE1_DOC_FIELDS,
        s.index_stage2: STAGE2_DOC_FIELDS,
        s.index_stage3: STAGE3_DOC_FIELDS,
        s.index_interest: INTEREST_FIELDS,
        s.index_profiles: PROFILE_FIELDS,
        s.index_stats: STATS_FIELDS,
        s.index_deadletter: DEADLETTER_FIELDS,
        s.index_pipeline: PIPELINE_FIELDS,
    }


# The streaming jobs refresh after every batch and create these two without the
# periodic refresh (01.stage2/streaming_job.py prepare): the same here.
NO_PERIODIC_REFRESH = ("index_stage2", "index_stage3")


def main() -> int:
    s = get_settings()
    es = es_client(s)
    quiet = {getattr(s, name) for name in NO_PERIODIC_REFRESH}
    for index, fields in index_fields(s).items():
        ensure_index(es, index, fields, refresh_interval="-1" if index in quiet else "1s")
        print(f"  {index:<16} template and index ready ({len(fields)} fields)", flush=True)
    folder = write_dictionaries(s)
    print(f"Logstash on this machine: LIVE_FILE={s.live_file} SINCEDB_DIR={s.runtime_dir / 'offsets'} "
          f"LOGSTASH_DICTIONARIES={folder} ES_URL={s.es_url} logstash -f 00.stage1/logstash_stage1.conf")
    return 0


if __name__ == "__main__":
    sys.exit(main())
