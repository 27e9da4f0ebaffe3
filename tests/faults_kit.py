"""What the fault tests share: a private set of engines (own ports, own .runtime folder,
the downloads of the shared set) that only they kill and pause, and the settings that
make an outage noticed and left quickly.

One set serves every module that asks for the ``private_engines`` fixture
(tests/e2e/conftest.py): each run on it works under names of its own, so they
do not see each other's plays.
"""
from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from common.config import REPO_ROOT, Settings, get_settings

SAMPLE = REPO_ROOT / "data" / "sample"
# short timeouts and retry pauses, so an outage is noticed and left quickly
FAST = {"ENGINE_TIMEOUT_SECONDS": "2", "ENGINE_RETRY_CAP_SECONDS": "2", "ENGINE_GIVE_UP_SECONDS": "120"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def private_engine_set() -> Iterator[tuple[Settings, dict]]:
    """Start Kafka, Elasticsearch and Redis of our own; yields their settings and the
    environment that points a subprocess at them; stops them and removes their folder.
    Under .runtime/ (not pytest's 0700 tmp folder) so the Elasticsearch user can enter it."""
    import services

    shared = get_settings()
    runtime = shared.runtime_dir / f"test-faults-{uuid.uuid4().hex[:8]}"
    runtime.mkdir(parents=True)
    s = Settings(runtime_dir=runtime, downloads_dir=shared.downloads_dir, kafka_port=free_port(),
                 kafka_controller_port=free_port(), es_port=free_port(), redis_port=free_port(),
                 data_dir=SAMPLE, trigger_interval="1 second", interest_lateness_minutes=1440)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **FAST,
           "RUNTIME_DIR": str(runtime), "DOWNLOADS_DIR": str(shared.downloads_dir),
           "KAFKA_PORT": str(s.kafka_port), "KAFKA_CONTROLLER_PORT": str(s.kafka_controller_port),
           "ES_PORT": str(s.es_port), "REDIS_PORT": str(s.redis_port), "DATA_DIR": str(SAMPLE),
           "TRIGGER_INTERVAL": "1 second",
           # the sample's plays are hours apart between Kafka partitions: no play is late
           "INTEREST_LATENESS_MINUTES": "1440"}
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "ES_URL", "REDIS_URL"):   # derived from the ports
        env.pop(name, None)
    try:
        services.up(settings=s)
        yield s, env
    finally:
        services.down(settings=s)
        shutil.rmtree(runtime, ignore_errors=True)
