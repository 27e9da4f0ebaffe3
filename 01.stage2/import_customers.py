"""Load data/cust.csv into Redis: one hash per customer, for the streaming job's lookups.

    customer:{CustID} -> name, gender (female/male), age, age_band, level (Free/Silver/Gold),
                         level_code (0/1/2), campaign, zip, linked_with_apps, status

The age is derived from the id (common.customers.age_of), so it is the same on
every run. Rows go to Redis in pipelined batches (one round trip per batch, not
per customer) behind a progress bar. A bad row is reported with its line number
and reason and skipped; it never stops the import. The original MapR demo's
cust.csv works unchanged (same columns; a file without header row works too).

    python 01.stage2/import_customers.py                   # data/cust.csv
    python 01.stage2/import_customers.py --file other/cust.csv --batch 500
"""
from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # for `common`

from common.clients import redis_client
from common.config import Settings, get_settings
from common.customers import Customer, age_band, gender_label, level_label, parse_customer
from common.progress import ProgressLine
from common.schema import CUSTOMER_COLUMNS


@dataclass
class ImportSummary:
    imported: int = 0
    repaired: int = 0                                   # imported, with a note (e.g. zip padded)
    rejected: list[tuple[int, str]] = field(default_factory=list)   # (line number, reason)


def customer_hash(c: Customer) -> dict[str, str | int]:
    """The Redis hash of one customer (the shared stage 2-4 contract)."""
    return {"name": c.name, "gender": gender_label(c.gender), "age": c.age,
            "age_band": age_band(c.age), "level": level_label(c.level), "level_code": c.level,
            "campaign": c.campaign, "zip": c.zip, "linked_with_apps": c.linked_with_apps,
            "status": c.status}


def read_rows(path: Path):
    """(line number, row dict) for each data row; a file without header gets the schema's."""
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        first = f.readline()
        has_header = first.split(",")[0].strip().strip('"') == CUSTOMER_COLUMNS[0]
        f.seek(0)
        reader = csv.DictReader(f, fieldnames=None if has_header else CUSTOMER_COLUMNS)
        for row in reader:
            yield reader.line_num, row


def import_customers(path: Path, r, settings: Settings, batch: int = 1000,
                     progress: ProgressLine | None = None) -> ImportSummary:
    summary = ImportSummary()
    pipe = r.pipeline(transaction=False)
    pending = 0
    for line, row in read_rows(path):
        try:
            customer, notes = parse_customer(row)
        except (ValueError, TypeError, AttributeError) as exc:
            summary.rejected.append((line, str(exc)))
            continue
        pipe.hset(f"{settings.redis_customer_prefix}{customer.cust_id}", mapping=customer_hash(customer))
        summary.imported += 1
        summary.repaired += bool(notes)
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


def main() -> int:
    s = get_settings()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--file", type=Path, default=s.data_dir / "cust.csv")
    p.add_argument("--batch", type=int, default=1000, help="customers per Redis pipeline")
    args = p.parse_args()
    if not args.file.exists():
        print(f"{args.file} not found; generate the data first: make data", file=sys.stderr)
        return 1
    r = redis_client(s)
    with ProgressLine("importing customers", total=count_lines(args.file)) as progress:
        summary = import_customers(args.file, r, s, args.batch, progress)
    for line, reason in summary.rejected[:10]:
        print(f"  skipped line {line}: {reason}")
    if len(summary.rejected) > 10:
        print(f"  ... and {len(summary.rejected) - 10} more")
    print(f"imported {summary.imported} customers into Redis ({s.redis_customer_prefix}<CustID>), "
          f"{summary.repaired} repaired, {len(summary.rejected)} rejected", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
