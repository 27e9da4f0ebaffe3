"""The data model, defined once.

Every other representation is *rendered* from the tables below: the CSV column
lists the generator writes and the shipper parses, the Spark ``StructType`` the
streaming job applies, and the Elasticsearch index templates. Logstash pipeline
files and Kibana saved objects are text, so tests compare them with these
definitions instead.

A field kind is one of: ``keyword``, ``text``, ``integer``, ``long``, ``float``,
``date`` (``YYYY-MM-DD HH:MM:SS`` unless said otherwise), ``boolean``, ``geo_point``.
"""
from __future__ import annotations

from dataclasses import dataclass

EVENT_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"       # Python strftime/strptime
EVENT_DATETIME_JAVA = "yyyy-MM-dd HH:mm:ss"        # Spark, Elasticsearch, Logstash
SIGNDATE_FORMAT = "%m/%d/%Y"


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    doc: str = ""


# --- the CSV files -----------------------------------------------------------
# listening event: one line per play, tracks.csv and the live file (no header in
# the live file, like the original MapR demo)
EVENT_FIELDS: tuple[Field, ...] = (
    Field("event_id", "long", "unique id of the play"),
    Field("customer_id", "integer", "CustID in cust.csv"),
    Field("track_id", "integer", "TrackId in music.csv"),
    Field("datetime", "date", "when the play started, YYYY-MM-DD HH:MM:SS (UTC)"),
    Field("ismobile", "integer", "1 when played on a phone, 0 on a PC"),
    Field("listening_zip_code", "keyword", "US zip where the play happened"),
)

CUSTOMER_FIELDS: tuple[Field, ...] = (
    Field("CustID", "integer"),
    Field("Name", "text"),
    Field("Gender", "integer", "0 or 1"),
    Field("Address", "text"),
    Field("zip", "keyword"),
    Field("SignDate", "keyword", "MM/DD/YYYY"),
    Field("Status", "integer", "0 closed, 1 active"),
    Field("Level", "integer", "0 Free, 1 Silver, 2 Gold"),
    Field("Campaign", "integer"),
    Field("LinkedWithApps", "integer"),
)

MUSIC_FIELDS: tuple[Field, ...] = (
    Field("TrackId", "integer"),
    Field("Title", "text"),
    Field("Artist", "keyword"),
    Field("Length", "integer", "seconds"),
)

CLICK_FIELDS: tuple[Field, ...] = (
    Field("EventID", "long"),
    Field("CustID", "integer"),
    Field("AdClicked", "keyword", "offer name; ADV_REDUCED_1DAY matters"),
    Field("Localtime", "date"),
)

OFFER_NAME = "ADV_REDUCED_1DAY"
LEVELS = {0: "Free", 1: "Silver", 2: "Gold"}

# --- documents in Elasticsearch --------------------------------------------
# Added to every event document by the shipper / streaming job (from the zip table)
GEO_FIELDS: tuple[Field, ...] = (
    Field("location", "geo_point", "lat/lon of listening_zip_code"),
    Field("state", "keyword", "two-letter US state of listening_zip_code"),
    Field("city", "keyword"),
    Field("hour", "integer", "hour of day of the play, 0-23"),
)

# Added by the stage-2 enrichment (customer hash in Redis + music catalog)
ENRICHED_FIELDS: tuple[Field, ...] = (
    Field("customer_known", "boolean", "false when the customer id is not in Redis"),
    Field("name", "keyword"),
    Field("gender", "keyword", "female / male"),
    Field("age", "integer"),
    Field("age_band", "keyword"),
    Field("level", "keyword", "Free / Silver / Gold"),
    Field("campaign", "integer"),
    Field("customer_zip", "keyword"),
    Field("linked_with_apps", "integer"),
    Field("title", "keyword"),
    Field("artist", "keyword"),
    Field("length", "integer"),
)

# Added by stage 3
TARGETING_FIELDS: tuple[Field, ...] = (
    Field("ad_target", "boolean"),
    Field("send_event", "integer", "1 when this play queued the SMS offer"),
)

INTEREST_FIELDS: tuple[Field, ...] = (
    Field("customer_id", "integer"),
    Field("track_id", "integer"),
    Field("first_play", "date"),
    Field("last_play", "date"),
    Field("plays", "integer"),
)

# The live customer profiles (stage 2): one document per customer, _id = customer_id;
# the features are common.profiles.PROFILE_COLUMNS, computed by profile_from_counts
PROFILE_FIELDS: tuple[Field, ...] = (
    Field("customer_id", "integer"),
    Field("morning", "float", "share of the plays that started in [05:00, 12:00)"),
    Field("afternoon", "float", "[12:00, 17:00)"),
    Field("evening", "float", "[17:00, 22:00)"),
    Field("night", "float", "[22:00, 05:00)"),
    Field("mobile", "float", "share of the plays on a phone"),
    Field("distinct_ratio", "float", "distinct tracks / plays"),
    Field("plays", "long"),
    Field("last_play", "date", "event time of the latest play counted"),
    Field("updated_at", "date", "when the streaming job last wrote this document (UTC)"),
)

# Spark's windowed aggregates (stage 2): plays per window and per key of one dimension
STATS_FIELDS: tuple[Field, ...] = (
    Field("window_start", "date", "the window covers [window_start, window_end)"),
    Field("window_end", "date"),
    Field("dimension", "keyword", "state / level / device"),
    Field("key", "keyword", "e.g. CA, Gold, mobile"),
    Field("plays", "long"),
)

DEADLETTER_FIELDS: tuple[Field, ...] = (
    Field("source", "keyword", "which component rejected it"),
    Field("reason", "keyword"),
    Field("raw", "text", "the rejected input, as received"),
    Field("rejected_at", "date"),
)

# The pipeline collector (stage4.pipeline): one document per sample, every few seconds,
# each number read from its own source (03.stage4/README.md, "The Pipeline panel")
PIPELINE_FIELDS: tuple[Field, ...] = (
    Field("sampled_at", "date", "when the collector took the sample (UTC)"),
    Field("engines_down", "keyword", "the engines that did not answer: kafka, elasticsearch, redis"),
    Field("file_lag_lines", "long", "complete lines in the live file after the shipper's saved offset"),
    Field("file_lag_bytes", "long", "bytes in the live file after the shipper's saved offset"),
    Field("file_size_bytes", "long", "size of the live file"),
    Field("shipper", "keyword", "the shipper whose offset was read, e.g. kafka:realtime"),
    Field("spark_app", "keyword", "the streaming job whose queries were read: stage2 / stage3"),
    Field("kafka_end_offsets", "long", "the topic's end offsets, summed over its partitions"),
    Field("kafka_lag", "long", "records in Kafka the enrichment query has not processed yet"),
    Field("kafka_lag_interest", "long"),
    Field("kafka_lag_profiles", "long"),
    Field("kafka_lag_stats", "long"),
    Field("spark_behind_latest", "long", "Spark's own maxOffsetsBehindLatest at the last enrichment batch"),
    Field("spark_input_rows_per_s", "float", "enrichment: rows per second arriving (last batch)"),
    Field("spark_processed_rows_per_s", "float", "enrichment: rows per second processed (last batch)"),
    Field("spark_batch_seconds", "float", "enrichment: the last batch's duration"),
    Field("spark_progress_age_seconds", "float", "seconds since the enrichment query's last progress"),
    Field("spark_watermark", "date", "the windowed stats' watermark (event time)"),
    Field("es_docs_per_s", "float", "documents indexed per second on the node (_nodes/stats delta)"),
    Field("es_refreshes_per_s", "float"),
    Field("es_write_rejected", "long", "write requests the node rejected since the previous sample"),
    Field("deadletters_per_min", "long", "dead letters rejected in the last minute"),
    Field("deadletter_reasons", "keyword", "source/reason=count, for the last minute"),
    Field("offers_queued", "long", "entries in the offers stream (XLEN)"),
    Field("offers_pending", "long", "offers not delivered yet: not read (XINFO GROUPS lag) + read, not acknowledged (XPENDING)"),
    Field("offers_dead", "long", "entries in the dead offers stream"),
    Field("model_last_round", "keyword", "the last training round: version and verdict"),
    Field("model_last_at", "date"),
)

EVENT_COLUMNS: list[str] = [f.name for f in EVENT_FIELDS]
CUSTOMER_COLUMNS: list[str] = [f.name for f in CUSTOMER_FIELDS]
MUSIC_COLUMNS: list[str] = [f.name for f in MUSIC_FIELDS]
CLICK_COLUMNS: list[str] = [f.name for f in CLICK_FIELDS]
# The original MapR demo's cust.csv has these columns in this order; our
# generator writes the same, so the importer accepts either unchanged.
ORIGINAL_CUSTOMER_COLUMNS = CUSTOMER_COLUMNS

STAGE1_DOC_FIELDS = EVENT_FIELDS + GEO_FIELDS
STAGE2_DOC_FIELDS = STAGE1_DOC_FIELDS + ENRICHED_FIELDS
STAGE3_DOC_FIELDS = STAGE2_DOC_FIELDS + TARGETING_FIELDS


# --- renderings ----------------------------------------------------------------
def csv_columns(fields: tuple[Field, ...]) -> list[str]:
    return [f.name for f in fields]


_ES_TYPES = {
    "keyword": {"type": "keyword"},
    "text": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}},
    "integer": {"type": "integer"},
    "long": {"type": "long"},
    "float": {"type": "float"},
    "boolean": {"type": "boolean"},
    "geo_point": {"type": "geo_point"},
    "date": {"type": "date", "format": f"{EVENT_DATETIME_JAVA}||strict_date_optional_time||epoch_millis"},
}

# Ids are searched as exact values, never summed: keywords in Elasticsearch
_ES_KEYWORD_IDS = {"event_id", "customer_id", "track_id"}


def es_mappings(fields: tuple[Field, ...]) -> dict:
    props = {}
    for f in fields:
        props[f.name] = {"type": "keyword"} if f.name in _ES_KEYWORD_IDS else dict(_ES_TYPES[f.kind])
    return {"dynamic": "strict", "properties": props}


def es_index_template(index: str, fields: tuple[Field, ...], refresh_interval: str = "1s") -> dict:
    """A composable index template body for ``index`` (matches the index name exactly)."""
    return {
        "index_patterns": [index],
        "priority": 200,
        "template": {
            # one copy of each shard on another node when the cluster has one (0 on a single
            # node, which then stays green): a node may die and no document is lost
            "settings": {"number_of_shards": 1, "auto_expand_replicas": "0-1",
                         "refresh_interval": refresh_interval},
            "mappings": es_mappings(fields),
        },
    }


_SPARK_TYPES = {
    "keyword": "StringType", "text": "StringType", "integer": "IntegerType", "long": "LongType",
    "float": "DoubleType", "boolean": "BooleanType", "date": "TimestampType",
}


def spark_schema(fields: tuple[Field, ...] = EVENT_FIELDS, dates_as_strings: bool = False):
    """A pyspark ``StructType`` for ``fields`` (imported lazily: pyspark is heavy).

    With ``dates_as_strings`` dates stay strings, for parsing CSV text yourself.
    """
    from pyspark.sql import types as T

    out = []
    for f in fields:
        if f.kind == "geo_point":
            continue
        name = "StringType" if (f.kind == "date" and dates_as_strings) else _SPARK_TYPES[f.kind]
        out.append(T.StructField(f.name, getattr(T, name)(), True))
    return T.StructType(out)
