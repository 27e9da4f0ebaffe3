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


# --- make test runs pytest on two workers (pytest-xdist, --dist loadgroup) ---------------
# Each module is one unit of work, run whole on one worker, so a module's own fixtures (a
# Spark session, a private cluster) start once. Modules that share a session fixture are
# one unit together. The longest units go first, so that none of them starts last and
# keeps one worker busy while the other has nothing left to do.
SHARED_UNITS = {
    # one private engine set (tests/e2e/conftest.py): the fault tests pause and kill it
    "test_engine_faults": "private-engines",
    "test_pipeline_faults": "private-engines",
}
LONGEST_FIRST = ["test_multinode", "private-engines", "test_learner_sequence", "test_offline_bundle"]


@pytest.hookimpl(tryfirst=True)                # before xdist reads the groups from the marks
def pytest_collection_modifyitems(config, items):
    if not hasattr(config, "workerinput"):        # not an xdist worker: the order as collected
        return
    for item in items:
        if not any(item.iter_markers("xdist_group")):
            module = item.path.stem
            item.add_marker(pytest.mark.xdist_group(SHARED_UNITS.get(module, module)))

    def rank(item) -> int:
        group = next(item.iter_markers("xdist_group")).args[0]
        return LONGEST_FIRST.index(group) if group in LONGEST_FIRST else len(LONGEST_FIRST)
    items.sort(key=rank)                              # stable: the collected order otherwise


@pytest.hookimpl(optionalhook=True)          # a hook of pytest-xdist: unknown without it
def pytest_xdist_make_scheduler(config, log):
    """loadgroup, but a worker is handed its next unit only when one test of its current
    unit is left, not three (xdist's default): a worker that still has minutes of work
    does not take a unit the other worker could start now."""
    if config.getoption("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class OneUnitAhead(LoadGroupScheduling):
        def _reschedule(self, node):
            if node.shutting_down:
                return
            if not self.workqueue:
                node.shutdown()
                return
            if self._pending_of(self.assigned_work[node]) > 1:
                return
            self._assign_work_unit(node)

    return OneUnitAhead(config, log)
