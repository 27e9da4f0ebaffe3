"""The service manager: fetch, start, check and stop the local engines.

    python -m services fetch            download the engines once (Maven Central)
    python -m services up [kafka ...]   start them (idempotent) and wait until healthy
    python -m services status           one line per engine: URL and state
    python -m services logs             last lines of every engine's log
    python -m services down             stop what this project started (pid files)
    python -m services reset            down, then wipe data, checkpoints, offsets and the generator's position

(``make services-up``, ``make services-status`` ... run the same commands.)
With ``ENGINES=external`` (engines run by docker compose or a shared cluster)
``up`` starts nothing and only checks each URL, ``down`` stops nothing and
``reset`` wipes only the local files.
Engine names: redis, elasticsearch (or es), kafka; none means all three.

Everything lives in ``.runtime/`` (git-ignored): ``jars/`` and ``elasticsearch-<v>/``
(downloads, kept by reset; ``DOWNLOADS_DIR`` moves them), ``data/`` (engine data),
``logs/``, ``run/`` (pid files), and each engine's configuration (``redis.conf``,
``elasticsearch/config/``, ``kafka/``). Versions come from
``services/versions.env``; the Maven descriptor is ``services/pom.xml``; every
downloaded file's SHA-256 is pinned in ``services/checksums.sha256``. Every
engine binds to ``settings.bind_host`` (127.0.0.1); anything wider is refused
unless ``ALLOW_REMOTE_BIND=yes`` (the engines have no authentication).

Where to read what:

    fetch.py               versions, Maven, the jar sets, the Elasticsearch download, checksums
    system.py              the machine: ports, processes and their command lines, the bind
                           check, JDKs, memory, apt-get, the ES user
    redis_server.py        Redis: its configuration, start and health check
    elasticsearch_node.py  Elasticsearch: the same
    kafka_broker.py        Kafka: the same
    spark_cluster.py       make cluster-up's Spark standalone master and workers
    multinode.py           make cluster-up's three Kafka brokers and three Elasticsearch nodes
    manager.py             the engine table, up / down / status / logs / reset
    __main__.py            the command line above

Failures raise :class:`ServiceError` whose message is one line naming the cause
and the fix; the CLI prints it and exits 1. From Python:

    import services
    services.up(["redis"]); services.status()
"""
from services.fetch import es_home, fetch, versions
from services.manager import (ENGINE_TABLE, ENGINES, Engine, check_external, down, external, logs, our_pid,
                              reset, status, up)
from services.system import (ServiceError, available_memory_mb, find_jdk, java_major, max_map_count,
                             pid_file, port_open)

__all__ = ["ENGINES", "ENGINE_TABLE", "Engine", "ServiceError", "fetch", "up", "down", "status", "logs",
           "reset", "our_pid", "external", "check_external", "pid_file", "versions", "find_jdk", "java_major", "port_open",
           "available_memory_mb", "max_map_count", "es_home"]
