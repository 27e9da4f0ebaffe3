"""``make test``: start the engines, run every test, stop what was started.

1. ``services.up()`` (fetches once, starts Kafka, Elasticsearch, Redis, waits healthy)
2. pytest: unit, integration, e2e and notebook tests (``tests/``), on two workers
   (pytest-xdist, ``--dist loadgroup``: each test module runs whole on one worker, the
   longest first; tests/conftest.py says which modules share one)
3. ``node --test`` for the dashboard (03.stage4/test), at the same time as pytest; its
   output is printed after pytest's
4. stops the engines it started itself, even when tests fail; engines that were
   already running before ``make test`` are left running.

Extra pytest arguments: ``make test PYTEST_ARGS="-k stage1"`` (then without the Node
tests); ``TEST_WORKERS=1`` runs pytest in one process, as before the workers.
"""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import services
from common.config import REPO_ROOT, get_settings


def main() -> int:
    s = get_settings()
    already = {n for n in services.ENGINES if services.our_pid(s, n) is not None}
    t0 = time.monotonic()
    node = None
    try:
        print("==> starting the engines", flush=True)
        services.fetch(s)
        services.up(settings=s)
        args = shlex.split(os.environ.get("PYTEST_ARGS", ""))
        workers = int(os.environ.get("TEST_WORKERS", "2"))
        # the Node tests need only the engines: they run while pytest does (a few seconds of
        # CPU, most of it waiting), their output kept apart and printed after pytest's
        node_tests = REPO_ROOT / "03.stage4" / "test"
        if node_tests.is_dir() and shutil.which("node") and not args:
            print("==> node --test (dashboard), beside pytest", flush=True)
            env = dict(os.environ, ES_URL=s.es_url, REDIS_URL=s.redis_url)
            node_log = tempfile.TemporaryFile()
            node = subprocess.Popen(["node", "--test", "--test-concurrency=1", "test/"], cwd=node_tests.parent,
                                    env=env, stdout=node_log, stderr=subprocess.STDOUT)
            node_started, node_ended = time.monotonic(), []
            # notes when the Node tests ended, for the time printed after pytest's output
            node_waiter = threading.Thread(target=lambda: (node.wait(), node_ended.append(time.monotonic())),
                                           daemon=True)
            node_waiter.start()
        print("==> pytest (unit, integration, e2e, notebooks)", flush=True)
        parallel = ["-n", str(workers), "--dist", "loadgroup", "--no-loadscope-reorder"] if workers > 1 else []
        rc = subprocess.run([sys.executable, "-m", "pytest", "-ra", "--durations=25", *parallel, *args],
                            cwd=REPO_ROOT).returncode
        if node is not None:
            node_waiter.join()
            rc_node, took = node.returncode, node_ended[0] - node_started
            print(f"==> node --test (dashboard): {took:.0f}s, exit code {rc_node}; its output:", flush=True)
            node_log.seek(0)
            sys.stdout.buffer.write(node_log.read())
            sys.stdout.flush()
            rc = rc or rc_node
        print(f"==> tests finished in {time.monotonic() - t0:.0f}s, exit code {rc}", flush=True)
        return rc
    except services.ServiceError as e:
        print(f"ERROR: {e}", file=sys.stderr, flush=True)
        return 1
    finally:
        if node is not None and node.poll() is None:      # pytest was interrupted
            node.terminate()
            node.wait()
        started = [n for n in services.ENGINES if n not in already]
        if started:
            print("==> stopping the engines this run started", flush=True)
            services.down(started, settings=s)


if __name__ == "__main__":
    sys.exit(main())
