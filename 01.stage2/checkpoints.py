"""A workaround for a Spark 4.1.1 bug when a job restarts after a crash (SPARK-55271).

A job killed mid-batch leaves ``offsets/N`` in its checkpoint without
``commits/N``. Spark would replay exactly that batch, but 4.1.1's Kafka source
then fails in its progress metrics (NullPointerException). Forgetting the
uncommitted plan makes Spark plan batch N again from the last commit: the same
start offsets, and the writes are idempotent (document ids), so nothing is lost
or duplicated either way.
"""
from __future__ import annotations

import shutil
from pathlib import Path


def drop_uncommitted_batch(checkpoint: Path) -> list[int]:
    """Delete the plans of batches that were started but never committed; returns their numbers."""
    offsets, commits = checkpoint / "offsets", checkpoint / "commits"
    planned = {int(f.name) for f in offsets.glob("*") if f.name.isdigit()}
    done = {int(f.name) for f in commits.glob("*") if f.name.isdigit()}
    if planned and not done:
        # Not even batch 0 finished: start afresh (a stateful query refuses to
        # plan batch 0 again over the state files the crashed attempt left).
        shutil.rmtree(checkpoint)
        return sorted(planned)
    for batch in sorted(planned - done):
        (offsets / str(batch)).unlink()
        (offsets / f".{batch}.crc").unlink(missing_ok=True)
    return sorted(planned - done)


def forget_uncommitted(checkpoint: Path, quiet: bool = False) -> None:
    dropped = drop_uncommitted_batch(checkpoint)
    if dropped and not quiet:
        print(f"{checkpoint.name}: batch {dropped[-1]} was started but never committed (a crash?); "
              "it is planned again from the last commit", flush=True)
