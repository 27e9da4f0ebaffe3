"""Read the workshop's CSV files into pandas, with the shared column names and types.

    from common.readers import read_events, read_customers
    events = read_events("data/tracks.csv")          # EVENT_COLUMNS, zip kept as '00601'
    customers, bad_rows = read_customers("data/cust.csv")
    for line_no, reason in bad_rows: print(line_no, reason)

``read_customers`` also takes the original MapR demo's cust.csv unchanged (same
column names, possibly with spaces after the commas, zips without their leading
zeros, or rows that stop early); see ``common.customers.parse_customer``.
"""
from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from common.customers import parse_customer
from common.geo import normalize_zip
from common.schema import CLICK_COLUMNS, CUSTOMER_COLUMNS, EVENT_COLUMNS, MUSIC_COLUMNS

EVENT_DTYPES = {"event_id": "int64", "customer_id": "int64", "track_id": "int64",
                "datetime": str, "ismobile": "int64", "listening_zip_code": str}


def _has_header(path: Path, first_column: str) -> bool:
    with open(path, newline="", encoding="utf-8") as f:
        return f.readline().lstrip("\ufeff").strip().startswith(first_column)


def read_events(path: str | Path) -> pd.DataFrame:
    """A tracks.csv (or live file) as a DataFrame with EVENT_COLUMNS; ``datetime``
    stays text 'YYYY-MM-DD HH:MM:SS'. A header line is skipped when present."""
    path = Path(path)
    events = pd.read_csv(path, header=None, names=EVENT_COLUMNS, dtype=EVENT_DTYPES,
                         skiprows=1 if _has_header(path, EVENT_COLUMNS[0]) else 0,
                         skipinitialspace=True)
    events["listening_zip_code"] = events["listening_zip_code"].map(normalize_zip)
    return events


def iter_event_lines(path: str | Path) -> Iterator[str]:
    """The data lines of an events file, without line endings, header skipped."""
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if line and not line.startswith(EVENT_COLUMNS[0]):
                yield line


def read_customers(path: str | Path) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """cust.csv (ours or the original demo's) -> (DataFrame with CUSTOMER_COLUMNS,
    [(line number, reason), ...]).

    The DataFrame holds every usable row. The list names every row that was
    skipped (bad CustID, Gender, Status or Level; a repeated CustID, first kept)
    and every row that was kept but repaired (a missing trailing field, a zip
    without its leading zeros); the reason says which.
    """
    rows, problems, seen = [], [], set()
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f, skipinitialspace=True)
        reader.fieldnames = [name.strip() for name in reader.fieldnames or []]
        missing = [c for c in CUSTOMER_COLUMNS[:8] if c not in reader.fieldnames]
        if missing:
            raise ValueError(f"{path}: not a cust.csv, header lacks {missing}")
        for record in reader:
            line_no = reader.line_num
            if not any((v or "").strip() for v in record.values() if isinstance(v, str)):
                continue                                            # blank line
            try:
                customer, notes = parse_customer(record)
            except ValueError as err:
                problems.append((line_no, f"skipped: {err}"))
                continue
            if customer.cust_id in seen:
                problems.append((line_no, f"skipped: CustID {customer.cust_id} repeated"))
                continue
            seen.add(customer.cust_id)
            problems.extend((line_no, f"repaired: {note}") for note in notes)
            rows.append((customer.cust_id, customer.name, customer.gender, customer.address,
                         customer.zip, customer.sign_date, customer.status, customer.level,
                         customer.campaign, customer.linked_with_apps))
    frame = pd.DataFrame(rows, columns=CUSTOMER_COLUMNS)
    return frame.astype({c: "int64" for c in ("CustID", "Gender", "Status", "Level",
                                              "Campaign", "LinkedWithApps")}), problems


def read_music(path: str | Path) -> pd.DataFrame:
    """music.csv: TrackId, Title, Artist, Length (seconds)."""
    music = pd.read_csv(path, skipinitialspace=True, dtype={"Title": str, "Artist": str})
    music.columns = [c.strip() for c in music.columns]
    return music[MUSIC_COLUMNS].astype({"TrackId": "int64", "Length": "int64"})


def read_clicks(path: str | Path) -> pd.DataFrame:
    """clicks.csv: EventID, CustID, AdClicked, Localtime (text 'YYYY-MM-DD HH:MM:SS')."""
    clicks = pd.read_csv(path, skipinitialspace=True, dtype={"AdClicked": str, "Localtime": str})
    clicks.columns = [c.strip() for c in clicks.columns]
    return clicks[CLICK_COLUMNS].astype({"EventID": "int64", "CustID": "int64"})
