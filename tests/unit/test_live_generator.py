"""The live generator's replay: every play gets a new id, across runs; no engines."""
from __future__ import annotations

import threading

from common.bounded import Bounds
from common.config import Settings
from stage1.live_generator import as_new_play, load_position, next_event_id, position_file, replay

SOURCE = ["7,1,10,2024-01-01 00:00:00,1,10001",
          "not a play",
          "9,2,11,2024-01-01 00:00:01,0,00601",
          "x3,2,11,2024-01-01 00:00:01,0,00601"]   # an id that is not a number: replayed unchanged


def _setup(tmp_path):
    source = tmp_path / "tracks.csv"
    source.write_text("\n".join(SOURCE) + "\n")
    return Settings(runtime_dir=tmp_path / "runtime"), source, tmp_path / "live.csv"


def _ids(live) -> list[int]:
    return [int(line.split(",")[0]) for line in live.read_text().splitlines()
            if line.split(",")[0].isdigit()]


def test_runs_continue_the_ids_and_the_source_position(tmp_path):
    s, source, live = _setup(tmp_path)
    assert next_event_id(s, source, live) == 10            # after the source's largest id (9)
    assert replay(s, source, live, Bounds(max_events=3), threading.Event()) == 3
    assert replay(s, source, live, Bounds(max_events=2), threading.Event()) == 2
    assert _ids(live) == [10, 11, 12, 13, 14]
    lines = live.read_text().splitlines()
    # the source is replayed in order, round and round: customers 1, 2, 1, 2, 1
    assert [line.split(",")[1] for line in lines if line.split(",")[0].isdigit()] == ["1", "2", "1", "2", "1"]
    # lines that are not plays are replayed unchanged and not counted
    assert lines.count("not a play") == 2 and lines.count(SOURCE[3]) == 2
    assert next_event_id(s, source, live) == 15


def test_a_play_keeps_customer_track_device_and_zip_with_a_new_id_and_time(tmp_path):
    from datetime import datetime

    now = datetime(2026, 11, 28, 12, 0, 5)
    assert as_new_play(SOURCE[2], 42, now) == "42,2,11,2026-11-28 12:00:05,0,00601"
    assert as_new_play(SOURCE[1], 42, now) is None and as_new_play(SOURCE[3], 42, now) is None


def test_the_position_is_saved_before_the_lines_are_written(tmp_path):
    """A crash between the two skips ids; it never hands one out twice."""
    s, source, live = _setup(tmp_path)
    replay(s, source, live, Bounds(max_events=2), threading.Event())
    saved = load_position(s, source, live)
    live.write_text("")            # as if the last write never reached the disk
    replay(s, source, live, Bounds(max_events=1), threading.Event())
    assert _ids(live) == [saved.next_event_id]


def test_each_live_file_has_its_own_sequence_and_a_new_source_keeps_ids_growing(tmp_path):
    s, source, live = _setup(tmp_path)
    replay(s, source, live, Bounds(max_events=4), threading.Event())
    other = tmp_path / "other.csv"
    other.write_text("3,5,6,2024-01-01 00:00:00,1,10001\n")
    assert next_event_id(s, other, live) == 14              # never below the ids already handed out
    assert next_event_id(s, source, tmp_path / "another_live.csv") == 10
    assert position_file(s, live) != position_file(s, tmp_path / "another_live.csv")
