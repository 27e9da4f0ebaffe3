"""Read the workshop's CSV files, with the shared column names and types.

    from common.readers import iter_customers, read_events, read_customers, read_music
    events = read_events("data/tracks.csv")          # EVENT_COLUMNS, zip kept as '00601'
    for line_no, customer, note in iter_customers("data/cust.csv"): ...   # stage 2, stage 3
    customers, bad_rows = read_customers("data/cust.csv")                 # the same, as pandas
    catalog = read_catalog("data/music.csv")        # {track_id: {title, artist, length}}

``read_customers`` also takes the original MapR demo's cust.csv unchanged (same
column names, possibly with spaces after the commas, zips without their leading
zeros, or rows that stop early); see ``common.customers.parse_customer``.
"""
from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from common.customers import Customer, parse_customer
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


def iter_customers(path: str | Path) -> Iterator[tuple[int, Customer | None, str]]:
    """Every data row of a cust.csv (ours or the original demo's) as
    ``(line number, customer, note)``. The one rule for bad rows, used by every
    reader of the file:

    * a usable row: ``customer`` is set; ``note`` says what was repaired
      (a missing trailing field, a zip without its leading zeros), or is "";
    * an unusable row (bad CustID, Gender, Status or Level, a number beyond 32
      bits, a field the csv module refuses) or a repeated CustID (the first one
      is kept): ``customer`` is None, ``note`` the reason;
    * blank lines are skipped silently; a file without a header row gets the
      schema's column names. Raises ValueError for a file that is not a cust.csv.
    """
    seen: set[int] = set()
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as f:
        first = [name.strip().strip('"') for name in f.readline().split(",")]
        has_header = not first[0].lstrip("-").isdigit()
        missing = [c for c in CUSTOMER_COLUMNS[:8] if c not in first]
        if has_header and missing:
            raise ValueError(f"{path}: not a cust.csv, header lacks {missing}")
        f.seek(0)
        reader = csv.DictReader(f, fieldnames=None if has_header else CUSTOMER_COLUMNS,
                                skipinitialspace=True)
        if has_header:
            reader.fieldnames = [name.strip() for name in reader.fieldnames or []]
        while True:
            before = reader.line_num
            try:
                record = next(reader)
            except StopIteration:
                break
            except csv.Error as err:       # a field over the csv module's limit (128 KiB)
                # (Python versions differ on whether line_num counts the refused line)
                yield max(reader.line_num, before + 1), None, f"unreadable row: {err}"
                continue
            line_no = reader.line_num
            if not any((v or "").strip() for v in record.values() if isinstance(v, str)):
                continue                                            # blank line
            try:
                customer, notes = parse_customer(record)
            except (ValueError, TypeError, AttributeError, OverflowError) as err:
                yield line_no, None, str(err)
                continue
            if customer.cust_id in seen:
                yield line_no, None, f"CustID {customer.cust_id} repeated (the first row is kept)"
                continue
            seen.add(customer.cust_id)
            yield line_no, customer, "; ".join(notes)


def read_customers(path: str | Path) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """cust.csv -> (DataFrame with CUSTOMER_COLUMNS, [(line number, reason), ...]).

    The DataFrame holds every usable row; the list names every row that was
    skipped ("skipped: ...") or repaired ("repaired: ..."), by ``iter_customers``' rule.
    """
    rows, problems = [], []
    for line_no, customer, note in iter_customers(path):
        if customer is None:
            problems.append((line_no, f"skipped: {note}"))
            continue
        problems.extend((line_no, f"repaired: {n}") for n in note.split("; ") if n)
        rows.append((customer.cust_id, customer.name, customer.gender, customer.address,
                     customer.zip, customer.sign_date, customer.status, customer.level,
                     customer.campaign, customer.linked_with_apps))
    frame = pd.DataFrame(rows, columns=CUSTOMER_COLUMNS)
    return frame.astype({c: "int64" for c in ("CustID", "Gender", "Status", "Level",
                                              "Campaign", "LinkedWithApps")}), problems


def read_music(path: str | Path) -> pd.DataFrame:
    """music.csv: TrackId, Title, Artist, Length (seconds)."""
    # keep_default_na=False: a song called "NA" or "None" is a title, not a missing value
    music = pd.read_csv(path, skipinitialspace=True, dtype={"Title": str, "Artist": str},
                        keep_default_na=False)
    music.columns = [c.strip() for c in music.columns]
    return music[MUSIC_COLUMNS].astype({"TrackId": "int64", "Length": "int64"})


def read_catalog(path: str | Path) -> dict[int, dict]:
    """music.csv -> {track_id: {"title", "artist", "length"}}: the track part of a document."""
    music = read_music(path)
    return {int(t): {"title": str(title), "artist": str(artist), "length": int(length)}
            for t, title, artist, length in music[MUSIC_COLUMNS].itertuples(index=False)}


def read_clicks(path: str | Path) -> pd.DataFrame:
    """clicks.csv: EventID, CustID, AdClicked, Localtime (text 'YYYY-MM-DD HH:MM:SS')."""
    clicks = pd.read_csv(path, skipinitialspace=True, dtype={"AdClicked": str, "Localtime": str})
    clicks.columns = [c.strip() for c in clicks.columns]
    return clicks[CLICK_COLUMNS].astype({"EventID": "int64", "CustID": "int64"})
