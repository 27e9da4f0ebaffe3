"""Write the zip-code tables Logstash's translate filter needs (logstash_stage1.conf).

The shipper looks zips up in common.geo; Logstash cannot import Python, so the
same table is written out as three YAML dictionaries under .runtime/logstash/:
zip -> "lat,lon" (a geo_point string), zip -> state, zip -> city. The pipeline
finds them through LOGSTASH_DICTIONARIES (docker-compose.yml mounts this folder).

    make es-templates                            # writes them, with the index templates
    python -m stage1.logstash_dictionaries      # or only them
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from common.config import Settings, get_settings
from common.geo import zip_table

DICTIONARIES = ("location", "state", "city")       # zip_<name>.yml, as the pipeline names them


def dictionaries_dir(settings: Settings) -> Path:
    return settings.runtime_dir / "logstash"


def write_dictionaries(settings: Settings | None = None) -> Path:
    """Write zip_location.yml, zip_state.yml and zip_city.yml; return their folder."""
    out = dictionaries_dir(settings or get_settings())
    out.mkdir(parents=True, exist_ok=True)
    table = zip_table()
    columns = {"location": lambda z: f"{z.lat},{z.lon}", "state": lambda z: z.state,
               "city": lambda z: z.city}
    for name in DICTIONARIES:
        path = out / f"zip_{name}.yml"
        # JSON strings are valid YAML scalars and quote names like "O'Fallon" safely
        path.write_text("".join(f'"{z}": {json.dumps(columns[name](info))}\n' for z, info in table.items()))
        print(f"wrote {len(table)} zips to {path}")
    return out


def main() -> int:
    write_dictionaries()
    return 0


if __name__ == "__main__":
    sys.exit(main())
