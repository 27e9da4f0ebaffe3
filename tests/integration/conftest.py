"""Fixtures for the integration tests that run the stage-2 job in this process.

``spark`` is one local Spark session for every module that asks for it (each JVM start
costs seconds of both cores; the tests leave no query running and set nothing on the
session that another test reads); ``stage2`` gives a test its own topic, indices, Redis
prefixes and data folder (a 3-track catalog and one customer) and removes them
afterwards. The helpers that use them are in ``tests/stage2_kit.py``.
"""
from __future__ import annotations

import pytest

from tests.stage2_kit import stage2_settings
from tests.cleanup import drop_test_resources


@pytest.fixture(scope="session")
def _spark_stopped_at_the_end():
    yield
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    if session is not None:
        session.stop()


@pytest.fixture(scope="module")
def spark(engines, _spark_stopped_at_the_end):
    """The session an earlier module started (getOrCreate), or a new one if none runs
    (or a test elsewhere stopped its own, which getOrCreate may have handed it)."""
    from common.spark import get_spark

    return get_spark("integration-tests")


@pytest.fixture
def stage2(engines, unique, tmp_path):
    (tmp_path / "music.csv").write_text(
        "TrackId,Title,Artist,Length\n10,Blue Song,The Band,215\n"
        "11,Red Song,The Band,180\n12,Green Song,Solo,200\n")
    (tmp_path / "cust.csv").write_text(
        "CustID,Name,Gender,Address,zip,SignDate,Status,Level,Campaign,LinkedWithApps\n"
        "1,Ann Lee,0,1 Main St,10001,01/02/2015,1,2,0,1\n")
    s = stage2_settings(unique, tmp_path)
    yield s
    drop_test_resources(s, f"t_{unique}", (s.index_stage2, s.index_interest, s.index_deadletter, s.index_stats,
                                           s.index_profiles))
