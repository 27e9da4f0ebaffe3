"""stage2.checkpoints.drop_uncommitted_batch: a crash mid-batch leaves offsets/N without
commits/N; the job forgets that plan (Spark 4.1.1 cannot replay it, SPARK-55271)."""

from stage2.checkpoints import drop_uncommitted_batch


def make_checkpoint(root, offsets, commits):
    for name, batches in (("offsets", offsets), ("commits", commits)):
        (root / name).mkdir(parents=True)
        for n in batches:
            (root / name / str(n)).write_text("v1")
            (root / name / f".{n}.crc").write_text("crc")


def test_uncommitted_last_batch_is_forgotten(tmp_path):
    make_checkpoint(tmp_path, offsets=[0, 1, 2], commits=[0, 1])
    assert drop_uncommitted_batch(tmp_path) == [2]
    assert sorted(p.name for p in (tmp_path / "offsets").iterdir()) == [".0.crc", ".1.crc", "0", "1"]
    assert sorted(p.name for p in (tmp_path / "commits").iterdir()) == [".0.crc", ".1.crc", "0", "1"]


def test_clean_or_missing_checkpoint_is_left_alone(tmp_path):
    make_checkpoint(tmp_path / "clean", offsets=[0, 1], commits=[0, 1])
    assert drop_uncommitted_batch(tmp_path / "clean") == []
    assert len(list((tmp_path / "clean" / "offsets").iterdir())) == 4
    assert drop_uncommitted_batch(tmp_path / "never-started") == []


def test_crash_before_the_first_commit_starts_afresh(tmp_path):
    make_checkpoint(tmp_path / "ck", offsets=[0], commits=[])
    (tmp_path / "ck" / "state").mkdir()
    assert drop_uncommitted_batch(tmp_path / "ck") == [0]
    assert not (tmp_path / "ck").exists()
