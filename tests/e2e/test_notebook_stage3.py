"""notebooks/03_stage3.ipynb runs top to bottom after a real training round (on the
committed sample data, scoring into Redis keys unique to this test), and its
numbers agree with Spark's metrics and with the customers file."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from common.config import REPO_ROOT, Settings
from tests.notebooks import run_notebook_and_korean

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


def test_notebook_runs_and_agrees_with_the_training(engines, unique, tmp_path, monkeypatch):
    from common.clients import redis_client

    env = {"RUNTIME_DIR": str(tmp_path / "runtime"), "DATA_DIR": str(REPO_ROOT / "data" / "sample"),
           "REDIS_TARGETS_SET": f"t_{unique}:targets", "REDIS_TARGET_PREFIX": f"t_{unique}:target:",
           # SMS outcomes left by an earlier run (make demo) would add labels: train on the data only
           "REDIS_OUTCOMES_HASH": f"t_{unique}:outcomes", "REDIS_MODEL_STATUS": f"t_{unique}:model",
           "REDIS_OFFERS_CHANNEL": f"t_{unique}:channel",
           "STAGE3_NOTEBOOK_RESULTS": str(tmp_path / "answers.json")}
    s = Settings(redis_targets_set=env["REDIS_TARGETS_SET"], redis_target_prefix=env["REDIS_TARGET_PREFIX"])
    r = redis_client(s)
    try:
        done = subprocess.run([sys.executable, "02.stage3/train.py"], cwd=REPO_ROOT, env={**os.environ, **env},
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "round 1 | v0001 |" in done.stdout
        answers = run_notebook_and_korean("03_stage3.ipynb", env, tmp_path / "answers.json", monkeypatch, timeout=240)
        targets_in_redis = {int(c) for c in r.smembers(s.redis_targets_set)}
    finally:
        keys = list(r.scan_iter(f"t_{unique}:*"))
        if keys:
            r.delete(*keys)

    models = tmp_path / "runtime" / "stage3" / "models"
    info = json.loads((models / "v0001" / "metrics.json").read_text())
    assert answers["version"] == "v0001" == (models / "CURRENT").read_text().strip()
    assert answers["passed"] is info["gate"]["passed"] is True
    # every figure the notebook states for the sample data (notebooks/expected.py) is the one shown
    assert answers["data_set"] == "sample"
    assert answers["checks"] == {name: True for name in (
        "customers", "labelled", "click_rate", "ceiling", "error", "targets")}, answers["checks"]
    c = info["metrics"]["confusion"]
    assert answers["confusion"] == {"00": c["tn"], "01": c["fp"], "10": c["fn"], "11": c["tp"]}
    assert answers["error"] == pytest.approx(info["metrics"]["error"], abs=1e-12)
    assert answers["auc"] == pytest.approx(info["metrics"]["auc"], abs=1e-6)   # numpy vs Spark

    assert set(answers["targets"]) == targets_in_redis and len(targets_in_redis) == info["targets"] > 0
    levels = pd.read_csv(REPO_ROOT / "data" / "sample" / "cust.csv").set_index("CustID").Level
    assert set(levels.loc[sorted(targets_in_redis)]) <= {0, 1}       # Free and Silver only
    assert answers["target_levels"] and set(answers["target_levels"]) <= {"Free", "Silver"}
    assert answers["min_target_probability"] >= 0.5
