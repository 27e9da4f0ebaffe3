"""What each make target sets up (Makefile, tools/setup_extras.py): the stages and the
demo get the virtual environment and the dashboard's Node packages, never a browser or
docker-compose; ``make test`` adds what only the tests need. Read from ``make -n``."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from common.config import REPO_ROOT

TEST_ONLY = "tools.setup_extras --test"


def dry_run(target: str) -> str:
    if not shutil.which("make"):
        pytest.fail("make is not installed")
    proc = subprocess.run(["make", "-n", target, "DEMO_DURATION=1", "MAX_EVENTS=1"], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("target", ["demo", "stage1", "stage2", "stage3", "stage4", "check-stage2", "bench"])
def test_the_stages_and_the_demo_install_nothing_only_the_tests_need(target):
    out = dry_run(target)
    assert "tools.setup_extras" in out            # the Node packages of the dashboard
    assert TEST_ONLY not in out and "chromium" not in out and "docker-compose" not in out


def test_make_test_installs_what_the_tests_need():
    out = dry_run("test")
    assert TEST_ONLY in out and "tools.testrun" in out
    assert out.index(TEST_ONLY) < out.index("tools.testrun")


def test_a_full_node_install_serves_make_setup_too():
    from tools import setup_extras

    # make test's install (dev packages too) is never redone by a make demo after it
    assert set(setup_extras._stamps(True)) < set(setup_extras._stamps(False))
