"""The room check's lines (tools/check_room.py), in English and Korean, and its own names."""
from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path


from common.config import Settings
from exercises.checking import Text
from tools.check_room import (DASHBOARD, STAGE2, STAGE3, Check, format_line, pad, room_names, skipped,
                              verdict_line)

OK = Check(STAGE2, True, Text("300 plays searchable, in 35 s", "재생 300건 검색됨, 35초"))
BAD = Check(STAGE3, False, Text("the bounded run ended with exit code 1", "범위를 정한 실행이 exit code 1로 끝났습니다"),
            Text("read the end of .runtime/check-room/stage3.log", ".runtime/check-room/stage3.log의 끝부분을 읽으세요"))


def test_a_passing_line_starts_with_ok_and_names_the_check_in_each_language():
    assert format_line(OK, "en") == "ok    stage 2         300 plays searchable, in 35 s"
    assert format_line(OK, "ko") == "ok    2단계           재생 300건 검색됨, 35초"


def test_a_failing_line_says_what_to_do_in_each_language():
    assert format_line(BAD, "en") == ("FAIL  stage 3         the bounded run ended with exit code 1 "
                                      "-> what to do: read the end of .runtime/check-room/stage3.log")
    assert format_line(BAD, "ko") == ("FAIL  3단계           범위를 정한 실행이 exit code 1로 끝났습니다 "
                                      "-> 할 일: .runtime/check-room/stage3.log의 끝부분을 읽으세요")


def test_the_korean_label_is_padded_to_the_same_columns_as_the_english_one():
    assert pad("2단계", 15) == "2단계" + " " * 10 and pad("stage 2", 15) == "stage 2" + " " * 8


def test_every_line_is_one_line_and_its_mark_is_the_same_in_both_languages():
    for check in (OK, BAD, skipped(DASHBOARD)):
        for lang in ("en", "ko"):
            line = format_line(check, lang)
            assert "\n" not in line
            assert line.split()[0] == ("ok" if check.ok else "FAIL")
    assert "할 일" in format_line(skipped(DASHBOARD), "ko") and "대시보드" in format_line(skipped(DASHBOARD), "ko")


def test_the_verdict_counts_the_checks_and_names_the_failed_ones():
    assert verdict_line([OK, OK], 129.4, "en") == (
        "verdict: READY, all 2 checks passed in 129 s: every stage will run here")
    assert verdict_line([OK, OK], 129.4, "ko") == (
        "판정: 준비 완료, 점검 2개 모두 통과(129초): 이 컴퓨터에서 모든 단계가 돌아갑니다")
    en, ko = verdict_line([OK, BAD], 80, "en"), verdict_line([OK, BAD], 80, "ko")
    assert en.startswith("verdict: NOT READY, 1 of 2 checks failed (stage 3) in 80 s") and "make check-room" in en
    assert ko.startswith("판정: 준비 안 됨, 점검 2개 중 1개 실패(3단계, 80초)") and "make check-room" in ko


def test_its_names_are_its_own_for_every_index_key_and_the_topic():
    base = Settings()
    names = room_names("room_ab12cd", base)
    defaults = base.model_dump()
    indices = [f for f in defaults if f.startswith("index_")]
    keys = [f for f in defaults if f.startswith("redis_") and f not in ("redis_port", "redis_url", "redis_maxmemory")]
    assert set(names) == {"kafka_topic", *indices, *keys}
    assert all(re.fullmatch(r"room_ab12cd_[a-z0-9]+", names[f]) for f in indices)
    assert all(names[f] == f"room_ab12cd:{defaults[f]}" for f in keys)
    assert names["kafka_topic"] == "room_ab12cd"
    assert not set(names.values()) & {str(v) for v in defaults.values()}     # no learner's name reused


def test_a_run_past_its_timeout_is_stopped_with_the_parts_it_started(tmp_path):
    """A stage runner's parts run in sessions of their own: they are stopped too."""
    from tools.check_room import Room, run_bounded

    pid_file = tmp_path / "part.pid"
    script = ("import subprocess, sys, time\n"
              "part = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'], start_new_session=True)\n"
              f"open({str(pid_file)!r}, 'w').write(str(part.pid))\n"
              "time.sleep(600)\n")
    room = Room("room_test", tmp_path, tmp_path, Settings(), dict(os.environ))
    code, took = run_bounded([sys.executable, "-c", script], room, tmp_path / "run.log", timeout=3)
    assert code is None and took < 300       # stopped, long before it would have ended by itself
    part = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while Path(f"/proc/{part}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)          # killed; its zombie is reaped by init
    assert not Path(f"/proc/{part}").exists() or " Z " in Path(f"/proc/{part}/stat").read_text()


def test_it_stops_only_the_engines_it_started_and_only_when_asked(monkeypatch, tmp_path):
    """Redis was running before the check, Elasticsearch and Kafka were started by it."""
    import services
    import tools.check_room as room_check

    downed = []
    monkeypatch.setattr(services, "external", lambda s: False)
    monkeypatch.setattr(services, "our_pid", lambda s, name: 4242 if name == "redis" else None)
    monkeypatch.setattr(services, "up", lambda names: None)
    monkeypatch.setattr(services, "down", lambda names: downed.append(list(names)))
    monkeypatch.setattr(room_check, "ask_engine", lambda name, room: Text(f"{name} answers", f"{name} 답함"))
    for name, label in (("check_stage2", STAGE2), ("check_stage3", STAGE3)):
        monkeypatch.setattr(room_check, name, lambda room, label=label: Check(label, True, Text("fine", "좋음")))
    monkeypatch.setattr(room_check, "check_dashboard",
                        lambda room, plays: Check(DASHBOARD, True, Text(f"counts {plays}", f"{plays}건")))
    monkeypatch.setattr(room_check.Room, "clean_up", lambda self: None)
    monkeypatch.setattr(room_check, "get_settings", lambda: Settings(runtime_dir=tmp_path))

    lines = []
    checks = room_check.run_checks("en", stop_engines=False, emit=lines.append)
    assert [c.ok for c in checks] == [True] * 6 and downed == []
    assert lines[0].startswith("ok    Redis           redis answers") and "started in" not in lines[0]
    assert "as make services-up does" in lines[1] and lines[-1] == "ok    dashboard       counts 300"

    lines.clear()
    room_check.run_checks("ko", stop_engines=True, emit=lines.append)
    assert downed == [["elasticsearch", "kafka"]]
    assert lines[-1] == "이 점검이 시작한 엔진을 멈췄습니다: elasticsearch, kafka"
