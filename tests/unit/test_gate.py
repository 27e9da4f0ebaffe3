"""The model gate: a pure rule, then real Spark training on crafted data (no engines)."""
from __future__ import annotations

import json

import pytest

from stage3 import train
from tests.stage3_data import crafted_features


@pytest.mark.parametrize("error, baseline, passed, why", [
    (0.06, 0.48, True, "<= 0.100"),
    (0.10, 0.48, True, "<= 0.100"),                 # the threshold itself passes
    (0.11, 0.48, False, "above the threshold"),
    (0.04, 0.05, False, "half the majority-class baseline"),   # baseline already under 10%
    (0.025, 0.05, False, "half the majority-class baseline"),  # exactly half is not "below"
    (0.02, 0.05, True, "< half the baseline"),
])
def test_gate_rule(error, baseline, passed, why):
    ok, reason = train.gate({"error": error, "baseline_error": baseline}, 0.10)
    assert ok is passed and why in reason


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    from common.config import Settings
    from common.spark import get_spark

    session = get_spark("test-stage3-gate", Settings(runtime_dir=tmp_path_factory.mktemp("rt")), kafka=False)
    yield session
    session.stop()


def test_low_baseline_error_is_refused_and_current_model_kept(spark, tmp_path):
    from common.config import Settings

    s = Settings(runtime_dir=tmp_path)
    good = crafted_features(spark, 400, 1, "night")
    first = train.train_round(s, good, good, {"source": "crafted"})
    assert first["gate"]["passed"] and first["current"] == "v0001"
    assert first["metrics"]["error"] < 0.05

    rare = crafted_features(spark, 400, 2, "rare")
    second = train.train_round(s, rare, rare, {"source": "crafted"})
    m = second["metrics"]
    # the model is "accurate" (under 10% error) only because almost nobody clicks
    assert m["error"] <= 0.10 and m["baseline_error"] <= 0.10
    assert not second["gate"]["passed"] and "baseline" in second["gate"]["reason"]
    store = train.ModelStore(s)
    assert store.current() == "v0001" == second["current"]
    saved = json.loads((tmp_path / "stage3/models/v0002/metrics.json").read_text())   # kept for the record
    assert saved["gate"]["passed"] is False and saved["previous_current"] == "v0001"
    assert (tmp_path / "stage3/models/v0002/model").is_dir()


def test_metrics_are_computed_from_the_confusion_matrix(spark):
    preds = spark.createDataFrame(
        [(1.0, 1.0, [0.1, 0.9]), (1.0, 0.0, [0.6, 0.4]), (0.0, 1.0, [0.3, 0.7]), (0.0, 0.0, [0.8, 0.2]),
         (0.0, 0.0, [0.9, 0.1])], "label DOUBLE, prediction DOUBLE, p ARRAY<DOUBLE>")
    from pyspark.ml.functions import array_to_vector

    preds = preds.withColumn("rawPrediction", array_to_vector("p"))
    m = train.evaluate(preds, majority=0.0)
    assert m["confusion"] == {"tp": 1, "fp": 1, "fn": 1, "tn": 2}
    assert (m["error"], m["baseline_error"], m["precision"], m["recall"]) == (2 / 5, 2 / 5, 1 / 2, 1 / 2)
    # ranking by p(1): 0.9(+) 0.7(-) 0.4(+) 0.2(-) 0.1(-) -> 5 of 6 positive/negative pairs right
    assert m["auc"] == pytest.approx(5 / 6)


def test_parse_every():
    assert train.parse_every("10m") == 600 and train.parse_every("30s") == 30 and train.parse_every("1h") == 3600
