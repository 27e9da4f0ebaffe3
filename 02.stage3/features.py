"""Stage 3: per-customer features and labels for the ad-target model.

Reads the listening history (data/tracks.csv, or the stage-2/3 index with
--from-es), the customers (data/cust.csv) and the past ad clicks
(data/clicks.csv), computes one row per customer with Spark
(customer_features below), and writes

    .runtime/stage3/features/features.parquet   every customer who played: features (+ label if offered)
    .runtime/stage3/features/labelled.libsvm    the labelled rows as label + vector, for learners
                                                following the original MapR blog

The label is 1 when the customer clicked ADV_REDUCED_1DAY. Only customers who
saw the offer appear in clicks.csv (Free and Silver), so only they are
labelled; Gold customers get features but no label. Once stage 3 runs, each
SMS offer's outcome (stage3.outcomes) relabels its customer: a customer's label
is what they did with the LAST offer they saw.

Every play counts: a customer's ``morning`` is the share of ALL their plays that
started in the morning (the original demo kept only the last play's bucket).
``customer_features`` and ``vectorizer_stages`` are pure DataFrame
transformations (no I/O), so a unit test can feed a crafted history and compare
with a pandas oracle (common.profiles.listening_profile, the generator's rules).
Both compute the features with common.profiles.profile_from_counts, as does the
stage-2 job's live table ba_profiles; ``read_profiles_es`` reads that table
(training itself still computes the features from the plays).

Usage:
    python -m stage3.features                  # from data/tracks.csv
    python 02.stage3/features.py --from-es     # from the documents the streaming job indexed
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from common.config import Settings, get_settings
from common.customers import age_band, gender_label, level_label
from common.profiles import PROFILE_COLUMNS, TIME_OF_DAY, profile_from_counts, time_of_day
from common.readers import iter_customers
from common.retry import call_with_retry
from common.schema import EVENT_DATETIME_JAVA, EVENT_FIELDS, OFFER_NAME, spark_schema


# no progress bars: the scripts print their own one-line summary
QUIET = {"spark.ui.showConsoleProgress": "false"}


NUMERIC_FEATURES = list(PROFILE_COLUMNS)   # morning ... night, mobile, distinct_ratio, plays
CATEGORICAL_FEATURES = ["level", "gender", "age_band", "campaign"]
FEATURE_COLUMNS = NUMERIC_FEATURES + CATEGORICAL_FEATURES


def _hour_buckets(spark):
    """A 24-row table hour -> bucket, taken from common.profiles.time_of_day
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
        F.sum("ismobile").alias("mobile_plays"),
        F.countDistinct("track_id").alias("distinct_tracks"),
    )
    # the counts -> features arithmetic of common.profiles, here on Spark columns
    profile = profile_from_counts(plays=F.col("plays"),
                                  parts={b: F.coalesce(F.col(b), F.lit(0)) for b in TIME_OF_DAY},
                                  mobile_plays=F.col("mobile_plays"), distinct_tracks=F.col("distinct_tracks"))
    return (
        totals.join(per_bucket, "customer_id", "left")
        .select("customer_id", *[profile[name].cast("double").alias(name) for name in PROFILE_COLUMNS])
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


# --- sources ---------------------------------------------------------------------------
def features_dir(settings: Settings) -> Path:
    return settings.runtime_dir / "stage3" / "features"


def read_plays_csv(spark, path: Path):
    """tracks.csv (no header) -> customer_id, track_id, datetime (timestamp), ismobile."""
    from pyspark.sql import functions as F

    raw = spark.read.csv(str(path), schema=spark_schema(EVENT_FIELDS, dates_as_strings=True))
    return raw.select("customer_id", "track_id", F.to_timestamp("datetime", EVENT_DATETIME_JAVA).alias("datetime"),
                      "ismobile").where(F.col("datetime").isNotNull())


def read_plays_es(spark, settings: Settings):
    """The same columns from the documents the streaming job indexed (stage 2 and 3 indices)."""
    import pandas as pd
    from elasticsearch import helpers

    from common.clients import es_client

    def scan():   # read again from the start if Elasticsearch goes away half-way
        return list(helpers.scan(es_client(settings), index=f"{settings.index_stage2},{settings.index_stage3}",
                                 ignore_unavailable=True, query={"query": {"match_all": {}}},
                                 _source=["customer_id", "track_id", "datetime", "ismobile"], size=5000))

    hits = call_with_retry(scan, "Elasticsearch", settings.es_url)
    rows = pd.DataFrame([h["_source"] for h in hits], columns=["customer_id", "track_id", "datetime", "ismobile"])
    rows = rows.astype({"customer_id": "int64", "track_id": "int64", "ismobile": "int64"})
    rows["datetime"] = pd.to_datetime(rows["datetime"])
    return spark.createDataFrame(rows, "customer_id LONG, track_id LONG, datetime TIMESTAMP, ismobile LONG")


def read_profiles_es(spark, settings: Settings):
    """The live profiles the stage-2 job keeps (index ba_profiles, stage2.profiles):
    customer_id and the PROFILE_COLUMNS as doubles, the same columns as
    ``customer_features`` computes from the plays (without the customer attributes)."""
    import pandas as pd
    from elasticsearch import helpers

    from common.clients import es_client

    hits = call_with_retry(lambda: list(helpers.scan(
        es_client(settings), index=settings.index_profiles, ignore_unavailable=True,
        query={"query": {"match_all": {}}}, _source=["customer_id", *PROFILE_COLUMNS], size=5000)),
        "Elasticsearch", settings.es_url)    # waits while Elasticsearch does not answer
    rows = pd.DataFrame([h["_source"] for h in hits], columns=["customer_id", *PROFILE_COLUMNS])
    rows = rows.astype({"customer_id": "int32", **{c: "float64" for c in PROFILE_COLUMNS}})
    return spark.createDataFrame(rows, "customer_id INT, " + ", ".join(f"{c} DOUBLE" for c in PROFILE_COLUMNS))


def read_customers(spark, path: Path):
    """cust.csv -> customer_id, level, gender, age_band, campaign (labels, as the documents show them).

    Rows common.readers.iter_customers refuses are skipped (the stage-2 importer reports them)."""
    rows = [(c.cust_id, level_label(c.level), gender_label(c.gender), age_band(c.age), str(c.campaign))
            for _, c, _ in iter_customers(path) if c is not None]
    return spark.createDataFrame(rows, "customer_id INT, level STRING, gender STRING, age_band STRING, campaign STRING")


def read_labels(spark, settings: Settings, outcomes=None):
    """customer_id, label: one row per customer who ever saw the offer, labelled with
    what they did the last time (clicks.csv, then the live outcomes of stage 3's
    SMS offers; stage3.outcomes.labels_from_history). Also returns how many labels
    came from each source."""
    from stage3.outcomes import labels_from_history, past_clicks

    history = labels_from_history(past_clicks(settings), outcomes if outcomes is not None else _no_outcomes(),
                                  settings.model_history_customers)
    counts = {"labels": len(history), "from_outcomes": int((history["source"] == "outcome").sum()),
              "drifted": int(history["drifted"].sum())}
    rows = list(zip(history["customer_id"].astype(int), history["label"].astype(float)))
    return spark.createDataFrame(rows, "customer_id INT, label DOUBLE"), counts


def _no_outcomes():
    import pandas as pd

    return pd.DataFrame({"customer_id": pd.Series(dtype="int64"), "label": pd.Series(dtype="float64"),
                         "seen_at": pd.Series(dtype="datetime64[ns, UTC]"), "drifted": pd.Series(dtype="int64")})


# --- the whole step ----------------------------------------------------------------------
def build_features(spark, settings: Settings, from_es: bool = False, outcomes=None):
    """Returns (features of every customer who played, the labelled subset, the data window).

    ``outcomes``: the live offer outcomes (stage3.outcomes.read_outcomes), newer than clicks.csv."""
    from pyspark.sql import functions as F

    plays = read_plays_es(spark, settings) if from_es else read_plays_csv(spark, settings.data_dir / "tracks.csv")
    plays = plays.cache()
    feats = customer_features(plays, read_customers(spark, settings.data_dir / "cust.csv")).cache()
    labels, label_counts = read_labels(spark, settings, outcomes)
    labelled = feats.join(labels, "customer_id").cache()
    w = plays.agg(F.min("datetime").alias("first"), F.max("datetime").alias("last"), F.count("*").alias("n")).first()
    window = {"source": "elasticsearch" if from_es else str(settings.data_dir / "tracks.csv"),
              "first_play": str(w["first"]), "last_play": str(w["last"]), "plays": w["n"],
              "customers": feats.count(), **label_counts}
    ceiling = settings.data_dir / "ground_truth.json"    # written by the generator (make data)
    if not from_es and ceiling.exists() and not label_counts["drifted"]:   # drifted answers follow another model
        window["bayes_error"] = json.loads(ceiling.read_text())["offer"]["bayes_error"]
    plays.unpersist()
    return feats, labelled, window


def write_outputs(feats, labelled, out: Path) -> None:
    """Parquet of all features (label null when not offered) and LIBSVM of the labelled rows."""
    from pyspark.ml import Pipeline

    labels = labelled.select("customer_id", "label")
    feats.join(labels, "customer_id", "left").write.mode("overwrite").parquet(str(out / "features.parquet"))
    vectors = Pipeline(stages=vectorizer_stages()).fit(labelled).transform(labelled)
    libsvm = out / "labelled.libsvm"
    shutil.rmtree(libsvm, ignore_errors=True)
    vectors.select("label", "features").coalesce(1).write.format("libsvm").save(str(libsvm))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--from-es", action="store_true", help="history from the stage-2/3 index instead of tracks.csv")
    args = ap.parse_args(argv)

    from common.spark import get_spark

    settings = get_settings()
    spark = get_spark("stage3-features", settings, kafka=False, extra_conf=QUIET)
    feats, labelled, window = build_features(spark, settings, args.from_es)
    out = features_dir(settings)
    write_outputs(feats, labelled, out)
    print(f"features: {window['customers']} customers, {labelled.count()} labelled, "
          f"{window['plays']} plays {window['first_play']} .. {window['last_play']} -> {out}")
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
