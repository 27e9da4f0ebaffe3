"""Exercise 3.6 (stretch), a worked solution: a feature of your own, next to the baseline.

The feature here: the share of a customer's plays on a weekend (Saturday or Sunday).
The generator draws the day of each play uniformly, so it should carry no signal about
clicks: a good way to see what a useless feature does to the test error (almost nothing,
and a small data set can move either way by chance). Try one that should matter, too.

    .venv/bin/python exercises/solutions/stage3/my_feature.py   # the report, on data/sample
"""
from __future__ import annotations

FEATURE = "weekend"


def add_feature(plays, features):
    """``features`` with one more column, FEATURE, computed per customer from ``plays``."""
    from pyspark.sql import functions as F

    # dayofweek: 1 = Sunday ... 7 = Saturday (the session's time zone is UTC)
    per_customer = plays.groupBy("customer_id").agg(
        F.avg(F.dayofweek("datetime").isin(1, 7).cast("double")).alias(FEATURE))
    # a left join keeps every customer; a customer without plays would get 0.0, not null
    # (here every customer of `features` has plays: it was built from them)
    return features.join(per_customer, "customer_id", "left").fillna({FEATURE: 0.0})


def train_and_evaluate(labelled, numeric: list[str]) -> dict:
    """stage3.train.fit_and_evaluate's round, with ``numeric`` as the numeric inputs."""
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression

    from stage3.features import vectorizer_stages
    from stage3.train import LR_PARAMS, SEED, TRAIN_FRACTION, coefficients, evaluate

    # the same seeded split as every round: a fair comparison needs the same test customers
    train, test = labelled.randomSplit([TRAIN_FRACTION, 1 - TRAIN_FRACTION], seed=SEED)
    # the baseline answers the majority class of the TRAINING part, as train.py does
    majority = 1.0 if train.where("label = 1").count() * 2 > train.count() else 0.0
    stages = vectorizer_stages()
    assembler = stages[-1]                        # VectorAssembler: numbers + one-hot vectors
    one_hot = [c for c in assembler.getInputCols() if c.endswith("_vec")]
    assembler.setInputCols(list(numeric) + one_hot)
    model = Pipeline(stages=[*stages, LogisticRegression(**LR_PARAMS)]).fit(train)
    predictions = model.transform(test)
    metrics = evaluate(predictions, majority)
    metrics["coefficients"] = coefficients(model, predictions)   # the weight of each input, yours too
    return metrics


if __name__ == "__main__":
    import json

    from common.config import REPO_ROOT, get_settings
    from common.spark import get_spark
    from stage3.features import NUMERIC_FEATURES, QUIET, customer_features, read_customers, read_labels, read_plays_csv

    sample = REPO_ROOT / "data" / "sample"
    s = get_settings().model_copy(update={"data_dir": sample})
    spark = get_spark("my-feature", s, kafka=False, extra_conf=QUIET)
    plays = read_plays_csv(spark, sample / "tracks.csv")
    feats = add_feature(plays, customer_features(plays, read_customers(spark, sample / "cust.csv")))
    labelled = feats.join(read_labels(spark, s)[0], "customer_id").cache()
    without = train_and_evaluate(labelled, NUMERIC_FEATURES)
    with_it = train_and_evaluate(labelled, NUMERIC_FEATURES + [FEATURE])
    ceiling = json.loads((sample / "ground_truth.json").read_text())["offer"]["bayes_error"]
    print(f"baseline {with_it['baseline_error']:.3f} | ceiling {ceiling:.3f} | "
          f"error without {FEATURE} {without['error']:.3f} | with it {with_it['error']:.3f} "
          f"(weight {with_it['coefficients'][FEATURE]:+.3f}) | {with_it['test_rows']} test customers")
    spark.stop()
