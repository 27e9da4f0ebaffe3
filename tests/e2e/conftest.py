"""Fixtures of the end-to-end tests.

``private_engines``: one private set of Kafka, Elasticsearch and Redis
(tests/faults_kit.py) for the whole session, shared by the fault tests
(test_engine_faults, test_pipeline_faults): only these engines are killed and
paused, the shared ones other tests use are never touched. Starting a set costs
about a minute (Elasticsearch most of it), so the modules share one; each run on
it keeps to names of its own. Under pytest-xdist the modules that use it are in
one group (tests/conftest.py), so they share it there too.
"""
from __future__ import annotations

import pytest

from tests.faults_kit import private_engine_set


@pytest.fixture(scope="session")
def private_engines(engines):
    """(settings, environment) of the private engines; the downloads are the shared
    set's (``engines`` makes sure they are there)."""
    with private_engine_set() as (s, env):
        yield s, env
