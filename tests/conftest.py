"""Shared pytest fixtures.

``engines`` makes sure the real Elasticsearch, Kafka and Redis are running
(starting them through the project's own service manager if needed; it never
skips). Tests isolate themselves with ``unique`` names rather than by stopping
or wiping engines that other tests share.
"""
from __future__ import annotations

import uuid

import pytest


@pytest.fixture(scope="session")
def engines():
    import services

    services.up()          # idempotent: returns at once when all are healthy
    return services


@pytest.fixture
def unique() -> str:
    """A short random suffix for index, topic and key names used by one test."""
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def settings():
    from common.config import get_settings

    return get_settings()
