"""What one micro-batch of per-customer state costs with each of Spark's state APIs.

Not a test and not part of ``make bench``: the measurement that chose how stage 2
keeps its per-customer state (bench/README.md, "Which design, measured"). The same
plays of data/tracks.csv go, as parquet files of ``--batch`` plays each (one file per
micro-batch, ``availableNow``), through one stateful query per API; each keeps a
small state per customer (plays and tracks seen) and emits the changed customers:

    native         groupBy(customer_id).agg(...)           no Python at all
    pandas-state   applyInPandasWithState                   one group per customer
    tws-pandas     transformWithStateInPandas               one key per customer, RocksDB
    tws-row        transformWithState (Row-based)           one key per customer, RocksDB

    .venv/bin/python bench/state_apis.py --events 100000 --batch 10000
    /tmp/v42/bin/python bench/state_apis.py ...      # another pyspark, same host

Prints seconds per micro-batch (after the first, which starts the workers) and
microseconds per key; run each pyspark back to back on the same host.
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = "event_id LONG, customer_id INT, track_id INT, played_ms LONG, mobile INT"
OUT = "customer_id INT, plays LONG, tracks INT"


def write_batches(spark, events: int, batch: int, where: Path) -> int:
    import pandas as pd

    plays = pd.read_csv(ROOT / "data" / "tracks.csv", header=None, nrows=events,
                        names=["event_id", "customer_id", "track_id", "played_at", "mobile", "zip"])
    plays["played_ms"] = pd.to_datetime(plays.pop("played_at")).astype("datetime64[ms]").astype("int64")
    plays = plays.drop(columns="zip")[["event_id", "customer_id", "track_id", "played_ms", "mobile"]]
    plays["customer_id"] = plays["customer_id"].astype("int32")
    plays["track_id"] = plays["track_id"].astype("int32")
    plays["mobile"] = plays["mobile"].astype("int32")
    for i, start in enumerate(range(0, events, batch)):
        plays.iloc[start:start + batch].to_parquet(where / f"part-{i:05d}.parquet", index=False)
    return plays.groupby(plays.index // batch)["customer_id"].nunique().mean()


def native(plays):
    from pyspark.sql import functions as F
    return (plays.groupBy("customer_id")
            .agg(F.count("*").alias("plays"), F.size(F.collect_set("track_id")).alias("tracks")))


def pandas_state(plays):
    import pandas as pd

    def update(key, frames, state):
        plays_, tracks = state.get if state.exists else (0, [])
        seen = set(tracks)
        for frame in frames:
            plays_ += len(frame)
            seen.update(frame["track_id"].tolist())
        state.update((plays_, sorted(seen)))
        yield pd.DataFrame({"customer_id": [key[0]], "plays": [plays_], "tracks": [len(seen)]})

    return plays.groupBy("customer_id").applyInPandasWithState(
        update, OUT, "plays LONG, tracks ARRAY<INT>", "Update", "NoTimeout")


def tws(plays, row_based: bool):
    import pandas as pd
    from pyspark.sql import Row
    from pyspark.sql.streaming.stateful_processor import StatefulProcessor

    class Profile(StatefulProcessor):
        def init(self, handle):
            self.count = handle.getValueState("plays", "plays LONG")
            self.tracks = handle.getMapState("tracks", "track_id INT", "n LONG")

        def handleInputRows(self, key, rows, timerValues):
            n = self.count.get()[0] if self.count.exists() else 0
            if row_based:
                batch = list(rows)
                tracks = {r.track_id for r in batch}
                n += len(batch)
            else:
                tracks = set()
                for frame in rows:
                    n += len(frame)
                    tracks.update(frame["track_id"].tolist())
            for t in tracks:
                if not self.tracks.containsKey((t,)):
                    self.tracks.updateValue((t,), (1,))
            self.count.update((n,))
            distinct = sum(1 for _ in self.tracks.keys())
            if row_based:
                yield Row(customer_id=key[0], plays=n, tracks=distinct)
            else:
                yield pd.DataFrame({"customer_id": [key[0]], "plays": [n], "tracks": [distinct]})

        def close(self):
            pass

    grouped = plays.groupBy("customer_id")
    if row_based:
        return grouped.transformWithState(Profile(), OUT, "Update", "None")
    return grouped.transformWithStateInPandas(Profile(), OUT, "Update", "None")


VARIANTS = {"native": native, "pandas-state": pandas_state,
            "tws-pandas": lambda p: tws(p, False), "tws-row": lambda p: tws(p, True)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", type=int, default=100_000)
    p.add_argument("--batch", type=int, default=10_000)
    p.add_argument("--partitions", type=int, default=2)
    p.add_argument("--only", default=",".join(VARIANTS))
    args = p.parse_args()

    import os
    import sys

    import pyspark
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable      # the workers run this same Python

    spark = (SparkSession.builder.master("local[2]").appName("state-apis")
             .config("spark.sql.shuffle.partitions", args.partitions)
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.streaming.stateStore.providerClass",
                     "org.apache.spark.sql.execution.streaming.state.RocksDBStateStoreProvider")
             .config("spark.sql.streaming.stateStore.rocksdb.changelogCheckpointing.enabled", "true")
             .config("spark.ui.enabled", "false").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    work = Path(tempfile.mkdtemp(prefix="state-apis-"))
    (work / "in").mkdir()
    keys = write_batches(spark, args.events, args.batch, work / "in")
    print(f"pyspark {pyspark.__version__}: {args.events:,} plays in batches of {args.batch:,} "
          f"({keys:,.0f} customers per batch), {args.partitions} shuffle partitions")
    for name in args.only.split(","):
        plays = (spark.readStream.schema(SCHEMA).option("maxFilesPerTrigger", 1).parquet(str(work / "in")))
        times: list[float] = []
        rows = [0]

        def sink(df, batch_id):
            t = time.perf_counter()
            rows[0] += df.count()
            times.append(time.perf_counter() - t)

        started = time.perf_counter()
        q = (VARIANTS[name](plays).writeStream.outputMode("update").foreachBatch(sink)
             .option("checkpointLocation", str(work / f"ck-{name}")).trigger(availableNow=True).start())
        q.awaitTermination()
        total = time.perf_counter() - started
        steady = times[1:] or times
        per_batch = sum(steady) / len(steady)
        print(f"  {name:13s} {per_batch:6.2f} s per batch, {per_batch / keys * 1e6:7.0f} µs per key"
              f"  (first batch {times[0]:.2f} s, {len(times)} batches, {total:.1f} s in all, {rows[0]:,} rows out)")
    spark.stop()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
