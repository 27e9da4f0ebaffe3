"""Real US zip codes with state, city and lat/lon, from the ``zipcodes`` package
(its table ships inside the wheel, so nothing is downloaded at run time).

    from common.geo import lookup_zip
    lookup_zip("10001")  ->  ZipInfo(zip='10001', state='NY', city='New York', lat=40.7484, lon=-73.9967)

Every process that parses plays holds this table: the shipper and each of
Spark's Python workers. The package's own list keeps 15 fields of all 42,789
zips (about 140 MB per process); the five we use, for the 29,806 standard
ones, take about 16 MB. So the first process that builds the table also writes
it to ``.runtime/zips-<zipcodes version>.json`` (1.3 MB), and the others read
that file without ever loading the package's list (docs/memory.md).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class ZipInfo:
    zip: str
    state: str
    city: str
    lat: float
    lon: float


@lru_cache(maxsize=1)
def zip_table() -> dict[str, ZipInfo]:
    """Every active standard US zip that has coordinates, keyed by 5-digit zip."""
    import json
    import os
    from importlib.metadata import version

    from common.config import get_settings

    cache = get_settings().runtime_dir / f"zips-{version('zipcodes')}.json"
    try:
        return {row[0]: ZipInfo(*row) for row in json.loads(cache.read_text())}
    except (OSError, ValueError, TypeError):
        pass                                   # not written yet, or unreadable: build it
    table = table_from_package()
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_name(f".{cache.name}.{os.getpid()}")
        tmp.write_text(json.dumps([[z.zip, z.state, z.city, z.lat, z.lon] for z in table.values()]))
        os.replace(tmp, cache)                 # whole or not at all, for a reader at the same moment
    except OSError:
        pass                                   # a read-only place (an executor elsewhere): keep it in memory
    return table


def table_from_package() -> dict[str, ZipInfo]:
    """The table, built from the ``zipcodes`` package's list of every zip."""
    import zipcodes

    table = {}
    for z in zipcodes.list_all():
        if not z.get("active") or z.get("zip_code_type") != "STANDARD" or not z.get("lat"):
            continue
        try:
            lat, lon = float(z["lat"]), float(z["long"])
        except (TypeError, ValueError):
            continue
        table[z["zip_code"]] = ZipInfo(z["zip_code"], z["state"], z["city"], lat, lon)
    return table


def normalize_zip(value: str | int) -> str:
    """'601' and 601 -> '00601' (CSV tools often drop leading zeros)."""
    s = str(value).strip()
    return s.zfill(5) if s.isdigit() and len(s) <= 5 else s


def lookup_zip(value: str | int) -> ZipInfo | None:
    return zip_table().get(normalize_zip(value))
