"""Tail a growing file, like ``tail -F`` with a memory (Logstash's sincedb).

    from stage1.follower import FileFollower
    follower = FileFollower("00.stage1/tracks_live.csv", ".runtime/offsets/shipper.json")
    for line in follower.lines(stop=stop_event):
        handle(line.data)                 # bytes, without the newline
        follower.commit(line.position)    # only once the sink confirmed it

Guarantees:
* only complete lines (ending in a newline) are yielded; a half-written last
  line waits until its newline arrives;
* the position is persisted only by ``commit`` (atomically: write + rename), so
  a restart resumes after the last confirmed line: nothing lost, nothing repeated
  (what was yielded but not committed is yielded again);
* truncation (the file got shorter, same inode) -> start again at byte 0;
* rotation (the path now names another inode) -> finish the old file first,
  then read the new one from byte 0. After a restart the old file is found
  again by its inode among its siblings (``tracks_live.csv.1`` ...) when it
  still exists;
* a line longer than ``max_line_bytes`` (default: the setting) is never held
  whole: its first bytes are kept, the rest is skipped up to its newline, and
  the Line yielded for it carries ``common.events.too_long_line`` (its start, its
  length, its first bytes), which the parser rejects as ``line_too_long``. A line
  that never ends costs no more memory than a long one.

A position is (inode, byte offset); file identity is the inode, as in Logstash.
"""
from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

from common.events import RAW_KEEP_BYTES, too_long_line

READ_CHUNK = 1 << 16


@dataclass(frozen=True)
class Position:
    inode: int
    offset: int   # byte just after the line's newline


@dataclass(frozen=True)
class Line:
    data: bytes          # without the trailing newline
    offset: int          # where the line starts in its file
    position: Position   # commit this once the line is safely stored


@dataclass
class _LongLine:
    """What is kept of a line being skipped because it is too long."""
    head: bytes          # its first bytes, for the dead letter
    length: int = 0      # bytes read so far


class FileFollower:
    def __init__(self, path: str | Path, offset_file: str | Path, poll_interval: float = 0.1,
                 max_line_bytes: int | None = None):
        from common.config import get_settings

        self.path = Path(path)
        self.offset_file = Path(offset_file)
        self.poll_interval = poll_interval
        self.max_line_bytes = max_line_bytes or get_settings().max_line_bytes

    # --- the persisted position ---------------------------------------------
    def committed(self) -> Position | None:
        try:
            state = json.loads(self.offset_file.read_text())
            return Position(int(state["inode"]), int(state["offset"]))
        except (FileNotFoundError, ValueError, KeyError):
            return None

    def commit(self, position: Position) -> None:
        self.offset_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.offset_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"path": str(self.path), "inode": position.inode,
                                   "offset": position.offset}))
        os.replace(tmp, self.offset_file)   # atomic: a crash leaves the old or the new

    def start_at_end_if_new(self) -> bool:
        """A follower that never committed starts at the end of the file's last
        complete line, like Logstash's ``start_position => "end"``: lines written
        before it existed belong to someone else. Returns True when it did so."""
        if self.committed() is not None or not self.path.exists():
            return False
        with open(self.path, "rb") as f:
            inode, end = os.fstat(f.fileno()).st_ino, f.seek(0, os.SEEK_END)
            while end > 0:                       # back up to just after the last newline
                start = max(end - READ_CHUNK, 0)
                f.seek(start)
                newline = f.read(end - start).rfind(b"\n")
                if newline >= 0:
                    end = start + newline + 1
                    break
                end = start
        self.commit(Position(inode, end))
        return True

    def backlog_lines(self) -> int:
        """Complete lines in the file after the committed position (what a restart ships first)."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return 0
        saved = self.committed()
        start = saved.offset if saved and saved.inode == st.st_ino and saved.offset <= st.st_size else 0
        with open(self.path, "rb") as f:
            f.seek(start)
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(READ_CHUNK), b""))

    # --- reading -----------------------------------------------------------------
    def _rotated_file(self, inode: int) -> Path | None:
        """A sibling of the followed file (path.1, path.old ...) that still has ``inode``."""
        for candidate in self.path.parent.glob(self.path.name + "*"):
            try:
                if candidate != self.path and candidate.stat().st_ino == inode:
                    return candidate
            except FileNotFoundError:
                continue
        return None

    def _open_start(self) -> tuple[BinaryIO | None, int]:
        """Open where the committed position says; returns (file, offset)."""
        saved = self.committed()
        if saved is not None:
            try:
                st = self.path.stat()
            except FileNotFoundError:
                st = None
            if st is not None and st.st_ino == saved.inode:
                # same file: resume, unless it was truncated below our offset
                f = open(self.path, "rb")
                offset = saved.offset if saved.offset <= st.st_size else 0
                f.seek(offset)
                return f, offset
            old = self._rotated_file(saved.inode)
            if old is not None:   # rotated while we were down: finish the old file first
                f = open(old, "rb")
                f.seek(min(saved.offset, os.fstat(f.fileno()).st_size))
                return f, f.tell()
        if self.path.exists():
            return open(self.path, "rb"), 0
        return None, 0

    def lines(self, stop: threading.Event | None = None, idle_timeout: float | None = None,
              idle_ticks: bool = False) -> Iterator[Line | None]:
        """Yield complete lines forever (until ``stop`` is set, or nothing new
        arrived for ``idle_timeout`` seconds). With ``idle_ticks`` it also yields
        ``None`` each time it waits for data, so a caller can flush a batch."""
        stop = stop or threading.Event()
        f, offset = self._open_start()
        pending = b""            # bytes after the last newline: a line still being written
        long: _LongLine | None = None   # set while skipping a line over max_line_bytes
        last_data = time.monotonic()
        try:
            while not stop.is_set():
                if f is None:
                    if self.path.exists():
                        f, offset, pending, long = open(self.path, "rb"), 0, b"", None
                        continue
                else:
                    chunk = f.read(READ_CHUNK)
                    if chunk:
                        last_data = time.monotonic()
                        pending += chunk
                        inode = os.fstat(f.fileno()).st_ino
                        *complete, pending = pending.split(b"\n")
                        for data in complete:
                            length = len(data) + (long.length if long else 0)
                            end = offset + length + 1
                            if long is not None:          # the end of the line being skipped
                                data, long = too_long_line(long.head, length, offset), None
                            elif length > self.max_line_bytes:
                                data = too_long_line(data[:RAW_KEEP_BYTES], length, offset)
                            else:
                                data = data.rstrip(b"\r")
                            yield Line(data, offset, Position(inode, end))
                            offset = end
                        if long is None and len(pending) > self.max_line_bytes:
                            long = _LongLine(pending[:RAW_KEEP_BYTES])
                        if long is not None:      # keep nothing of it but its head and length
                            long.length += len(pending)
                            pending = b""
                        continue
                    # at the end of the open file: was it truncated or replaced?
                    try:
                        st = self.path.stat()
                    except FileNotFoundError:
                        st = None
                    inode = os.fstat(f.fileno()).st_ino
                    if st is not None and st.st_ino == inode and st.st_size < offset + len(pending) + (
                            long.length if long else 0):
                        f.seek(0)                      # truncated: start over
                        offset, pending, long = 0, b"", None
                        continue
                    if st is not None and st.st_ino != inode:
                        # rotated: the old file is finished, its unterminated tail is
                        # a line too (the parser rejects it if it is really cut short)
                        if long is not None:
                            end = offset + long.length
                            yield Line(too_long_line(long.head, long.length, offset), offset,
                                       Position(inode, end))
                        elif pending:
                            end = offset + len(pending)
                            yield Line(pending.rstrip(b"\r"), offset, Position(inode, end))
                        f.close()
                        f, offset, pending, long = open(self.path, "rb"), 0, b"", None
                        continue
                if idle_timeout is not None and time.monotonic() - last_data > idle_timeout:
                    return
                if idle_ticks:
                    yield None
                stop.wait(self.poll_interval)
        finally:
            if f is not None:
                f.close()
