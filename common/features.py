"""Stage-3 features: one row per customer, computed with Spark from the plays.

Pure DataFrame transformations (no I/O), so the unit test can feed a crafted
history and compare with a pandas oracle. ``02.stage3/features.py`` reads the
sources and writes the result; ``02.stage3/train.py`` fits the model on it.

    from common.features import customer_features, vectorizer_stages
    feats = customer_features(plays_df, customers_df)

Every play counts: a customer's ``morning`` is the share of ALL their plays that
started in the morning (the original demo kept only the last play's bucket).
"""
from __future__ import annotations

from common.features_rules import PROFILE_COLUMNS, TIME_OF_DAY, time_of_day

NUMERIC_FEATURES = list(PROFILE_COLUMNS)   # morning ... night, mobile, distinct_ratio, plays
CATEGORICAL_FEATURES = ["level", "gender", "age_band", "campaign"]
FEATURE_COLUMNS = NUMERIC_FEATURES + CATEGORICAL_FEATURES


def _hour_buckets(spark):
    """A 24-row table hour -> bucket, taken from common.features_rules.time_of_day
    so the buckets are defined once (the generator uses the same function)."""
    return spark.createDataFrame([(h, time_of_day(h)) for h in range(24)], "hour INT, time_of_day STRING")


def customer_features(plays, customers):
    """Features per customer who played at least once.

    plays:     customer_id, track_id, datetime (timestamp), ismobile
    customers: customer_id, level, gender, age_band, campaign (strings)
    """
    from pyspark.sql import functions as F

    spark = plays.sparkSession
    per_bucket = (
        plays.groupBy("customer_id", F.hour("datetime").alias("hour")).count()
        .join(F.broadcast(_hour_buckets(spark)), "hour")
        .groupBy("customer_id").pivot("time_of_day", list(TIME_OF_DAY)).sum("count")
    )
    totals = plays.groupBy("customer_id").agg(
        F.count("*").alias("plays"),
        F.avg("ismobile").alias("mobile"),
        F.countDistinct("track_id").alias("distinct_tracks"),
    )
    return (
        totals.join(per_bucket, "customer_id", "left")
        .select(
            "customer_id",
            *[(F.coalesce(F.col(b), F.lit(0)) / F.col("plays")).alias(b) for b in TIME_OF_DAY],
            F.col("mobile").cast("double"),
            (F.col("distinct_tracks") / F.col("plays")).alias("distinct_ratio"),
            F.col("plays").cast("double"),
        )
        # inner join: a play by a customer missing from cust.csv has no attributes
        .join(customers.select("customer_id", *CATEGORICAL_FEATURES), "customer_id")
    )


def vectorizer_stages():
    """Spark ML stages turning the feature columns into one ``features`` vector:
    categories are indexed then one-hot encoded, numbers pass through."""
    from pyspark.ml.feature import OneHotEncoder, StringIndexer, VectorAssembler

    idx = [f"{c}_idx" for c in CATEGORICAL_FEATURES]
    vec = [f"{c}_vec" for c in CATEGORICAL_FEATURES]
    return [
        # stringOrderType fixes the category order, so the same data gives the same model
        StringIndexer(inputCols=CATEGORICAL_FEATURES, outputCols=idx, handleInvalid="keep",
                      stringOrderType="alphabetAsc"),
        OneHotEncoder(inputCols=idx, outputCols=vec, handleInvalid="keep"),
        VectorAssembler(inputCols=NUMERIC_FEATURES + vec, outputCol="features"),
    ]
