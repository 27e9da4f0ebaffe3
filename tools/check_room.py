"""``make check-room``: will every stage work on this machine? One line per check, in about 3 minutes.

    python -m tools.check_room                   English (the default)
    WORKSHOP_LANG=ko python -m tools.check_room  Korean (so does a Korean LANG, as for the checkers)
    python -m tools.check_room --stop-engines    also stop the engines this check started

What it checks, in order (docs/instructor.md, "The room check"):

1. each engine (Redis, Elasticsearch, Kafka): started as ``make services-up`` starts it (already
   running ones are left as they are), then asked a real question (PING; cluster health; a topic
   created and its offsets read);
2. stage 2: ``python -m stage2.run_stage2 --max-events 300`` (``make stage2 MAX_EVENTS=300``) on
   the committed sample (data/sample): generator -> shipper -> Kafka -> Spark streaming job ->
   Elasticsearch + Redis; all 300 plays must be searchable;
3. stage 3: ``python -m stage3.run_stage3 --max-events 300``: customers imported, one training
   round that must pass the gate and publish ad targets, the streaming job with targeting, the
   SMS sender; all 300 plays indexed and at least one SMS offer delivered;
4. the dashboard: ``node 03.stage4/server.js`` started for a few seconds; its page and
   ``/api/snapshot`` must answer, the snapshot counting stage 3's plays; then it is stopped.

Nothing a learner made is touched: every index, Kafka topic and Redis key has a name of its own
(``room_<random>...``), the runs keep their checkpoints, offsets, generator position, models
and SMS outbox in a folder of their own, and all of it is deleted at the end. The runs' output
is kept in ``.runtime/check-room/`` (one log per run) for the FAIL lines to point at. The
engines keep running afterwards, as after ``make services-up``; ``--stop-engines`` stops the
ones this check started, and never one it found running. Exit code 0 only when every check passes.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import unicodedata
import urllib.request
import uuid
from contextlib import redirect_stdout
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

from common.config import REPO_ROOT, Settings, get_settings
from exercises.check import default_lang
from exercises.checking import Text

PY = sys.executable
PLAYS = 300                               # plays in each bounded run
SAMPLE = REPO_ROOT / "data" / "sample"    # committed: no `make data` needed
ENGINE_NAMES = ("redis", "elasticsearch", "kafka")
STAGE2_TIMEOUT = 180.0                    # seconds; measured here: about 60 s on 2 busy cores
STAGE3_TIMEOUT = 240.0                    # about 95 s here (a training round, then the run)
DASHBOARD_TIMEOUT = 30.0


# --- one line per check ---------------------------------------------------------------------
@dataclass(frozen=True)
class Check:
    label: Text                   # "stage 2" / "2단계"
    ok: bool
    detail: Text                  # what was seen
    fix: Text | None = None       # what to do, when it failed


MARK = {True: "ok", False: "FAIL"}
TODO = Text("what to do", "할 일")


def pad(text: str, width: int) -> str:
    """``text`` padded to ``width`` terminal columns (a Hangul syllable takes two)."""
    return text + " " * max(0, width - sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text))


def format_line(check: Check, lang: str) -> str:
    """``ok    stage 2         300 plays searchable ...`` or ``FAIL  ... -> what to do: ...``."""
    line = f"{MARK[check.ok]:<6}{pad(check.label(lang), 15)} {check.detail(lang)}"
    if not check.ok and check.fix is not None:
        line += f" -> {TODO(lang)}: {check.fix(lang)}"
    return line


def verdict_line(checks: list[Check], seconds: float, lang: str) -> str:
    failed = [c for c in checks if not c.ok]
    took = f"{seconds:.0f} s" if lang == "en" else f"{seconds:.0f}초"
    if not failed:
        return Text(f"verdict: READY, all {len(checks)} checks passed in {took}: every stage will run here",
                    f"판정: 준비 완료, 점검 {len(checks)}개 모두 통과({took}): 이 컴퓨터에서 모든 단계가 돌아갑니다")(lang)
    names = ", ".join(c.label(lang) for c in failed)
    return Text(f"verdict: NOT READY, {len(failed)} of {len(checks)} checks failed ({names}) in {took}: "
                "do what the FAIL lines say, then run make check-room again",
                f"판정: 준비 안 됨, 점검 {len(checks)}개 중 {len(failed)}개 실패({names}, {took}): "
                "FAIL 줄의 할 일을 하고 make check-room을 다시 실행하세요")(lang)


# --- names of its own -----------------------------------------------------------------------
NOT_NAMES = {"redis_port", "redis_url", "redis_maxmemory"}


def room_names(prefix: str, base: Settings) -> dict[str, str]:
    """Every index, Redis key and the Kafka topic under ``prefix`` (settings field -> value):
    ``index_stage2`` -> ``room_ab12cd_stage2``, ``redis_offers_stream`` -> ``room_ab12cd:sms:offers``."""
    names = {"kafka_topic": prefix}
    for field, value in base.model_dump().items():
        if field.startswith("index_"):
            names[field] = f"{prefix}_{field.removeprefix('index_')}"
        elif field.startswith("redis_") and field not in NOT_NAMES:
            names[field] = f"{prefix}:{value}"
    return names


@dataclass
class Room:
    """One room check's names, folders and settings."""
    prefix: str
    work: Path                    # the runs' RUNTIME_DIR (checkpoints, offsets, models, outbox)
    logs: Path                    # kept after the check
    settings: Settings
    env: dict[str, str]

    @classmethod
    def create(cls, base: Settings) -> "Room":
        prefix = f"room_{uuid.uuid4().hex[:6]}"
        logs = base.runtime_dir / "check-room"
        work = logs / prefix
        values = {**room_names(prefix, base), "data_dir": str(SAMPLE), "runtime_dir": str(work),
                  "live_file": str(work / "tracks_live.csv"), "trigger_interval": "1 second"}
        work.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **{k.upper(): v for k, v in values.items()}, "PYTHONUNBUFFERED": "1"}
        return cls(prefix, work, logs, Settings(**values), env)

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def clean_up(self) -> None:
        """Delete this check's indices (and their templates), Redis keys, topic and folder."""
        from common.clients import delete_topics, es_client, redis_client

        s = self.settings
        try:
            es = es_client(s, check=False)
            es.options(ignore_status=404).indices.delete(index=f"{self.prefix}_*")
            templates = es.options(ignore_status=404).indices.get_index_template(name=f"{self.prefix}_*")
            for t in templates.get("index_templates", []):
                es.options(ignore_status=404).indices.delete_index_template(name=t["name"])
        except Exception:          # an engine that is down has nothing of ours to delete
            pass
        try:
            r = redis_client(s, check=False)
            for batch in _batches(r.scan_iter(f"{self.prefix}:*", count=1000), 500):
                r.delete(*batch)
        except Exception:
            pass
        try:
            delete_topics([s.kafka_topic], s)
        except Exception:
            pass
        shutil.rmtree(self.work, ignore_errors=True)


def _batches(items, size):
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


# --- the engines ----------------------------------------------------------------------------
LABELS = {"redis": Text("Redis", "Redis"), "elasticsearch": Text("Elasticsearch", "Elasticsearch"),
          "kafka": Text("Kafka", "Kafka")}


def ask_engine(name: str, room: Room) -> Text:
    """Ask the engine a real question; raises when it does not answer."""
    from common.clients import ensure_topic, es_client, redis_client, topic_end_offsets

    s = room.settings
    if name == "redis":
        redis_client(s).ping()
        return Text(f"PING answered at {s.redis_url}", f"{s.redis_url}에서 PING에 답합니다")
    if name == "elasticsearch":
        health = es_client(s).cluster.health()["status"]
        if health == "red":
            raise RuntimeError("cluster health is red")
        return Text(f"cluster health {health} at {s.es_url}", f"{s.es_url}에서 cluster health {health}")
    ensure_topic(s.kafka_topic, settings=s)
    parts = len(topic_end_offsets(s.kafka_topic, s))
    return Text(f"topic {s.kafka_topic} created ({parts} partitions) at {s.kafka_bootstrap_servers}",
                f"{s.kafka_bootstrap_servers}에서 topic {s.kafka_topic} 생성(partition {parts}개)")


ENGINE_FIX = Text("the message before the arrow names the cause and the fix; make doctor names what this "
                  "machine lacks, make logs shows the engine's log",
                  "화살표 앞의 메시지가 원인과 해결법을 알려 줍니다. make doctor가 이 컴퓨터에 없는 것을, "
                  "make logs가 엔진 로그를 보여 줍니다")


def check_engine(name: str, room: Room, started: list[str]) -> Check:
    import services

    s = get_settings()
    before = services.external(s) or services.our_pid(s, name) is not None
    out = StringIO()
    t0 = time.monotonic()
    try:
        with redirect_stdout(out):            # the service manager's progress lines: only on failure
            services.up([name])
        if not before:
            started.append(name)
        answer = ask_engine(name, room)
    except Exception as exc:                  # ServiceError (cause and fix) or a client error
        message = " ".join(str(exc).split())[:300]
        return Check(LABELS[name], False, Text(message, message), ENGINE_FIX)
    took = time.monotonic() - t0
    how = (Text("", "") if before else
           Text(f" (started in {took:.0f} s, as make services-up does)",
                f" ({took:.0f}초 만에 시작, make services-up과 같은 방법)"))
    return Check(LABELS[name], True, Text(answer.en + how.en, answer.ko + how.ko))


# --- the bounded runs -----------------------------------------------------------------------
def run_bounded(cmd: list[str], room: Room, log: Path, timeout: float) -> tuple[int | None, float]:
    """Run ``cmd`` (its own process group, output to ``log``); (exit code or None on timeout, seconds).
    On timeout it gets Ctrl-C, then what is left of its processes SIGKILL (stop_tree)."""
    t0 = time.monotonic()
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=room.env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
            stop_tree(proc, grace=45)
        except BaseException:                 # Ctrl-C of the check itself: stop the run first
            stop_tree(proc, grace=45)
            raise
    return code, time.monotonic() - t0


def stop_tree(proc: subprocess.Popen, grace: float) -> None:
    """Ctrl-C to the run (its stage runner stops its parts in turn), then SIGKILL to whatever
    is left of the processes it started: only those, found by parent pid (Linux)."""
    from tools.memwatch import tree_pids

    tree = tree_pids([proc.pid])              # the parts run in sessions of their own
    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=grace)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        tree |= tree_pids([proc.pid])
    for pid in tree | tree_pids(tree):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


def indexed(room: Room, index: str) -> int:
    from common.clients import es_client

    es = es_client(room.settings)
    if not es.indices.exists(index=index):
        return 0
    es.indices.refresh(index=index)
    return es.count(index=index)["count"]


def rel(path: Path) -> str:
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def failed_run(label: Text, code: int | None, seconds: float, timeout: float, log: Path, fix: Text) -> Check:
    if code is None:
        detail = Text(f"the bounded run did not finish within {timeout:.0f} s (log: {rel(log)})",
                      f"범위를 정한 실행이 {timeout:.0f}초 안에 끝나지 않았습니다(로그: {rel(log)})")
        fix = Text("the machine is too slow or too busy: close other programs (make doctor shows the free "
                   "memory), then try again", "컴퓨터가 너무 느리거나 바쁩니다. 다른 프로그램을 닫고(make doctor가 "
                   "남은 메모리를 보여 줍니다) 다시 실행하세요")
    else:
        detail = Text(f"the bounded run ended with exit code {code} after {seconds:.0f} s (log: {rel(log)})",
                      f"범위를 정한 실행이 {seconds:.0f}초 뒤 exit code {code}로 끝났습니다(로그: {rel(log)})")
    return Check(label, False, detail, fix)


STAGE2 = Text("stage 2", "2단계")
STAGE3 = Text("stage 3", "3단계")
DASHBOARD = Text("dashboard", "대시보드")


def skipped(label: Text) -> Check:
    """A check not run because an engine failed (a run would only wait for it until its timeout)."""
    return Check(label, False, Text("not run: an engine above failed", "실행 안 함: 위의 엔진 점검이 실패했습니다"),
                 Text("fix the engine lines first", "엔진 줄부터 고치세요"))


def check_stage2(room: Room) -> Check:
    log = room.log("stage2")
    cmd = [PY, "-m", "stage2.run_stage2", "--max-events", str(PLAYS), "--rate", str(PLAYS),
           "--source", str(SAMPLE / "tracks.csv")]
    code, took = run_bounded(cmd, room, log, STAGE2_TIMEOUT)
    fix = Text(f"read the end of {rel(log)}; README.md's Troubleshooting names the usual causes (the JDK, "
               "the Kafka connector, memory); make stage2 MAX_EVENTS=300 shows the same run on screen",
               f"{rel(log)}의 끝부분을 읽으세요. README.ko.md의 문제 해결 절에 흔한 원인(JDK, Kafka connector, "
               "메모리)이 있습니다. make stage2 MAX_EVENTS=300으로 같은 실행을 화면에서 볼 수 있습니다")
    if code != 0:
        return failed_run(STAGE2, code, took, STAGE2_TIMEOUT, log, fix)
    n = indexed(room, room.settings.index_stage2)
    if n != PLAYS:
        return Check(STAGE2, False, Text(f"{n} of {PLAYS} plays in the index after the run (log: {rel(log)})",
                                         f"실행 뒤 index에 재생 {PLAYS}건 중 {n}건만 있습니다(로그: {rel(log)})"), fix)
    return Check(STAGE2, True, Text(f"bounded run (make stage2 MAX_EVENTS={PLAYS}): {n} plays through Kafka "
                                    f"and Spark, searchable, in {took:.0f} s",
                                    f"범위를 정한 실행(make stage2 MAX_EVENTS={PLAYS}): 재생 {n}건이 Kafka와 "
                                    f"Spark를 거쳐 검색됨, {took:.0f}초"))


def check_stage3(room: Room) -> Check:
    from common.clients import redis_client

    log = room.log("stage3")
    cmd = [PY, "-m", "stage3.run_stage3", "--max-events", str(PLAYS), "--rate", str(PLAYS),
           "--source", str(SAMPLE / "tracks.csv")]
    code, took = run_bounded(cmd, room, log, STAGE3_TIMEOUT)
    fix = Text(f"read the end of {rel(log)}: a training round that was refused or a Spark error is named "
               "there; make stage3 MAX_EVENTS=300 shows the same run on screen",
               f"{rel(log)}의 끝부분을 읽으세요. 통과하지 못한 라운드나 Spark 오류가 거기 나옵니다. "
               "make stage3 MAX_EVENTS=300으로 같은 실행을 화면에서 볼 수 있습니다")
    if code != 0:
        return failed_run(STAGE3, code, took, STAGE3_TIMEOUT, log, fix)
    s = room.settings
    r = redis_client(s)
    model = r.hgetall(s.redis_model_status)
    targets = r.scard(s.redis_targets_set)
    sent = int(r.get(s.redis_sms_sent_counter) or 0)
    n = indexed(room, s.index_stage3)
    if model.get("last_verdict") != "passed" or not targets:
        reason = model.get("last_reason", "no training round finished")
        return Check(STAGE3, False, Text(f"the model was not promoted ({reason}; log: {rel(log)})",
                                         f"모델이 승격되지 않았습니다({reason}, 로그: {rel(log)})"), fix)
    if n != PLAYS or sent == 0:
        return Check(STAGE3, False, Text(f"{n} of {PLAYS} plays indexed, {sent} SMS offers delivered "
                                         f"(log: {rel(log)})",
                                         f"재생 {PLAYS}건 중 {n}건 index에 저장, SMS 제안 {sent}건 발송"
                                         f"(로그: {rel(log)})"), fix)
    error = float(model.get("current_error") or 0)
    return Check(STAGE3, True, Text(f"bounded run (make stage3 MAX_EVENTS={PLAYS}): model trained and promoted "
                                    f"(test error {error:.3f}, {targets} ad targets), {n} plays indexed, "
                                    f"{sent} SMS offers delivered, in {took:.0f} s",
                                    f"범위를 정한 실행(make stage3 MAX_EVENTS={PLAYS}): 모델 학습·승격(테스트 "
                                    f"오류율 {error:.3f}, 광고 대상 {targets}명), 재생 {n}건 index에 저장, "
                                    f"SMS 제안 {sent}건 발송, {took:.0f}초"))


# --- the dashboard --------------------------------------------------------------------------
def free_port(host: str, wanted: int) -> int:
    """``wanted`` when nothing listens there, else a free port the system picks."""
    from services.system import port_open

    if not port_open(host, wanted):
        return wanted
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def get(url: str, timeout: float = 5) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return resp.status, resp.read()


def check_dashboard(room: Room, stage3_plays: int | None) -> Check:
    from stage4.run_stage4 import check_node, dashboard_env

    log = room.log("dashboard")
    fix = Text(f"read {rel(log)}; make setup installs Node.js's packages, make doctor checks Node.js 20+",
               f"{rel(log)}을(를) 읽으세요. make setup이 Node.js 패키지를 설치하고 make doctor가 Node.js 20 이상인지 "
               "봅니다")
    try:
        with redirect_stdout(StringIO()):
            node = check_node()
    except SystemExit as exc:                 # Node.js missing or too old: its message says so
        return Check(DASHBOARD, False, Text(str(exc.code), str(exc.code)), fix)
    s = room.settings
    port = free_port(s.bind_host, s.dashboard_port)
    url = f"http://{s.bind_host}:{port}"
    t0 = time.monotonic()
    with open(log, "w") as out:
        server = subprocess.Popen([node, str(REPO_ROOT / "03.stage4" / "server.js")], cwd=REPO_ROOT,
                                  env={**room.env, **dashboard_env(s, port)}, stdout=out,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            page, snapshot, problem = None, None, None
            deadline = t0 + DASHBOARD_TIMEOUT
            while time.monotonic() < deadline and server.poll() is None:
                try:
                    if page is None:
                        status, body = get(url + "/")
                        page = body if status == 200 and b"<html" in body.lower() else None
                    status, body = get(url + "/api/snapshot")
                    snap = json.loads(body)
                    if all((snap.get("status") or {}).get(k) == "up" for k in ("elasticsearch", "redis")):
                        snapshot = snap
                        if page is not None and (stage3_plays is None
                                                 or (snap.get("totals") or {}).get("events") == stage3_plays):
                            break
                except (OSError, ValueError) as exc:
                    problem = str(exc)
                time.sleep(0.5)
        finally:
            if server.poll() is None:
                server.send_signal(signal.SIGINT)          # server.js closes its connections, exits 0
                try:
                    server.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
    took = time.monotonic() - t0
    if page is None or snapshot is None:
        seen = "the page" if page is None else "a snapshot with Elasticsearch and Redis up"
        seen_ko = "페이지" if page is None else "Elasticsearch와 Redis가 up인 snapshot"
        why = f"exited with code {server.returncode}" if server.returncode not in (0, -signal.SIGINT, None) \
            and took < DASHBOARD_TIMEOUT else f"no answer within {DASHBOARD_TIMEOUT:.0f} s"
        return Check(DASHBOARD, False, Text(f"{url}: {seen} did not come ({why}{'; ' + problem if problem else ''})",
                                            f"{url}: {seen_ko}이(가) 오지 않았습니다({why})"), fix)
    events = (snapshot.get("totals") or {}).get("events")
    if stage3_plays is not None and events != stage3_plays:
        return Check(DASHBOARD, False, Text(f"{url}: the snapshot counts {events} plays, stage 3 indexed {stage3_plays}",
                                            f"{url}: snapshot의 재생은 {events}건인데 3단계가 저장한 것은 "
                                            f"{stage3_plays}건입니다"), fix)
    counted = Text(f", counting stage 3's {events} plays", f", 3단계의 재생 {events}건을 셈") \
        if stage3_plays is not None else Text("", "")
    note = Text("", "") if port == s.dashboard_port else Text(
        f" (port {s.dashboard_port} is taken, by your dashboard perhaps: make stage4 needs it free)",
        f" (port {s.dashboard_port}은(는) 사용 중입니다. 실행 중인 대시보드일 수 있습니다. make stage4에는 "
        "비어 있어야 합니다)")
    return Check(DASHBOARD, True, Text(f"{url}: page and /api/snapshot answered{counted.en}, stopped after "
                                       f"{took:.0f} s{note.en}",
                                       f"{url}: 페이지와 /api/snapshot이 답함{counted.ko}, {took:.0f}초 뒤 "
                                       f"멈춤{note.ko}"))


# --- the whole check ------------------------------------------------------------------------
def run_checks(lang: str, stop_engines: bool = False, emit=print) -> list[Check]:
    base = get_settings()
    room = Room.create(base)
    checks: list[Check] = []
    started: list[str] = []

    def add(check: Check) -> Check:
        checks.append(check)
        emit(format_line(check, lang))
        return check

    try:
        engines_ok = all([add(check_engine(name, room, started)).ok for name in ENGINE_NAMES])
        if not engines_ok:
            for label in (STAGE2, STAGE3, DASHBOARD):
                add(skipped(label))
            return checks
        add(check_stage2(room))
        stage3 = add(check_stage3(room))
        add(check_dashboard(room, PLAYS if stage3.ok else None))
        return checks
    finally:
        room.clean_up()
        if stop_engines and started:
            import services

            with redirect_stdout(StringIO()):
                services.down(started)
            emit(Text(f"stopped the engines this check started: {', '.join(started)}",
                      f"이 점검이 시작한 엔진을 멈췄습니다: {', '.join(started)}")(lang))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lang", choices=("en", "ko"), default=default_lang())
    p.add_argument("--stop-engines", action="store_true",
                   help="afterwards, stop the engines this check started (never ones it found running)")
    args = p.parse_args(argv)
    lang = args.lang
    print(Text(f"room check: the engines, a bounded stage 2 run and a bounded stage 3 run ({PLAYS} plays "
               "each, names of their own) and the dashboard; about 3 minutes",
               f"강의실 점검: 엔진, 2단계와 3단계의 범위를 정한 실행(각각 재생 {PLAYS}건, 전용 이름), "
               "대시보드. 3분쯤 걸립니다")(lang), flush=True)
    t0 = time.monotonic()
    try:
        checks = run_checks(lang, args.stop_engines, emit=lambda line: print(line, flush=True))
    except KeyboardInterrupt:                 # the runs are stopped and its names deleted by now
        print(Text("room check: interrupted; what it created is deleted",
                   "강의실 점검: 중단했습니다. 점검이 만든 것은 지웠습니다")(lang), flush=True)
        return 130
    print(verdict_line(checks, time.monotonic() - t0, lang), flush=True)
    return 0 if all(c.ok for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
