"""Exercise 3.6 (stretch): a feature of your own, next to the baseline (40 minutes).

The model sees seven numbers per customer (stage3.features.NUMERIC_FEATURES: the
shares of the parts of the day, mobile, distinct_ratio, plays) and four categories.
Add one number of your own, train the stage's pipeline with it, and compare.
Ideas: the share of weekend plays, the number of different days played, plays per
day, the share of plays of the customer's favourite track, the share of plays away
from home ... (what should matter? data/sample/GROUND_TRUTH.md says how the clicks
were drawn).

Given:
  plays     Spark DataFrame: customer_id, track_id, datetime (timestamp, UTC), ismobile
  features  Spark DataFrame, one row per customer (stage3.features.customer_features):
            customer_id, the NUMERIC_FEATURES, level, gender, age_band, campaign
  labelled  features + your column, joined with the labels (label 1.0 = clicked)

Your task:
  1. FEATURE: the name of your column.
  2. add_feature(plays, features): features with one more column, FEATURE, a number
     for every customer (no nulls).
  3. train_and_evaluate(labelled, numeric): stage3.train.fit_and_evaluate's round,
     with `numeric` as the assembler's numeric inputs: the same seeded 80/20 split
     (SEED, TRAIN_FRACTION), vectorizer_stages() with its VectorAssembler taking
     `numeric` plus the one-hot columns, LogisticRegression(**LR_PARAMS), and the
     metrics of stage3.train.evaluate(predictions, majority of the training part),
     plus "coefficients" (stage3.train.coefficients(model, predictions)).
  4. Run this file: it prints the baseline, the ceiling, and the test error without
     and with your feature. Is the difference more than one test customer?

Check:  make check-stage3 EX=3.6   (starts Spark: about 30 seconds)

한국어
------
과제 3.6 (심화, 40분): 나만의 feature를 만들어 baseline과 비교하기.
모델은 고객마다 숫자 일곱 개(stage3.features.NUMERIC_FEATURES)와 범주 네 개를 봅니다. 숫자를 하나
직접 더하고, 단계의 pipeline을 그것과 함께 학습해 비교하세요. 예: 주말 재생 비율, 재생한 날 수,
가장 좋아하는 곡의 비율(무엇이 중요할까요? data/sample/GROUND_TRUTH.ko.md에 클릭을 뽑은 방법이
있습니다).
할 일:
  1. FEATURE: 새 컬럼의 이름.
  2. add_feature(plays, features): FEATURE 컬럼 하나를 더한 features. 모든 고객에게 숫자가 있어야
     합니다(null 없음).
  3. train_and_evaluate(labelled, numeric): `numeric`을 assembler의 숫자 입력으로 한
     stage3.train.fit_and_evaluate의 라운드(같은 시드의 80/20 분할, LogisticRegression(**LR_PARAMS),
     stage3.train.evaluate의 지표에 "coefficients"를 더함).
  4. 이 파일을 실행하면 baseline, 성능 한계(ceiling), 그리고 feature가 없을 때와 있을 때의 테스트
     error를 출력합니다. 차이가 테스트 고객 한 명보다 큰가요?
"""
from __future__ import annotations

FEATURE = None       # the name of your column, e.g. "weekend"


def add_feature(plays, features):
    """``features`` with one more column, FEATURE, computed per customer from ``plays``."""
    # from pyspark.sql import functions as F
    # per_customer = plays.groupBy("customer_id").agg(... .alias(FEATURE))
    # return features.join(per_customer, "customer_id", "left") ... (no nulls)
    raise NotImplementedError("add_feature: one aggregate per customer, joined to features")


def train_and_evaluate(labelled, numeric: list[str]) -> dict:
    """stage3.train.fit_and_evaluate's round, with ``numeric`` as the numeric inputs."""
    # from pyspark.ml import Pipeline
    # from pyspark.ml.classification import LogisticRegression
    # from stage3.features import vectorizer_stages
    # from stage3.train import LR_PARAMS, SEED, TRAIN_FRACTION, coefficients, evaluate
    raise NotImplementedError("train_and_evaluate: seeded split, vectorizer_stages with your inputs, "
                              "LogisticRegression, evaluate, coefficients")


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
