"""The zip table every parsing process holds: built once from the zipcodes package,
then read from its small cache file by every other process (common/geo.py)."""
import json

from common.config import get_settings
from common.geo import ZipInfo, table_from_package, zip_table


def test_cache_file_is_written_once_and_gives_the_same_table(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNTIME_DIR", str(tmp_path))
    get_settings.cache_clear()
    zip_table.cache_clear()
    try:
        built = zip_table()
        [cache] = tmp_path.glob("zips-*.json")           # written whole: no temporary file left
        assert built == table_from_package()
        assert built["10001"] == ZipInfo("10001", "NY", "New York", 40.7484, -73.9967)

        # another process reads the file, not the package: prove it by changing one row
        rows = json.loads(cache.read_text())
        rows[0][2] = "Read From The Cache"
        cache.write_text(json.dumps(rows))
        zip_table.cache_clear()
        assert zip_table()[rows[0][0]].city == "Read From The Cache"

        cache.write_text("{not json")                     # a damaged cache is rebuilt, not fatal
        zip_table.cache_clear()
        assert zip_table() == built
        assert json.loads(cache.read_text())[0][2] != "Read From The Cache"
    finally:
        get_settings.cache_clear()
        zip_table.cache_clear()
