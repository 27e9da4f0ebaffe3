"""Training rounds against the real Redis: a passing round replaces the targets,
a failing one leaves the current model and the targets untouched, and the swap
never shows an empty target set."""
from __future__ import annotations

import threading

import pytest

from stage3 import train
from tests.stage3_data import crafted_features
from stage3.targets import publish_targets

pytestmark = pytest.mark.integration


@pytest.fixture
def env(engines, unique, tmp_path):
    from common.clients import redis_client
    from common.config import Settings

    s = Settings(runtime_dir=tmp_path, redis_targets_set=f"t_{unique}:targets",
                 redis_target_prefix=f"t_{unique}:target:", redis_model_status=f"t_{unique}:model",
                 redis_offers_channel=f"t_{unique}:channel")
    r = redis_client(s)
    yield s, r
    keys = list(r.scan_iter(f"t_{unique}*"))
    if keys:
        r.delete(*keys)


def targets_in_redis(r, s) -> dict[int, dict]:
    return {int(c): r.hgetall(f"{s.redis_target_prefix}{c}") for c in r.smembers(s.redis_targets_set)}


def expected_targets(features, rule) -> set[int]:
    """Free and Silver customers the crafted rule says will click (the model learns it)."""
    rows = features.toPandas()
    clicks = rows.night > 0.3 if rule == "night" else rows.night <= 0.3
    return set(rows[clicks & rows.level.isin(["Free", "Silver"])].customer_id)


def test_pass_replaces_fail_keeps(env, spark):     # spark: tests/integration/conftest.py's session
    s, r = env
    night = crafted_features(spark, 300, 1, "night")
    first = train.train_round(s, night, night, {"source": "crafted"}, r)
    assert first["gate"]["passed"]
    got = targets_in_redis(r, s)
    want = expected_targets(night, "night")
    # the model learned a clean rule; allow a couple of borderline customers
    assert len(set(got) ^ want) <= 3 and len(got) == first["targets"] > 50
    assert {h["model_version"] for h in got.values()} == {"v0001"}
    assert all(0.5 <= float(h["probability"]) <= 1 for h in got.values())
    assert not set(got) & set(night.where("level = 'Gold'").toPandas().customer_id)

    rare = crafted_features(spark, 300, 2, "rare")
    second = train.train_round(s, rare, rare, {"source": "crafted"}, r)
    assert not second["gate"]["passed"]
    assert targets_in_redis(r, s) == got                  # untouched, hashes included
    assert train.ModelStore(s).current() == "v0001"
    # what the dashboard shows: the promoted model, and the refused round
    status = r.hgetall(s.redis_model_status)
    assert (status["current_version"], status["last_version"], status["last_verdict"]) == ("v0001", "v0002", "refused")
    assert float(status["current_error"]) == pytest.approx(first["metrics"]["error"], abs=1e-4)
    assert "baseline" in status["last_reason"]
    # the promoted model measured on the new data: a night rule on random clicks errs a lot
    assert second["current_error_now"] > 0.2

    day = crafted_features(spark, 300, 3, "day")
    third = train.train_round(s, day, day, {"source": "crafted"}, r)
    assert third["gate"]["passed"] and train.ModelStore(s).current() == "v0003"
    assert third["current_error_now"] > 0.5            # v0001's night rule is wrong on 'day' customers
    status = r.hgetall(s.redis_model_status)
    assert (status["current_version"], status["last_verdict"]) == ("v0003", "passed")
    now = targets_in_redis(r, s)
    assert len(set(now) ^ expected_targets(day, "day")) <= 3
    assert {h["model_version"] for h in now.values()} == {"v0003"}
    # customers no longer targeted lost their hash too
    for c in set(got) - set(now):
        assert not r.exists(f"{s.redis_target_prefix}{c}")


def test_target_swap_never_shows_an_empty_set(env):
    s, r = env
    publish_targets(r, s, "v0001", {c: 0.9 for c in range(1, 2001)})
    seen_empty, stop = [], threading.Event()

    def watch():
        while not stop.is_set():
            if r.scard(s.redis_targets_set) == 0:
                seen_empty.append(1)

    watcher = threading.Thread(target=watch)
    watcher.start()
    for v in range(2, 8):
        publish_targets(r, s, f"v{v:04d}", {c: 0.8 for c in range(v * 100, v * 100 + 2000)})
    stop.set()
    watcher.join()
    assert not seen_empty
    assert r.smembers(s.redis_targets_set) == {str(c) for c in range(700, 2700)}
    assert not list(r.scan_iter(f"{s.redis_targets_set}:next:*"))      # no temp set left behind
    assert r.ttl(s.redis_targets_set) == -1                              # the live set never expires
    assert r.exists(f"{s.redis_target_prefix}699") == 0 and r.exists(f"{s.redis_target_prefix}2699") == 1


class CrashBeforeSwap:
    """The real client, but the round 'crashes' just before the swap (the MULTI)."""

    def __init__(self, r):
        self.r = r

    def pipeline(self, transaction=True):
        if transaction:
            raise RuntimeError("crashed before the swap")
        return self.r.pipeline(transaction=False)

    def __getattr__(self, name):
        return getattr(self.r, name)


def test_a_round_that_crashes_mid_swap_leaves_no_lasting_temp_set(env):
    s, r = env
    with pytest.raises(RuntimeError):
        publish_targets(CrashBeforeSwap(r), s, "v0009", {1: 0.9, 2: 0.8})
    [left] = r.scan_iter(f"{s.redis_targets_set}:next:*")
    assert 0 < r.ttl(left) <= 3600                                       # it expires by itself
    assert not r.exists(s.redis_targets_set)
