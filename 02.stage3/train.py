"""Stage 3: train the ad-target model, gate it, promote it, score the customers.

One round = features from the latest listening history -> Spark ML pipeline
(encoders + LogisticRegression) on a seeded 80/20 split -> metrics on the test
part -> the gate -> the model is saved as a new version either way, but only a
passing one becomes current and re-scores the Free and Silver customers into
Redis (``ad_target:<id>`` hashes + the ``ad_targets`` set). A failing round
leaves the current model and the targets exactly as they were, and says why.

The labels grow while stage 3 runs: every SMS offer's outcome (stage3.outcomes)
relabels its customer, so each scheduled round learns from the history as it
stands. Each round also measures the CURRENT model on that history: when the
customers change (the drift scenario), its error rises before any new model is
promoted. The verdict goes to Redis (``model:status``) and the ``offers``
channel, where the dashboard shows it.

Usage:
    python -m stage3.train                     # one round on data/tracks.csv
    python -m stage3.train --every 10m         # a round now and every 10 minutes
    python -m stage3.train --every 10m --skip-first   # the first round in 10 minutes
    python 02.stage3/train.py --from-es        # history from the stage-2 index
    python 02.stage3/train.py --no-score       # train and gate only (no targets written)

Versions live in .runtime/stage3/models/v0001, v0002 ... (Spark model, metrics.json,
test_predictions.csv); .runtime/stage3/models/CURRENT names the promoted one. Only the
last MODEL_VERSIONS_KEPT (10) are kept, and never is the promoted one deleted.

With --every, each round runs as its own short-lived process (python -m stage3.train),
so Spark's JVM holds memory only while a round runs, never between rounds. A live
make stage3 / make demo runs its rounds inside the streaming job instead, on the
job's own JVM (stage3.retrainer, stage3.streaming_job --retrain-every).

When Redis or Elasticsearch goes away, a round waits for it (common.retry, one line
per retry) and goes on; after ENGINE_GIVE_UP_SECONDS it exits with a clear message.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone

from common.bounded import stop_on_signals
from common.clients import EngineUnavailable
from common.config import Settings, get_settings
from common.retry import call_with_retry
from stage3.features import QUIET, build_features, features_dir, vectorizer_stages, write_outputs
from stage3.outcomes import read_outcomes
from stage3.targets import publish_targets

SEED = 42
TRAIN_FRACTION = 0.8
LR_PARAMS = {"maxIter": 100, "regParam": 0.001, "elasticNetParam": 0.0}


# --- the gate -----------------------------------------------------------------------
def gate(metrics: dict, threshold: float) -> tuple[bool, str]:
    """Pass only a model that is good (error <= threshold) AND clearly better than
    always answering the majority class (error < half the baseline's error).

    The second rule matters on unbalanced labels: when 95% never click, "nobody
    clicks" already has 5% error, below any sensible threshold, and targets no one.
    """
    error, baseline = metrics["error"], metrics["baseline_error"]
    if error > threshold:
        return False, f"test error {error:.3f} is above the threshold {threshold:.3f}"
    if not error < baseline / 2:
        return False, (f"test error {error:.3f} is not below half the majority-class "
                       f"baseline error ({baseline:.3f} / 2 = {baseline / 2:.3f})")
    return True, f"test error {error:.3f} <= {threshold:.3f} and < half the baseline {baseline:.3f}"


# --- training and metrics --------------------------------------------------------------
def evaluate(predictions, majority: float) -> dict:
    """Test error, majority-class baseline error, AUC, precision and recall."""
    from pyspark.ml.evaluation import BinaryClassificationEvaluator

    counts = {(int(r["label"]), int(r["prediction"])): r["count"]
              for r in predictions.groupBy("label", "prediction").count().collect()}
    tp, fp = counts.get((1, 1), 0), counts.get((0, 1), 0)
    fn, tn = counts.get((1, 0), 0), counts.get((0, 0), 0)
    total = tp + fp + fn + tn
    positives = tp + fn
    return {
        "error": (fp + fn) / total,
        "baseline_error": (positives if majority == 0 else total - positives) / total,
        "auc": BinaryClassificationEvaluator(metricName="areaUnderROC").evaluate(predictions),
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / positives if positives else 0.0,
        "test_rows": total, "test_positives": positives,
        "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
    }


def fit_and_evaluate(features):
    """Seeded split, fit the pipeline on the train part, metrics on the test part."""
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression

    train, test = features.randomSplit([TRAIN_FRACTION, 1 - TRAIN_FRACTION], seed=SEED)
    train, test = train.cache(), test.cache()
    # the baseline answers the majority class *of the training data*
    majority = 1.0 if train.where("label = 1").count() * 2 > train.count() else 0.0
    pipeline = Pipeline(stages=[*vectorizer_stages(), LogisticRegression(**LR_PARAMS)])
    model = pipeline.fit(train)
    predictions = model.transform(test).cache()
    metrics = evaluate(predictions, majority)
    metrics["train_rows"] = train.count()
    metrics["coefficients"] = coefficients(model, predictions)
    test_rows = prediction_rows(predictions)
    predictions.unpersist(), train.unpersist(), test.unpersist()
    return model, metrics, test_rows


def coefficients(model, predictions) -> dict[str, float]:
    """The logistic regression's weight per input (names from the assembler's metadata):
    the 'why' of a target. One-hot inputs read e.g. 'level_vec_Silver'."""
    attrs = predictions.schema["features"].metadata["ml_attr"]["attrs"]
    names = {a["idx"]: a["name"] for group in attrs.values() for a in group}
    weights = model.stages[-1].coefficients.toArray()
    return {names[i]: round(float(w), 4) for i, w in enumerate(weights)}


def prediction_rows(predictions):
    """customer_id, label, prediction, probability of the test rows (pandas), for the ROC curve."""
    from pyspark.ml.functions import vector_to_array

    return (predictions.select("customer_id", "label", "prediction",
                               vector_to_array("probability")[1].alias("probability"))
            .toPandas().sort_values("customer_id"))


# --- versions: the last few models are kept, CURRENT points at the promoted one ----------
class ModelStore:
    def __init__(self, settings: Settings):
        self.root = settings.runtime_dir / "stage3" / "models"

    def new_version(self) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        taken = [int(m.group(1)) for p in self.root.iterdir() if (m := re.fullmatch(r"v(\d+)", p.name))]
        n = max(taken, default=0) + 1
        while True:   # mkdir is the lock: two trainers never get the same version
            try:
                (self.root / f"v{n:04d}").mkdir()
                return f"v{n:04d}"
            except FileExistsError:
                n += 1

    def save(self, version: str, model, info: dict) -> None:
        model.write().overwrite().save(str(self.root / version / "model"))
        self.write_info(version, info)

    def write_info(self, version: str, info: dict) -> None:
        (self.root / version / "metrics.json").write_text(json.dumps(info, indent=2) + "\n")

    def current(self) -> str | None:
        pointer = self.root / "CURRENT"
        return pointer.read_text().strip() if pointer.exists() else None

    def promote(self, version: str) -> None:
        # write a temp file then rename: readers see the old name or the new one, never half
        tmp = self.root / f".CURRENT.{os.getpid()}"
        tmp.write_text(version + "\n")
        os.replace(tmp, self.root / "CURRENT")

    def versions(self) -> list[str]:
        """v0001, v0002 ... oldest first."""
        if not self.root.exists():
            return []
        return sorted(p.name for p in self.root.iterdir() if re.fullmatch(r"v\d+", p.name))

    def prune(self, keep: int) -> list[str]:
        """Delete all but the newest ``keep`` versions, never the promoted one; returns the deleted."""
        current = self.current()
        old = [v for v in self.versions()[:-keep] if v != current] if keep > 0 else []
        for v in old:
            shutil.rmtree(self.root / v, ignore_errors=True)
        return old

    def load(self, version: str):
        from pyspark.ml import PipelineModel

        return PipelineModel.load(str(self.root / version / "model"))

    def info(self, version: str) -> dict:
        return json.loads((self.root / version / "metrics.json").read_text())


# --- scoring: who gets the offer --------------------------------------------------------
def score(model, features) -> dict[int, float]:
    """{customer_id: probability} of the Free and Silver customers the model picks."""
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    scored = (model.transform(features.where(F.col("level").isin("Free", "Silver")))
              .where("prediction = 1")
              .select("customer_id", vector_to_array("probability")[1].alias("p")))
    return {int(r["customer_id"]): float(r["p"]) for r in scored.collect()}


def error_of(model, labelled) -> float:
    """Share of ``labelled`` rows a (saved) model gets wrong."""
    rows = model.transform(labelled).selectExpr("avg(cast(prediction != label as double)) as e").first()
    return float(rows["e"])


# --- the status the dashboard shows -------------------------------------------------------
def publish_status(r, settings: Settings, info: dict) -> None:
    """Redis hash ``model:status`` (the promoted model and the last round) and a
    ``model_round`` notice on the offers channel, in one MULTI."""
    store = ModelStore(settings)
    current = info["current"]
    promoted = store.info(current) if current else {}
    status = {
        "current_version": current or "", "last_version": info["version"],
        "current_error": f"{promoted['metrics']['error']:.4f}" if promoted else "",
        "current_trained_at": promoted.get("trained_at", ""),
        "current_error_now": f"{info['current_error_now']:.4f}" if info.get("current_error_now") is not None else "",
        "last_error": f"{info['metrics']['error']:.4f}",
        "last_verdict": "passed" if info["gate"]["passed"] else "refused",
        "last_reason": info["gate"]["reason"], "last_at": info["trained_at"],
        "labels": str(info["data_window"].get("labels", "")),
        "labels_from_outcomes": str(info["data_window"].get("from_outcomes", "")),
    }
    notice = {"type": "model_round", "version": info["version"], "error": info["metrics"]["error"],
              "verdict": status["last_verdict"], "reason": info["gate"]["reason"],
              "current": current, "at": info["trained_at"]}
    tx = r.pipeline(transaction=True)
    tx.hset(settings.redis_model_status, mapping=status)
    tx.publish(settings.redis_offers_channel, json.dumps(notice))
    tx.execute()


# --- one round ------------------------------------------------------------------------
def train_round(settings: Settings, features, labelled, window: dict, redis_client=None,
                score_targets: bool = True) -> dict:
    """Train on ``labelled``, gate, save; only when the gate passes, promote and
    score ``features`` (every customer) into Redis. Returns the metrics.json content."""
    store = ModelStore(settings)
    started = time.monotonic()
    previous = store.current()
    # how the promoted model does on today's history (its error rises when customers drift)
    current_error_now = error_of(store.load(previous), labelled) if previous else None
    model, metrics, test_rows = fit_and_evaluate(labelled)
    passed, reason = gate(metrics, settings.model_error_threshold)
    version = store.new_version()
    info = {
        "version": version,
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "metrics": metrics,
        "gate": {"passed": passed, "reason": reason, "threshold": settings.model_error_threshold},
        "data_window": window,
        "params": {"seed": SEED, "train_fraction": TRAIN_FRACTION, **LR_PARAMS},
        "training_seconds": round(time.monotonic() - started, 1),
        "previous_current": previous,
        "current_error_now": current_error_now,
    }
    store.save(version, model, info)
    test_rows.to_csv(store.root / version / "test_predictions.csv", index=False)
    if passed:
        store.promote(version)
        if redis_client is not None and score_targets:
            targets = score(model, features)
            waiting_for_redis(lambda: publish_targets(redis_client, settings, version, targets), settings)
            info["targets"] = len(targets)
            store.write_info(version, info)
    info["current"] = store.current()
    store.prune(settings.model_versions_kept)
    if redis_client is not None:
        waiting_for_redis(lambda: publish_status(redis_client, settings, info), settings)
    return info


def run_round(spark, settings: Settings, r, n: int, from_es: bool = False, score_targets: bool = True) -> dict:
    """Round ``n`` in the Spark session ``spark``: the offers' outcomes, the features, then
    train_round; prints the round's line. Used by a round process (one_round) and by the
    streaming job's retrainer (stage3.retrainer), which runs it on the job's own JVM."""
    started = time.monotonic()
    outcomes = waiting_for_redis(lambda: read_outcomes(r, settings), settings)
    # (from_es: build_features waits for Elasticsearch the same way)
    features, labelled, window = build_features(spark, settings, from_es=from_es, outcomes=outcomes)
    write_outputs(features, labelled, features_dir(settings))   # for the notebook and learners
    info = train_round(settings, features, labelled, window, r, score_targets=score_targets)
    features.unpersist(), labelled.unpersist()
    print(round_line(n, info, time.monotonic() - started), flush=True)
    return info


def waiting_for_redis(call, settings: Settings):
    """``call()``, waiting for Redis while it does not answer (one line per retry)."""
    return call_with_retry(call, "Redis", settings.redis_url)


def round_line(n: int, info: dict, seconds: float) -> str:
    m = info["metrics"]
    verdict = "PASSED -> current" if info["gate"]["passed"] else f"REFUSED, kept {info['current'] or 'no model'}"
    if info.get("current_error_now") is not None:
        verdict = f"{info['previous_current']} now errs {info['current_error_now']:.3f} | {verdict}"
    w = info["data_window"]
    labels = f" | {w['labels']} labels, {w['from_outcomes']} from offers" if "labels" in w else ""
    targets = f", {info['targets']} targets" if "targets" in info else ""
    ceiling = info["data_window"].get("bayes_error")
    ceiling = f" (ceiling {ceiling:.3f})" if ceiling is not None else ""
    return (f"round {n} | {info['version']} | error {m['error']:.3f}{ceiling} baseline {m['baseline_error']:.3f} "
            f"AUC {m['auc']:.3f} precision {m['precision']:.3f} recall {m['recall']:.3f} | "
            f"{verdict}{targets} | {info['gate']['reason']}{labels} | {seconds:.1f}s")


def parse_every(text: str) -> float:
    """'10m' -> 600.0, '30s' -> 30.0, '1h' -> 3600.0, '90' -> 90.0"""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smh]?)", text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (try 10m, 30s, 1h)")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def cancel_on_stop(spark, stop: threading.Event) -> None:
    stop.wait()
    try:
        spark.sparkContext.cancelAllJobs()
    except Exception:
        pass                 # Spark was already stopping (Ctrl-C between two rounds)


def round_command(args: argparse.Namespace, n: int) -> list[str]:
    """The command of round ``n`` as its own process (see ``every``)."""
    return [sys.executable, "-m", "stage3.train", "--round-number", str(n),
            *(["--from-es"] if args.from_es else []), *(["--no-score"] if args.no_score else [])]


def run_round_process(argv: list[str], stop: threading.Event, grace: float = 60.0) -> int:
    """Run one round's process to its end; Ctrl-C (``stop``) is passed on to it once."""
    # its own session: a terminal's Ctrl-C reaches it only through us, exactly once
    proc = subprocess.Popen(argv, start_new_session=True)
    forwarded = False
    while True:
        try:
            return proc.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            pass
        if stop.is_set() and not forwarded:
            proc.send_signal(signal.SIGINT)         # it cancels its Spark jobs and exits 0
            forwarded, deadline = True, time.monotonic() + grace
        if forwarded and time.monotonic() > deadline:
            proc.kill()


def every(args: argparse.Namespace, stop: threading.Event) -> int:
    """--every: a round every ``args.every`` seconds, each as its own short-lived process.

    A Spark driver is a JVM of several hundred MB, and PySpark's ``spark.stop()`` does
    not end it (the gateway JVM lives as long as the Python process). So this loop
    starts no Spark itself: each round is ``python -m stage3.train`` once, and between
    rounds only this small Python process waits (docs/memory.md). Rounds never overlap.
    """
    if args.skip_first and stop.wait(args.every):
        return 0                     # stopped before the first round: no Spark started at all
    n = 0
    while not stop.is_set():
        n += 1
        started = time.monotonic()
        code = run_round_process(round_command(args, n), stop)
        if code != 0:
            return 0 if stop.is_set() else code
        if args.rounds and n >= args.rounds:
            break
        stop.wait(max(0.0, args.every - (time.monotonic() - started)))
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--every", type=parse_every, help="keep running, one round every this long (10m, 1h)")
    ap.add_argument("--from-es", action="store_true", help="history from the stage-2 and stage-3 indices, not tracks.csv")
    ap.add_argument("--no-score", action="store_true", help="do not write targets to Redis")
    ap.add_argument("--rounds", type=int, help="with --every: stop after this many rounds")
    ap.add_argument("--skip-first", action="store_true", help="with --every: wait one period before the first round")
    ap.add_argument("--round-number", type=int, default=1, help=argparse.SUPPRESS)   # set by --every
    args = ap.parse_args(argv)
    stop = stop_on_signals()
    if args.every:
        return every(args, stop)
    return one_round(args, stop)


def one_round(args: argparse.Namespace, stop: threading.Event) -> int:
    """One round in this process: Spark starts, trains, scores, and stops with the process."""
    from common.clients import redis_client
    from common.spark import get_spark

    settings = get_settings()
    spark = get_spark("stage3-train", settings, kafka=False, extra_conf=QUIET)
    stop_on_signals(stop)            # ours again, instead of the handler PySpark installed
    # Ctrl-C mid-round: cancel Spark's jobs from another thread (its own py4j connection),
    # so the round ends at once instead of running to its end
    threading.Thread(target=cancel_on_stop, args=(spark, stop), daemon=True).start()
    r = redis_client(settings, check=False)     # not there yet: waited for below
    n = args.round_number
    try:
        try:
            run_round(spark, settings, r, n, from_es=args.from_es, score_targets=not args.no_score)
        except EngineUnavailable as exc:
            if stop.is_set():
                return 0
            print(f"round {n}: {exc}", file=sys.stderr, flush=True)     # waited ENGINE_GIVE_UP_SECONDS
            return 1
        except Exception:
            if not stop.is_set():
                raise
            # the jobs were cancelled by Ctrl-C: CURRENT and the targets are as they were,
            # unless the round had promoted already
            print(f"round {n} stopped before its end (Ctrl-C)", flush=True)
            return 0
        return 0
    finally:
        try:
            spark.stop()
        except Exception:
            if not stop.is_set():       # after Ctrl-C the JVM may be gone already
                raise


if __name__ == "__main__":
    sys.exit(main())
