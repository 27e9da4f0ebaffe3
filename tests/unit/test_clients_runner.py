"""common.clients says which engine is missing and how to start it;
common.runner runs a stage's processes together and stops them cleanly."""
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from common.clients import EngineUnavailable, ensure_topic, es_client, kafka_producer, redis_client
from common.config import Settings
from common.runner import Child, StageRunner

PY = sys.executable


def test_unreachable_engines_name_the_url_and_the_fix():
    with pytest.raises(EngineUnavailable, match=r"http://127\.0\.0\.1:1 .*make services-up"):
        es_client(Settings(es_url="http://127.0.0.1:1"))
    with pytest.raises(EngineUnavailable, match=r"redis://127\.0\.0\.1:1/0 .*make services-up"):
        redis_client(Settings(redis_url="redis://127.0.0.1:1/0"))
    nowhere = Settings(kafka_bootstrap_servers="127.0.0.1:1")
    with pytest.raises(EngineUnavailable, match=r"Kafka is not reachable at 127\.0\.0\.1:1 .*make services-up"):
        kafka_producer(nowhere)
    with pytest.raises(EngineUnavailable, match=r"Kafka is not reachable at 127\.0\.0\.1:1 "):
        ensure_topic("anything", settings=nowhere)


def test_runner_returns_when_the_awaited_children_are_done_and_stops_the_rest(capfd):
    runner = StageRunner([Child("quick", [PY, "-c", "print('done')"]),
                          Child("forever", [PY, "-c", "import time; time.sleep(60)"])], grace=2)
    started = time.monotonic()
    assert runner.run(until=["quick"]) == 0
    assert time.monotonic() - started < 10
    assert runner.children[1].process.poll() is not None      # stopped, not left behind
    assert "[quick  ] done" in capfd.readouterr().out


def test_a_failing_child_stops_the_stage_with_its_code():
    runner = StageRunner([Child("bad", [PY, "-c", "import sys; sys.exit(3)"]),
                          Child("forever", [PY, "-c", "import time; time.sleep(60)"])], grace=2)
    assert runner.run() == 3
    assert runner.children[1].process.poll() is not None


def test_ctrl_c_is_forwarded_once_so_children_print_their_summary(tmp_path):
    child = textwrap.dedent("""
        import signal, time, sys
        stop = []
        signal.signal(signal.SIGINT, lambda *_: stop.append(1))
        print("ready", flush=True)
        while not stop: time.sleep(0.05)
        time.sleep(0.2)
        print(f"summary after {len(stop)} SIGINT", flush=True)
    """)
    stage = textwrap.dedent(f"""
        import sys
        from common.runner import Child, StageRunner
        sys.exit(StageRunner([Child("a", [sys.executable, "-c", {child!r}]),
                              Child("b", [sys.executable, "-c", {child!r}])], grace=5).run())
    """)
    proc = subprocess.Popen([PY, "-c", stage], stdout=subprocess.PIPE, text=True)
    lines = [proc.stdout.readline(), proc.stdout.readline()]
    assert all("ready" in line for line in lines)
    proc.send_signal(signal.SIGINT)
    out = proc.communicate(timeout=20)[0]
    assert proc.returncode == 130
    assert out.count("summary after 1 SIGINT") == 2
