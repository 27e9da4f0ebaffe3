"""stage3.train.ModelStore.prune: only the last MODEL_VERSIONS_KEPT versions stay on disk,
and the promoted one (CURRENT) is never deleted, however old."""
from __future__ import annotations

from common.config import Settings
from stage3.train import ModelStore


def test_prune_keeps_the_newest_and_the_promoted_one(tmp_path):
    store = ModelStore(Settings(runtime_dir=tmp_path))
    for n in range(1, 16):
        assert store.new_version() == f"v{n:04d}"
    store.promote("v0002")
    assert store.prune(10) == ["v0001", "v0003", "v0004", "v0005"]
    assert store.versions() == ["v0002", *[f"v{n:04d}" for n in range(6, 16)]]
    assert store.current() == "v0002"
    assert store.prune(0) == []                      # 0: keep every version
    assert store.new_version() == "v0016"            # numbers go on, never reused
