"""Write the zip-code tables Logstash's translate filter needs (logstash_stage1.conf).

The shipper looks zips up in common.geo; Logstash cannot import Python, so the
same table is written out as three YAML dictionaries under .runtime/logstash/:
zip -> "lat,lon" (a geo_point string), zip -> state, zip -> city.

    python -m stage1.logstash_dictionaries      # or: python 00.stage1/logstash_dictionaries.py
"""
from __future__ import annotations

import json
import sys

from common.config import get_settings
from common.geo import zip_table


def main() -> int:
    out = get_settings().runtime_dir / "logstash"
    out.mkdir(parents=True, exist_ok=True)
    table = zip_table()
    columns = {"location": lambda z: f"{z.lat},{z.lon}", "state": lambda z: z.state,
               "city": lambda z: z.city}
    for name, value in columns.items():
        path = out / f"zip_{name}.yml"
        # JSON strings are valid YAML scalars and quote names like "O'Fallon" safely
        path.write_text("".join(f'"{z}": {json.dumps(value(info))}\n' for z, info in table.items()))
        print(f"wrote {len(table)} zips to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
