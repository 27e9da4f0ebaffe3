"""``make test``: start the engines, run every test, stop what was started.

1. ``services.up()`` (fetches once, starts Kafka, Elasticsearch, Redis, waits healthy)
2. pytest: unit, integration, e2e and notebook tests (``tests/``)
3. ``node --test`` for the dashboard (03.stage4/test)
4. stops the engines it started itself, even when tests fail; engines that were
   already running before ``make test`` are left running.

Extra pytest arguments: ``make test PYTEST_ARGS="-k stage1"``.
"""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time

import services
from common.config import REPO_ROOT, get_settings


def main() -> int:
    s = get_settings()
    already = {n for n in services.ENGINES if services.our_pid(s, n) is not None}
    t0 = time.monotonic()
    try:
        print("==> starting the engines", flush=True)
        services.fetch(s)
        services.up(settings=s)
        print("==> pytest (unit, integration, e2e, notebooks)", flush=True)
        args = shlex.split(os.environ.get("PYTEST_ARGS", ""))
        rc = subprocess.run([sys.executable, "-m", "pytest", "-ra", "--durations=25", *args], cwd=REPO_ROOT).returncode
        node_tests = REPO_ROOT / "03.stage4" / "test"
        if node_tests.is_dir() and shutil.which("node") and not args:
            print("==> node --test (dashboard)", flush=True)
            env = dict(os.environ, ES_URL=s.es_url, REDIS_URL=s.redis_url)
            rc_node = subprocess.run(["node", "--test", "--test-concurrency=1", "test/"],
                                     cwd=node_tests.parent, env=env).returncode
            rc = rc or rc_node
        print(f"==> tests finished in {time.monotonic() - t0:.0f}s, exit code {rc}", flush=True)
        return rc
    except services.ServiceError as e:
        print(f"ERROR: {e}", file=sys.stderr, flush=True)
        return 1
    finally:
        started = [n for n in services.ENGINES if n not in already]
        if started:
            print("==> stopping the engines this run started", flush=True)
            services.down(started, settings=s)


if __name__ == "__main__":
    sys.exit(main())
