"""Real US zip codes with state, city and lat/lon, from the ``zipcodes`` package
(its table ships inside the wheel, so nothing is downloaded at run time).

    from common.geo import lookup_zip
    lookup_zip("10001")  ->  ZipInfo(zip='10001', state='NY', city='New York', lat=40.7484, lon=-73.9967)
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
