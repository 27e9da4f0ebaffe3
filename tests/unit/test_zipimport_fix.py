"""common/__init__.py keeps Spark's Python workers from re-reading every zip on
their path before each task (Python < 3.12, CPython gh-103200)."""
import importlib
import sys
import zipfile
import zipimport

import pytest

import common  # noqa: F401  (the import applies the fix)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12+ invalidates zip caches lazily by itself")
def test_invalidate_caches_does_not_reread_zips(tmp_path, monkeypatch):
    archive = tmp_path / "code.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("first.py", "X = 1\n")
    importer = zipimport.zipimporter(str(archive))
    reads = []
    monkeypatch.setattr(zipimport, "_read_directory", lambda path: reads.append(path) or {})
    importlib.invalidate_caches()        # what pyspark's worker calls before every task
    importer.invalidate_caches()
    assert reads == []
    assert importer.find_spec("first") is not None     # its table of contents is still the one read at first
