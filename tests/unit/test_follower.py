"""stage1.follower.FileFollower: complete lines only, resumes after a restart
without loss or repeats, survives truncation and rotation."""
import os
import threading

from stage1.follower import FileFollower


def read_available(follower, idle=0.3):
    """Every line the follower yields until the file has been quiet for `idle` s."""
    return list(follower.lines(idle_timeout=idle))


def append(path, data: bytes):
    with open(path, "ab") as f:
        f.write(data)


def test_yields_complete_lines_with_offsets(tmp_path):
    live = tmp_path / "live.csv"
    append(live, b"a\nbb\r\nccc\n")
    lines = read_available(FileFollower(live, tmp_path / "off.json", poll_interval=0.01))
    assert [l.data for l in lines] == [b"a", b"bb", b"ccc"]
    assert [l.offset for l in lines] == [0, 2, 6]
    assert lines[-1].position.offset == live.stat().st_size


def test_partial_last_line_waits_for_its_newline(tmp_path):
    live = tmp_path / "live.csv"
    append(live, b"one\ntw")
    follower = FileFollower(live, tmp_path / "off.json", poll_interval=0.01)
    stop = threading.Event()
    got = []
    lines = follower.lines(stop=stop, idle_ticks=True)
    for line in lines:
        if line is None:
            if got == [b"one"] and not live.read_bytes().endswith(b"\n"):
                append(live, b"o\n")     # the writer finishes the line
            elif len(got) == 2:
                break
            continue
        got.append(line.data)
    assert got == [b"one", b"two"]


def test_restart_resumes_after_the_last_commit_no_loss_no_repeat(tmp_path):
    live, offsets = tmp_path / "live.csv", tmp_path / "off.json"
    append(live, b"".join(b"line%d\n" % i for i in range(10)))
    first = FileFollower(live, offsets, poll_interval=0.01)
    seen = []
    for line in first.lines(idle_timeout=0.3):
        seen.append(line.data)
        if len(seen) <= 4:
            first.commit(line.position)   # lines 5.. were read but never confirmed
        if len(seen) == 6:
            break
    append(live, b"line10\n")
    again = [l.data for l in read_available(FileFollower(live, offsets, poll_interval=0.01))]
    assert again == [b"line%d" % i for i in range(4, 11)]


def test_truncation_starts_over_at_byte_zero(tmp_path):
    live, offsets = tmp_path / "live.csv", tmp_path / "off.json"
    append(live, b"old1\nold2\nold3\n")
    follower = FileFollower(live, offsets, poll_interval=0.01)
    for line in read_available(follower):
        follower.commit(line.position)
    live.write_bytes(b"new1\n")                      # same inode, shorter
    after_restart = read_available(follower)
    assert [l.data for l in after_restart] == [b"new1"]
    follower.commit(after_restart[-1].position)
    # and while running: truncate under a follower that is reading
    stop = threading.Event()
    got = []
    for line in follower.lines(stop=stop, idle_ticks=True):
        if line is None:
            if not got and live.read_bytes() == b"new1\n":
                live.write_bytes(b"x\n")
            elif got:
                break
            continue
        got.append(line.data)
        follower.commit(line.position)
    assert got == [b"x"]


def test_rotation_finishes_the_old_file_then_reads_the_new_one(tmp_path):
    live, offsets = tmp_path / "live.csv", tmp_path / "off.json"
    append(live, b"a1\na2\n")
    follower = FileFollower(live, offsets, poll_interval=0.01)
    got = []
    for line in follower.lines(idle_ticks=True):
        if line is None:
            if got == [b"a1", b"a2"]:
                append(live, b"a3\na4-unterminated")   # written just before rotation
                os.rename(live, tmp_path / "live.csv.1")
                append(live, b"b1\n")                  # a new file, a new inode
            elif len(got) == 5:
                break
            continue
        got.append(line.data)
        follower.commit(line.position)
    assert got == [b"a1", b"a2", b"a3", b"a4-unterminated", b"b1"]
    assert follower.committed().inode == live.stat().st_ino


def test_rotation_while_stopped_finds_the_old_file_by_inode(tmp_path):
    live, offsets = tmp_path / "live.csv", tmp_path / "off.json"
    append(live, b"a1\na2\n")
    follower = FileFollower(live, offsets, poll_interval=0.01)
    for line in read_available(follower):
        follower.commit(line.position)
    append(live, b"a3\n")                       # written, not yet shipped, then rotated
    os.rename(live, tmp_path / "live.csv.1")
    append(live, b"b1\nb2\n")
    got = [l.data for l in read_available(FileFollower(live, offsets, poll_interval=0.01))]
    assert got == [b"a3", b"b1", b"b2"]


def test_backlog_counts_lines_after_the_commit(tmp_path):
    live, offsets = tmp_path / "live.csv", tmp_path / "off.json"
    follower = FileFollower(live, offsets)
    assert follower.backlog_lines() == 0        # no file yet
    append(live, b"1\n2\n3\n")
    assert follower.backlog_lines() == 3
    first = next(iter(follower.lines(idle_timeout=0.1)))
    follower.commit(first.position)
    assert follower.backlog_lines() == 2


def test_waits_for_a_file_that_does_not_exist_yet(tmp_path):
    live = tmp_path / "later.csv"
    follower = FileFollower(live, tmp_path / "off.json", poll_interval=0.01)
    got = []
    for line in follower.lines(idle_ticks=True):
        if line is None:
            if not live.exists():
                append(live, b"hello\n")
            elif got:
                break
            continue
        got.append(line.data)
    assert got == [b"hello"]
