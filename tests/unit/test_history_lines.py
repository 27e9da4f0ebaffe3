"""The history load reads lines of bounded length (stage1.shipper.history_lines):
a line longer than max_line_bytes, even one that never ends, is handed over as
its short stand-in and rejected as line_too_long; the lines around it are intact."""
from __future__ import annotations

import io

from common.events import RAW_KEEP_BYTES, Rejected, parse_event
from stage1.shipper import count_lines, history_lines

GOOD = b"1,42,7,2024-05-01 08:15:00,1,10001\n"
LIMIT = 1000


class CountingReader(io.BytesIO):
    """Records the biggest piece any one read handed out."""

    biggest = 0

    def readline(self, size=-1):
        line = super().readline(size)
        self.biggest = max(self.biggest, len(line))
        return line


def test_short_lines_pass_unchanged():
    data = GOOD * 3 + b"2,43,8,2024-05-01 08:16:00,0,10001"      # last line without newline
    assert list(history_lines(io.BytesIO(data), LIMIT)) == [GOOD] * 3 + [data.splitlines()[-1]]


def test_a_long_line_becomes_its_stand_in_and_the_next_line_is_intact():
    long = b"9," + b"x" * 5_000_000 + b"\n"
    f = CountingReader(GOOD + long + GOOD)
    lines = list(history_lines(f, LIMIT))
    assert lines[0] == GOOD and lines[2] == GOOD
    assert len(lines[1]) < RAW_KEEP_BYTES + 200                  # a stand-in, not 5 MB
    rejected = parse_event(lines[1], max_line_bytes=LIMIT)
    assert isinstance(rejected, Rejected) and rejected.reason == "line_too_long"
    assert f"{len(long) - 1} bytes" in rejected.raw and f"starting at byte {len(GOOD)}" in rejected.raw
    assert f.biggest <= 1 << 20                                  # never more than 1 MiB read at once


def test_a_line_that_never_ends_is_read_in_bounded_pieces():
    f = CountingReader(GOOD + b"7" * 3_000_000)                 # no newline, ever
    lines = list(history_lines(f, LIMIT))
    assert lines[0] == GOOD and len(lines) == 2
    assert parse_event(lines[1], max_line_bytes=LIMIT).reason == "line_too_long"
    assert f.biggest <= 1 << 20


def test_the_limit_counts_the_line_without_its_newline():
    at_limit = b"1," + b"0" * (LIMIT - 2) + b"\n"                # LIMIT bytes, then the newline
    over = b"1," + b"0" * (LIMIT - 1) + b"\n"                    # one byte more
    lines = list(history_lines(io.BytesIO(at_limit + over + GOOD), LIMIT))
    assert lines[0] == at_limit and lines[2] == GOOD
    assert parse_event(lines[1], max_line_bytes=LIMIT).reason == "line_too_long"


def test_count_lines(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(GOOD * 5)
    assert count_lines(path) == 5
    path.write_bytes(GOOD * 5 + b"6,1,1,2024-05-01 08:15:00,1,10001")
    assert count_lines(path) == 6
    path.write_bytes(b"")
    assert count_lines(path) == 0
