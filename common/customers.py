"""Customers: derived attributes and parsing one ``cust.csv`` row.

Shared by the generator, the stage-2 importer (Redis hashes) and the stage-3
features, so that every part of the workshop agrees on what a customer is.
Reading a whole cust.csv is ``common.readers.iter_customers`` (one reader, one
rule for bad rows).

- ``age_of(cust_id)``: the age is *derived* from the id (cust.csv has no age
  column, neither ours nor the original MapR demo's), so it is the same on every
  run and on every machine. Formula in ``age_of`` and in data/GROUND_TRUTH.md.
- ``age_band(age)``, ``gender_label(g)``, ``level_label(l)``: the labels the
  documents and the dashboard show.
- ``parse_customer(row)``: one row as a ``Customer``, from our cust.csv or the
  original demo's (same columns; stray spaces, zips without leading zeros and
  missing trailing fields are tolerated and reported).

    from common.customers import age_of, age_band, parse_customer
    age_band(age_of(42))                 -> '25-34'
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from common.geo import normalize_zip
from common.schema import LEVELS, SIGNDATE_FORMAT

GENDERS = {0: "female", 1: "male"}

# (lowest age, label); a band runs up to the next band's lowest age
AGE_BANDS: tuple[tuple[int, str], ...] = (
    (18, "18-24"), (25, "25-34"), (35, "35-44"), (45, "45-54"), (55, "55-64"), (65, "65+"),
)
AGE_MIN, AGE_SPAN, AGE_SKEW = 18, 62, 1.8

# Knuth's multiplicative hash: spreads consecutive ids evenly over [0, 2**32)
_HASH_MULTIPLIER = 2654435761


def ages_of(cust_ids) -> np.ndarray:
    """Vectorised ``age_of``: ``18 + floor(62 * u ** 1.8)``, with
    ``u = (cust_id * 2654435761 mod 2**32) / 2**32``. The power skews ages young
    (median about 36, range 18-79), as a streaming service's users are."""
    ids = np.asarray(cust_ids, dtype=np.uint64)
    u = (ids * np.uint64(_HASH_MULTIPLIER) % np.uint64(2**32)).astype(np.float64) / 2.0**32
    return (AGE_MIN + np.floor(AGE_SPAN * u**AGE_SKEW)).astype(np.int64)


def age_of(cust_id: int) -> int:
    """The customer's age, derived from the id alone (never random per run)."""
    return int(ages_of([cust_id])[0])


def age_band(age: int) -> str:
    if age < AGE_BANDS[0][0]:
        return f"<{AGE_BANDS[0][0]}"
    label = AGE_BANDS[0][1]
    for lowest, name in AGE_BANDS:
        if age >= lowest:
            label = name
    return label


def gender_label(gender: int) -> str:
    return GENDERS.get(int(gender), "unknown")


def level_label(level: int) -> str:
    return LEVELS.get(int(level), "unknown")


@dataclass(frozen=True)
class Customer:
    cust_id: int
    name: str
    gender: int
    address: str
    zip: str
    sign_date: str
    status: int
    level: int
    campaign: int
    linked_with_apps: int

    @property
    def age(self) -> int:
        return age_of(self.cust_id)


# Trailing fields the original demo's files sometimes lack, and what we assume
_OPTIONAL_DEFAULTS = {"Campaign": 0, "LinkedWithApps": 0}


# Every number of a customer is a 32-bit INT in Spark and in the index mappings
# (common.schema.CUSTOMER_FIELDS): a bigger one would fail a whole micro-batch later.
INT_MIN, INT_MAX = -2**31, 2**31 - 1


def _as_int(row: dict, column: str, allowed: set[int] | None = None) -> int:
    text = (row.get(column) or "").strip()
    try:
        value = int(float(text)) if "." in text or "e" in text.lower() else int(text)
    except (ValueError, OverflowError):     # OverflowError: "1e999" is an infinite float
        raise ValueError(f"{column} is not a number: {text[:40]!r}") from None
    if not INT_MIN <= value <= INT_MAX:
        raise ValueError(f"{column} out of range (a 32-bit integer): {text[:40]!r}")
    if allowed is not None and value not in allowed:
        raise ValueError(f"{column} must be one of {sorted(allowed)}, got {value}")
    return value


def parse_customer(row: dict[str, str | None]) -> tuple[Customer, list[str]]:
    """One cust.csv row (column name -> text) as a ``Customer``.

    Returns the customer and a list of notes about what was repaired (empty when
    the row was clean). Raises ``ValueError`` with the reason when the row cannot
    be used: CustID not a non-negative whole number (0 is valid, as in the
    original demo's file), Gender/Status/Level missing or out of range, or any
    number beyond a 32-bit integer (an overflow never escapes as another error).
    """
    row = {k.strip(): (v.strip() if isinstance(v, str) else v) for k, v in row.items() if k}
    notes = []
    cust_id = _as_int(row, "CustID")
    if cust_id < 0:
        raise ValueError(f"CustID must be a non-negative whole number, got {cust_id}")
    gender = _as_int(row, "Gender", set(GENDERS))
    status = _as_int(row, "Status", {0, 1})
    level = _as_int(row, "Level", set(LEVELS))

    optional = {}
    for column, default in _OPTIONAL_DEFAULTS.items():
        if row.get(column) in (None, ""):
            optional[column] = default
            notes.append(f"{column} missing, taken as {default}")
        else:
            optional[column] = _as_int(row, column)

    zip_code = normalize_zip(row.get("zip") or "")
    if zip_code != (row.get("zip") or ""):
        notes.append(f"zip {row.get('zip')!r} read as {zip_code!r}")

    sign_date = row.get("SignDate") or ""
    try:
        datetime.strptime(sign_date, SIGNDATE_FORMAT)
    except ValueError:
        notes.append(f"SignDate {sign_date!r} is not MM/DD/YYYY, kept as text")

    customer = Customer(
        cust_id=cust_id, name=row.get("Name") or "", gender=gender,
        address=row.get("Address") or "", zip=zip_code, sign_date=sign_date,
        status=status, level=level, campaign=optional["Campaign"],
        linked_with_apps=optional["LinkedWithApps"],
    )
    return customer, notes
