"""Spark's Python workers must not re-read every zip on their path before each task:
common/__init__.py turns the eager re-read of Python 3.10-3.12 off (CPython gh-103200);
from 3.13 Python itself only marks the cache stale."""
import importlib
import zipfile
import zipimport

import common  # noqa: F401  (the import applies the fix where it is needed)


def test_invalidate_caches_does_not_reread_zips(tmp_path, monkeypatch):
    archive = tmp_path / "code.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("first.py", "X = 1\n")
    importer = zipimport.zipimporter(str(archive))
    reads = []
    with monkeypatch.context() as m:
        m.setattr(zipimport, "_read_directory", lambda path: reads.append(path) or {})
        importlib.invalidate_caches()        # what pyspark's worker calls before every task
        importer.invalidate_caches()
    assert reads == []
    assert importer.find_spec("first") is not None     # and the importer still finds its module
