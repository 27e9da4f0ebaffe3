"""Stage 4: start the live dashboard (Node.js, 03.stage4/server.js).

Checks Node.js (20 or newer) and the npm packages (runs `npm ci` once when
node_modules is missing), starts `node 03.stage4/server.js` with the endpoints
and names from common.config passed as environment variables (ES_URL,
REDIS_URL, INDEX_STAGE3, ...), waits until the page answers, prints its URL and
runs until Ctrl-C, or for --duration seconds.

    python 03.stage4/run_stage4.py                  # or: make stage4
    python 03.stage4/run_stage4.py --port 3001 --duration 60
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))   # for `common`

from common.config import Settings, get_settings  # noqa: E402

MIN_NODE_MAJOR = 20


def dashboard_env(s: Settings, port: int) -> dict[str, str]:
    """The server's environment: the Python settings under their upper-case names."""
    env = {
        "ES_URL": s.es_url, "REDIS_URL": s.redis_url, "REDIS_OFFERS_CHANNEL": s.redis_offers_channel,
        "INDEX_STAGE1": s.index_stage1, "INDEX_STAGE2": s.index_stage2, "INDEX_STAGE3": s.index_stage3,
        "INDEX_INTEREST": s.index_interest, "DASHBOARD_PORT": str(port), "BIND_HOST": s.bind_host,
    }
    secrets = {"ES_API_KEY": s.es_api_key, "ES_USERNAME": s.es_username,
               "ES_PASSWORD": s.es_password, "ES_CA_FILE": s.es_ca_file}
    env.update({k: str(v) for k, v in secrets.items() if v})
    return env


def check_node() -> str:
    node = shutil.which("node")
    if not node:
        sys.exit(f"Node.js is not installed: install Node.js {MIN_NODE_MAJOR}+ (https://nodejs.org) and retry")
    version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    major = int(re.match(r"v(\d+)", version).group(1))
    if major < MIN_NODE_MAJOR:
        sys.exit(f"Node.js {version} is too old: stage 4 needs Node.js {MIN_NODE_MAJOR} or newer")
    if not (HERE / "node_modules" / "express").is_dir():
        print("==> installing the dashboard's npm packages (npm ci, from package-lock.json)")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True)
    return node


def wait_until_up(url: str, server: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"the dashboard server exited with code {server.returncode} (see its message above)")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    server.terminate()
    sys.exit(f"the dashboard did not answer on {url} within {timeout:.0f} s")


def stop_like_ctrl_c(signum, frame):
    """SIGTERM (from `make demo` or a test) stops the dashboard the way Ctrl-C does."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    s = get_settings()
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, default=int(os.environ.get("DASHBOARD_PORT", s.dashboard_port)))
    p.add_argument("--duration", type=float, help="stop after this many seconds")
    args = p.parse_args(argv)

    node = check_node()
    server = subprocess.Popen([node, str(HERE / "server.js")], env={**os.environ, **dashboard_env(s, args.port)})
    signal.signal(signal.SIGTERM, stop_like_ctrl_c)
    url = f"http://{s.bind_host}:{args.port}"
    try:
        wait_until_up(url, server)
        print(f"\n  Dashboard: {url}\n"
              "  Look at: plays per minute (mobile vs PC), the US map, top tracks, and the live\n"
              "  offers feed (stage 3). Ctrl-C stops it.\n", flush=True)
        server.wait(timeout=args.duration)
    except subprocess.TimeoutExpired:
        pass                                   # --duration reached
    except KeyboardInterrupt:
        print("stopping the dashboard")
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGINT)   # server.js closes its connections and exits 0
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
    return 0 if server.returncode in (0, -signal.SIGINT) else server.returncode


if __name__ == "__main__":
    sys.exit(main())
