"""One settings object for every stage.

Values come from environment variables (case-insensitive, same names as the
fields, e.g. ``ES_URL``, ``KAFKA_BOOTSTRAP_SERVERS``) and from an optional
``.env`` file at the repository root. The defaults point at the local engines
that ``make services-up`` starts; pointing a stage at a shared cluster is
configuration only.

    from common.config import get_settings
    s = get_settings()
    s.es_url, s.kafka_topic, s.redis_url
"""
from __future__ import annotations

import hashlib
import os
import sys
from functools import lru_cache
from pathlib import Path

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=REPO_ROOT / ".env", extra="ignore")

    # --- where things live -------------------------------------------------
    data_dir: Path = REPO_ROOT / "data"
    runtime_dir: Path = REPO_ROOT / ".runtime"
    # where fetched engines (jars, the Elasticsearch distribution) are kept. It
    # does not follow runtime_dir, so a run with its own runtime_dir (a test, a
    # second group) reuses the downloads; point several clones at one folder to
    # download once.
    downloads_dir: Path = REPO_ROOT / ".runtime"
    # the live listening log: stage 1's generator appends to it, the shippers tail it
    live_file: Path = REPO_ROOT / "00.stage1" / "tracks_live.csv"

    # --- engines ------------------------------------------------------------
    # "local": `make` starts and stops the engines itself (services/); "external":
    # they run elsewhere (docker compose, a shared cluster) and `make` only checks them
    engines: str = "local"
    bind_host: str = "127.0.0.1"
    kafka_port: int = 9092
    kafka_controller_port: int = 9093
    # Left empty, the client URLs are built from bind_host and the ports above,
    # so changing KAFKA_PORT alone moves both the broker and its clients.
    kafka_bootstrap_servers: str = ""
    kafka_topic: str = "realtime"
    kafka_partitions: int = 2
    # Extra client settings for a shared cluster, e.g. "security_protocol=SASL_SSL"
    kafka_security_protocol: str = "PLAINTEXT"
    # Copies of each new topic's partitions (0: one per broker, at most 3) and how many of
    # them must have a write before it is acknowledged (0: replicas - 1, at least 1). On one
    # broker that is 1 and 1; on three brokers 3 and 2, so one broker may fail at any time.
    kafka_replication_factor: int = 0
    kafka_min_insync_replicas: int = 0

    es_port: int = 9200
    es_url: str = ""                      # several nodes: comma-separated, the clients fail over
    es_api_key: str | None = None
    es_username: str | None = None
    es_password: str | None = None
    es_ca_file: Path | None = None
    # --- memory (docs/memory.md: `make demo` fits 3 GB at its peak with these; `make memory` measures it) --
    es_heap: str = "384m"                 # Elasticsearch's JVM heap (-Xms = -Xmx); tested down to 384m
    kafka_heap: str = "256m"              # the Kafka broker's JVM heap (-Xms = -Xmx); a workshop's topics need little
    spark_driver_memory: str = "640m"     # heap of each Spark driver JVM (local mode: the executors live in it too)
    # Each Spark driver JVM's options, measured in docs/memory.md: the quick JIT compiler
    # only (C2's compiling took ~0.3 core and ~100 MB of code cache), the serial
    # collector (less memory beside the heap than G1; its pauses are short on a heap this small)
    # and a code cache with room for the streaming queries AND stage 3's training rounds: a
    # full code cache stops the JIT, then fails tasks (docs/memory.md, fourth pass)
    spark_driver_java_options: str = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:ReservedCodeCacheSize=128m"
    # local mode: Spark forks its Python workers from this daemon module, which loads their
    # libraries first so the workers share them (common/pydaemon.py); "pyspark.daemon" is Spark's own
    spark_python_daemon: str = "common.pydaemon"
    # VERBOSE=1: Spark's own default log (every warning it prints) instead of the project's
    # quieter one (common/log4j2-quiet.properties), e.g. make stage2 VERBOSE=1
    verbose: bool = False

    redis_port: int = 6379
    redis_url: str = ""
    redis_maxmemory: str = "512mb"        # then Redis refuses writes (noeviction): no key silently dropped
    # The local engines have no authentication: binding them (BIND_HOST) beyond loopback
    # is refused unless confirmed with ALLOW_REMOTE_BIND=yes (services/system.py).
    allow_remote_bind: bool = False
    runtime_warn_gb: float = 5.0          # make doctor warns when .runtime/ (downloads aside) grows past it
    dashboard_max_clients: int = 50       # open dashboard pages (SSE streams) at once; then 503 (stage 4)

    # --- when an engine goes away (common.retry) -------------------------------
    engine_timeout_seconds: float = 10.0      # one request to Redis or Elasticsearch, at most
    engine_retry_cap_seconds: float = 30.0    # longest pause between two retries
    engine_give_up_seconds: float = 600.0     # then a component exits with a clear message

    spark_master: str = "local[2]"
    trigger_interval: str = "2 seconds"
    spark_shuffle_partitions: int = 2
    # A local Spark standalone cluster (make cluster-up, services/spark_cluster.py): a master
    # and SPARK_CLUSTER_WORKERS workers on bind_host; run a stage on it with
    # SPARK_MASTER=spark://127.0.0.1:7077. The master's web UI and JSON status are on
    # SPARK_MASTER_WEBUI_PORT (8088: 8080 is often taken); worker UIs take free ports.
    spark_master_port: int = 7077
    spark_master_webui_port: int = 8088
    spark_cluster_workers: int = 2
    spark_worker_cores: int = 1               # cores each worker offers
    spark_worker_memory: str = "1g"           # memory each worker offers to executors
    spark_daemon_memory: str = "256m"         # heap of the master and worker JVMs themselves
    # What an application asks of a cluster (ignored in local[...] mode): one executor
    # per worker with this many cores and this heap, and the executors' Python, which must
    # exist on every worker machine and import pyspark, pandas, pyarrow, redis and
    # elasticsearch (empty: this virtual environment's python). The project's own code is
    # shipped to the executors as a zip (common/spark.py).
    spark_executor_memory: str = "512m"
    spark_executor_cores: int = 1
    spark_executor_python: str = ""
    # Kafka and Elasticsearch as three-node clusters on this machine (make cluster-up,
    # services/multinode.py), beside the single engines: brokers on KAFKA_CLUSTER_PORT and
    # the next two ports (their controllers 100 above), Elasticsearch nodes on
    # ES_CLUSTER_PORT and the next two (their transport ports 100 above).
    kafka_cluster_brokers: int = 3
    kafka_cluster_port: int = 19092
    kafka_cluster_heap: str = "256m"
    es_cluster_nodes: int = 3
    es_cluster_port: int = 19200
    es_cluster_heap: str = "384m"

    dashboard_port: int = 3000
    dashboard_refresh_ms: int = 2000        # how often the dashboard asks the engines (stage 4)
    dashboard_window_minutes: int = 30      # minutes in its plays-per-minute chart

    # --- names (fixed defaults, so teachers, tests and tools can rely on them) -------------------------------------------------
    index_stage1: str = "ba_realtime"
    index_stage2: str = "ba_realtime2"
    index_stage3: str = "ba_realtime3"
    index_interest: str = "ba_interest"
    index_profiles: str = "ba_profiles"          # live listening profile per customer (stage 2)
    index_stats: str = "ba_stats"                # Spark's windowed aggregates (stage 2)
    index_deadletter: str = "ba_deadletter"
    index_pipeline: str = "ba_pipeline"            # the pipeline collector: one document per sample (stage 4)
    redis_offers_stream: str = "sms:offers"
    redis_offers_dead_stream: str = "sms:offers:dead"
    redis_offers_channel: str = "offers"
    redis_customer_prefix: str = "customer:"     # + CustID -> hash (stage 2 import)
    redis_interest_prefix: str = "interest:"     # + customer_id -> set of track ids
    # watching the pipeline (stage4.pipeline): the streaming job's listener keeps each query's last
    # progress in a hash, the collector keeps its recent samples in a list the dashboard reads
    redis_pipeline_progress: str = "pipeline:progress"   # hash: <app>:<query> -> last progress (JSON)
    redis_pipeline_samples: str = "pipeline:samples"     # list: the latest samples, newest first
    pipeline_interval_seconds: float = 5.0               # the collector samples this often

    # --- behaviour ------------------------------------------------------------
    replay_rate: float = 5.0          # events per second for the live generator
    bulk_size: int = 2000             # documents per Elasticsearch bulk request
    interest_min_plays: int = 3
    interest_window_minutes: int = 30
    interest_lateness_minutes: int = 10   # watermark delay for the interest list
    stats_window_minutes: int = 30        # windowed aggregates: each window's length ...
    stats_slide_minutes: int = 5          # ... and how often a new window starts
    stats_lateness_minutes: int = 10      # watermark delay for the windowed aggregates
    model_error_threshold: float = 0.10
    # Bad input never stops a stage (common.events): a play dated more than this
    # ahead of its arrival (the Kafka record's time) is dead-lettered as
    # datetime_in_future before it can move a watermark. Keep it below the
    # lateness settings (10 min), so an accepted play never makes on-time plays late.
    max_event_lead_seconds: int = 300
    # A longer line is dead-lettered as line_too_long: the follower cuts it (its
    # memory stays bounded), the Kafka producer never sends it (brokers take ~1 MiB).
    max_line_bytes: int = 65536
    interest_ttl_seconds: int = 7 * 86400   # an interest:{customer_id} set expires this long after its last change
    sms_webhook_url: str | None = None

    # --- stage 3 (targeting and SMS; key names are settings so tests can isolate) --
    redis_targets_set: str = "ad_targets"
    redis_target_prefix: str = "ad_target:"           # + CustID -> hash(model_version, probability)
    redis_offered_prefix: str = "sms:offered:"        # + CustID:YYYY-MM-DD, one offer a day
    redis_sms_sent_counter: str = "sms:sent_total"
    sms_max_attempts: int = 5                          # then the offer goes to the dead stream
    redis_outcomes_hash: str = "sms:outcomes"         # offer_id -> JSON outcome (clicked or not)
    redis_drift_key: str = "stage3:drift_at"          # epoch seconds from which the click model drifts
    redis_model_status: str = "model:status"          # hash: promoted model and the last round's verdict
    offer_period_seconds: int = 86400                 # one offer per customer per period (a day)
    offer_explore_share: float = 0.0                  # share of non-target Free/Silver customers offered anyway
    model_history_customers: int = 0                  # train on the N most recently offered customers (0 = all)
    # Several SMS senders at once (stage3.sms_sender). An offer read but not acknowledged for
    # SMS_CLAIM_IDLE_SECONDS is taken over by another sender (its sender died or hangs): keep it
    # longer than any one send can take, SMS_MAX_ATTEMPTS x SMS_WEBHOOK_TIMEOUT_SECONDS + backoffs.
    sms_claim_idle_seconds: float = 300.0
    sms_max_deliveries: int = 5                        # handed out this often unacknowledged: dead stream
    sms_webhook_timeout_seconds: float = 10.0          # one webhook POST, in total (redirects refused)
    # Bounds on what stage 3 appends: ~ (approximate) MAXLEN on sms:offers and sms:offers:dead
    # (entries beyond it are trimmed, oldest first), and an expiry on the per-offer keys
    sms_stream_maxlen: int = 100_000
    sms_delivered_ttl_seconds: int = 7 * 86400         # sms:offers:sent:<offer_id> and each day's delivered set
    outcomes_max: int = 200_000                        # sms:outcomes keeps the most recent this many (oldest dropped)
    sms_outbox_max_bytes: int = 64 * 1024 * 1024       # the outbox file is rotated to <file>.1 at this size
    model_versions_kept: int = 10                      # model folders on disk; the promoted one is never deleted

    @model_validator(mode="after")
    def _fill_urls(self) -> "Settings":
        if not self.kafka_bootstrap_servers:
            self.kafka_bootstrap_servers = self._own_address("kafka")
        if not self.es_url:
            self.es_url = self._own_address("elasticsearch")
        if not self.redis_url:
            self.redis_url = f"redis://{self.bind_host}:{self.redis_port}/0"
        return self

    # --- derived paths ------------------------------------------------------
    @property
    def checkpoint_dir(self) -> Path:
        return self.runtime_dir / "checkpoints"

    def _own_address(self, engine: str) -> str:
        """Where this machine's own single node of ``engine`` listens (the services package's)."""
        if engine == "kafka":
            return f"{self.bind_host}:{self.kafka_port}"
        return f"http://{self.bind_host}:{self.es_port}"

    def place_tag(self, engine: str) -> str:
        """'' for this machine's own single node of ``engine`` ("kafka" or "elasticsearch"),
        '@<hash of its addresses>' for any other (a cluster, a shared one). Checkpoints and
        shipper offsets carry it in their names: offsets saved against one Kafka are never
        read against another, whose topic has other offsets ("offset was changed")."""
        given = self.kafka_bootstrap_servers if engine == "kafka" else self.es_url
        if given.strip().rstrip("/") == self._own_address(engine):
            return ""
        return "@" + hashlib.sha1(given.strip().encode()).hexdigest()[:6]

    @property
    def es_urls(self) -> list[str]:
        """ES_URL's nodes (one, or several comma-separated)."""
        return [u.strip() for u in self.es_url.split(",") if u.strip()]

    def es_client_kwargs(self) -> dict:
        """Keyword arguments for ``elasticsearch.Elasticsearch`` from the settings."""
        # Bulk requests may take longer than a ping; timeouts and 429/502-504 are retried
        # by the client itself, a few times, before common.retry takes over.
        kw: dict = {"hosts": self.es_urls, "request_timeout": max(30.0, self.engine_timeout_seconds),
                    "retry_on_timeout": True, "max_retries": 3}
        if self.es_api_key:
            kw["api_key"] = self.es_api_key
        elif self.es_username:
            kw["basic_auth"] = (self.es_username, self.es_password or "")
        if self.es_ca_file:
            kw["ca_certs"] = str(self.es_ca_file)
        return kw


def env_file_warning(path: Path = REPO_ROOT / ".env") -> str | None:
    """A warning if ``.env`` (it may hold a shared cluster's keys) is readable by others."""
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        return None
    if mode & 0o077:
        return (f"{path} has mode {mode:o}, so other users of this machine can read it (it may hold "
                f"passwords or API keys): chmod 600 {path}")
    return None


@lru_cache
def get_settings() -> Settings:
    # said once per run: the settings are cached, and the processes a stage starts inherit the mark
    warning = env_file_warning()
    if warning and not os.environ.get("ENV_FILE_WARNED"):
        print(f"warning: {warning}", file=sys.stderr)
        os.environ["ENV_FILE_WARNED"] = "1"
    return Settings()
