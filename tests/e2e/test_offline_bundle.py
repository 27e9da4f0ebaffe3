"""The offline bundle, for real: build it, set up a fresh checkout from it with
every package index out of reach, and run a bounded stage 1 there.

    make bundle BUNDLE=<tmp>/workshop-bundle.tar.gz          (in this checkout, online)
    git clone <this repository's HEAD> <tmp>/repo
    make offline-setup BUNDLE=<tmp>/workshop-bundle.tar.gz   (in the clone, offline)
    make stage1 MAX_EVENTS=500 RATE=500                      (in the clone, offline)
    make services-down                                       (in the clone)

"Offline" for the clone: PIP_INDEX_URL and npm's registry point at
http://127.0.0.1:9/ (nothing listens there), HOME is an empty folder (no pip,
npm or Maven cache, no ~/.m2/settings.xml), and ``mvn`` and ``apt-get`` on its
PATH are stand-ins that record the call and fail: the test fails if either was
called. The clone has its own .runtime/ (engines, data) and its own free ports,
so it never touches the engines of the main test run. Prints the bundle's size,
the time to build it and the time of the offline set-up.

WORKSHOP_BUNDLE=/path/to/workshop-bundle.tar.gz reuses a bundle built before.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from common.config import REPO_ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

UNREACHABLE = "http://127.0.0.1:9/"


def free_ports(n: int) -> list[int]:
    """n distinct ports nothing listens on now (the OS picks them)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@pytest.fixture(scope="session")
def bundle(tmp_path_factory):
    """The bundle, built once per test session by `make bundle` in this checkout."""
    given = os.environ.get("WORKSHOP_BUNDLE")
    if given and Path(given).is_file():
        yield Path(given)
        return
    out = tmp_path_factory.mktemp("bundle") / "workshop-bundle.tar.gz"
    t0 = time.monotonic()
    done = subprocess.run(["make", "--no-print-directory", "bundle", f"BUNDLE={out}"], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    print(f"make bundle: {out.stat().st_size / 1e6:.0f} MB in {time.monotonic() - t0:.0f} s")
    yield out
    out.unlink(missing_ok=True)       # ~850 MB; pytest keeps its last temporary folders


def offline_env(home: Path, fakebin: Path, ports: dict[str, int]) -> dict[str, str]:
    """A small, explicit environment: nothing of this checkout's settings or venv leaks in."""
    venv_bin = str(REPO_ROOT / ".venv" / "bin")
    path = [str(fakebin)] + [p for p in os.environ["PATH"].split(os.pathsep) if p and p != venv_bin]
    env = {k: os.environ[k] for k in ("LANG", "LC_ALL", "TZ", "TERM", "JAVA_HOME", "ES_JAVA_HOME", "PYENV_ROOT")
           if k in os.environ}
    env.update(
        PATH=os.pathsep.join(path), HOME=str(home),
        # the machine's own python3 for the new venv (not this checkout's venv)
        PYTHON_BIN=str(Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"),
        PIP_INDEX_URL=UNREACHABLE, PIP_NO_CACHE_DIR="1", PIP_DEFAULT_TIMEOUT="5",
        npm_config_registry=UNREACHABLE, npm_config_fetch_retries="0",
        **{k: str(v) for k, v in ports.items()},
    )
    return env


def stand_in(fakebin: Path, name: str, calls: Path) -> None:
    """A `name` command that records its arguments in `calls` and fails."""
    script = fakebin / name
    script.write_text(f"#!/bin/sh\necho \"{name} $*\" >> '{calls}'\n"
                      f"echo '{name}: not available in the offline test' >&2\nexit 1\n")
    script.chmod(0o755)


def run(cmd: list[str], cwd: Path, env: dict, timeout: int) -> tuple[str, float]:
    t0 = time.monotonic()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    out = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(cmd)} failed:\n{out[-5000:]}"
    return out, time.monotonic() - t0


def test_offline_setup_from_the_bundle_then_stage1(bundle, tmp_path):
    home, fakebin, calls = tmp_path / "home", tmp_path / "bin", tmp_path / "forbidden-calls.log"
    home.mkdir()
    fakebin.mkdir()
    for name in ("mvn", "apt-get"):
        stand_in(fakebin, name, calls)
    # Elasticsearch runs as its own user, who must be able to enter the clone; pytest's
    # tmp folders are 0700, so the clone goes to a folder of its own that others may enter.
    parent = Path(tempfile.mkdtemp(prefix="workshop-offline-", dir="/tmp"))
    parent.chmod(0o755)
    repo = parent / "repo"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(REPO_ROOT), str(repo)], check=True)

    es_port, kafka_port, controller_port, redis_port, dashboard_port = free_ports(5)
    ports = {"ES_PORT": es_port, "KAFKA_PORT": kafka_port, "KAFKA_CONTROLLER_PORT": controller_port,
             "REDIS_PORT": redis_port, "DASHBOARD_PORT": dashboard_port}
    env = offline_env(home, fakebin, ports)
    try:
        out, setup_s = run(["make", "--no-print-directory", "offline-setup", f"BUNDLE={bundle}"], repo, env, 600)
        print(out[-1500:])
        print(f"bundle {bundle.stat().st_size / 1e6:.0f} MB; offline set-up {setup_s:.0f} s")
        assert "set up from the bundle" in out
        runtime = repo / ".runtime"
        assert (runtime / "jars" / "kafka" / ".fetched").exists() and (runtime / "jars" / "spark" / ".fetched").exists()
        assert list(runtime.glob("elasticsearch-*/bin/elasticsearch")), "Elasticsearch was not unpacked"
        assert (repo / "03.stage4" / "node_modules" / "express").is_dir()
        assert (repo / ".venv" / "bin" / "python").exists()

        out, stage_s = run(["make", "--no-print-directory", "stage1", "MAX_EVENTS=500", "RATE=500"], repo, env, 600)
        print(f"make stage1 MAX_EVENTS=500 RATE=500 (offline clone): {stage_s:.0f} s")
        with urllib.request.urlopen(f"http://127.0.0.1:{es_port}/ba_realtime/_count", timeout=10) as r:
            assert json.load(r)["count"] == 500, out[-3000:]
        assert not calls.exists(), f"the offline run called: {calls.read_text()}"
    finally:
        if (repo / ".venv" / "bin" / "python").exists():
            subprocess.run(["make", "--no-print-directory", "services-down"], cwd=repo, env=env,
                           capture_output=True, timeout=180)
        shutil.rmtree(parent, ignore_errors=True)    # ~2 GB: venv, engines, unpacked bundle
