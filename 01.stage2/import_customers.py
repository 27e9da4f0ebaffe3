"""Load data/cust.csv into Redis: one hash per customer, for the streaming job's lookups.

    customer:{CustID} -> name, gender (female/male), age, age_band, level (Free/Silver/Gold),
                         level_code (0/1/2), campaign, zip, linked_with_apps, status

This module owns that contract: ``customer_hash`` writes it and
``customer_fields`` reads it back into document fields (stage2.enrich uses it).
The age is derived from the id (common.customers.age_of), so it is the same on
every run. Rows go to Redis in pipelined batches (one round trip per batch, not
per customer) behind a progress bar. A bad row is reported with its line number
and reason and skipped (common.readers.iter_customers: the one rule every reader
of cust.csv follows); it never stops the import. The original MapR demo's
cust.csv works unchanged (CustID 0 included; a file without header row too).

    python -m stage2.import_customers                    # data/cust.csv
    python 01.stage2/import_customers.py --file other/cust.csv --batch 500
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from common.clients import EngineUnavailable, redis_client
from common.config import Settings, get_settings
from common.customers import Customer, age_band, gender_label, level_label
from common.progress import ProgressLine
from common.readers import iter_customers
from common.retry import call_with_retry
from common.schema import ENRICHED_FIELDS


# --- the contract: the customer hash ----------------------------------------------------
def customer_hash(c: Customer) -> dict[str, str | int]:
    """The Redis hash of one customer."""
    return {"name": c.name, "gender": gender_label(c.gender), "age": c.age,
            "age_band": age_band(c.age), "level": level_label(c.level), "level_code": c.level,
            "campaign": c.campaign, "zip": c.zip, "linked_with_apps": c.linked_with_apps,
            "status": c.status}


# hash field -> (document field, converter): what a stage-2 document takes from the hash
HASH_TO_DOC = {
    "name": ("name", str),
    "gender": ("gender", str),
    "age": ("age", int),
    "age_band": ("age_band", str),
    "level": ("level", str),
    "campaign": ("campaign", int),
    "zip": ("customer_zip", str),
    "linked_with_apps": ("linked_with_apps", int),
}


def customer_fields(stored: Mapping | None) -> dict:
    """Document fields from a stored customer hash (bytes or str keys and values).

    An empty or missing hash means an unknown customer: ``customer_known`` is
    False and the customer fields are left out (the event is kept, not dropped).
    """
    if not stored:
        return {"customer_known": False}
    flat = {_text(k): _text(v) for k, v in stored.items()}
    out: dict = {"customer_known": True}
    for hash_field, (doc_field, convert) in HASH_TO_DOC.items():
        value = flat.get(hash_field)
        if value not in (None, ""):
            out[doc_field] = convert(value)
    return out


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


assert {doc for doc, _ in HASH_TO_DOC.values()} <= {f.name for f in ENRICHED_FIELDS}, \
    "the customer hash and common.schema.ENRICHED_FIELDS disagree"


# --- the import ------------------------------------------------------------------------
@dataclass
class ImportSummary:
    imported: int = 0
    repaired: int = 0                                   # imported, with a note (e.g. zip padded)
    rejected: list[tuple[int, str]] = field(default_factory=list)   # (line number, reason)


def import_customers(path: Path, r, settings: Settings, batch: int = 1000,
                     progress: ProgressLine | None = None) -> ImportSummary:
    summary = ImportSummary()
    pipe = r.pipeline(transaction=False)
    pending = 0
    for line, customer, note in iter_customers(path):
        if customer is None:
            summary.rejected.append((line, note))
            continue
        pipe.hset(f"{settings.redis_customer_prefix}{customer.cust_id}", mapping=customer_hash(customer))
        summary.imported += 1
        summary.repaired += bool(note)
        pending += 1
        if pending == batch:
            pipe.execute()          # one round trip for the whole batch
            if progress:
                progress.advance(pending, rejected=len(summary.rejected))
            pending = 0
    pipe.execute()
    if progress and pending:
        progress.advance(pending, rejected=len(summary.rejected))
    return summary


def count_lines(path: Path) -> int:
    with open(path, "rb") as f:
        return max(sum(1 for _ in f) - 1, 0)


def main(argv: list[str] | None = None) -> int:
    s = get_settings()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--file", type=Path, default=s.data_dir / "cust.csv")
    p.add_argument("--batch", type=int, default=1000, help="customers per Redis pipeline")
    args = p.parse_args(argv)
    if not args.file.exists():
        print(f"{args.file} not found; generate the data first: make data", file=sys.stderr)
        return 1
    def import_all() -> ImportSummary:
        with ProgressLine("importing customers", total=count_lines(args.file)) as progress:
            return import_customers(args.file, redis_client(s), s, args.batch, progress)

    try:
        # Redis away (restarting, paused): wait for it, then import again from the
        # top; writing a hash twice changes nothing.
        summary = call_with_retry(import_all, "Redis", s.redis_url)
    except EngineUnavailable as exc:
        print(f"import_customers: {exc}", file=sys.stderr)
        return 1
    for line, reason in summary.rejected[:10]:
        print(f"  skipped line {line}: {reason}")
    if len(summary.rejected) > 10:
        print(f"  ... and {len(summary.rejected) - 10} more")
    print(f"imported {summary.imported} customers into Redis ({s.redis_customer_prefix}<CustID>), "
          f"{summary.repaired} repaired, {len(summary.rejected)} rejected", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
