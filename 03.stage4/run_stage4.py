"""Stage 4: start the live dashboard (Node.js, 03.stage4/server.js).

Checks Node.js (20 or newer) and the npm packages (runs `npm ci` once when
node_modules is missing), starts `node 03.stage4/server.js` with the settings
from common.config that the server reads (lib/config.js: ES_URL, REDIS_URL,
INDEX_STAGE3, REDIS_SMS_SENT_COUNTER, ...) passed as environment variables under
their upper-case names, and beside it the pipeline collector (stage4.pipeline,
its own process: the Pipeline panel's samples; --no-collector leaves it out),
waits until the page answers, prints its URL and runs until Ctrl-C (or SIGTERM),
or for --duration seconds.

    make stage4                                     # engines up first, then this
    python -m stage4.run_stage4                     # or: python 03.stage4/run_stage4.py
    python -m stage4.run_stage4 --port 3001 --duration 60
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from common.bounded import Bounds, stop_on_signals
from common.config import Settings, get_settings

HERE = Path(__file__).resolve().parent
CONFIG_JS = HERE / "lib" / "config.js"
MIN_NODE_MAJOR = 20


# a JavaScript string literal (kept: it may contain "//"), or a comment (dropped)
_JS_STRING_OR_COMMENT = re.compile(r"""('(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|`(?:\\.|[^`\\])*`)|/\*.*?\*/|//[^\n]*""",
                                   re.S)


def server_env_names(config_js: Path = CONFIG_JS) -> list[str]:
    """The environment variables the server reads: every `env.NAME` in the code of lib/config.js."""
    code = _JS_STRING_OR_COMMENT.sub(lambda m: m.group(1) or "", config_js.read_text())
    return sorted(set(re.findall(r"\benv\.([A-Z][A-Z0-9_]*)\b", code)))


def dashboard_env(s: Settings, port: int) -> dict[str, str]:
    """The server's environment: each setting it reads, under its upper-case name.

    Built from the settings themselves, so a name configured for the Python
    stages (in the environment or .env) is the name the page reads. Settings
    that are not set (None: the credentials, unless configured) are left out.
    """
    values = s.model_dump()
    env = {name: str(values[name.lower()]) for name in server_env_names()
           if values.get(name.lower()) is not None}
    env["DASHBOARD_PORT"] = str(port)
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


def wait_until_up(url: str, server: subprocess.Popen, stop: threading.Event, timeout: float = 30) -> None:
    """Returns once /healthz answers (or Ctrl-C came); exits if the server dies or stays silent."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stop.is_set():
        if server.poll() is not None:
            sys.exit(f"the dashboard server exited with code {server.returncode} (see its message above)")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):
                return
        except OSError:
            stop.wait(0.2)
    if stop.is_set():
        return
    server.terminate()
    sys.exit(f"the dashboard did not answer on {url} within {timeout:.0f} s")


def main(argv: list[str] | None = None) -> int:
    s = get_settings()
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, default=s.dashboard_port, help=f"default {s.dashboard_port} (DASHBOARD_PORT)")
    p.add_argument("--duration", type=float, help="stop after this many seconds (default: run until Ctrl-C)")
    p.add_argument("--no-collector", dest="collector", action="store_false",
                   help="do not start the pipeline collector (stage4.pipeline) beside the server")
    args = p.parse_args(argv)

    node = check_node()
    stop = stop_on_signals()          # Ctrl-C, or SIGTERM from `make demo` or a test
    server = subprocess.Popen([node, str(HERE / "server.js")], env={**os.environ, **dashboard_env(s, args.port)})
    # the Pipeline panel's samples: the collector, a process of its own (stage4.pipeline)
    collector = subprocess.Popen([sys.executable, "-m", "stage4.pipeline"]) if args.collector else None
    url = f"http://{s.bind_host}:{args.port}"
    try:
        wait_until_up(url, server, stop)
        if not stop.is_set():
            print(f"\n  Dashboard: {url}\n"
                  "  Look at: plays per minute (mobile vs PC), the US map, top tracks, and the live\n"
                  "  offers feed (stage 3). Ctrl-C stops it.\n", flush=True)
        bounds = Bounds(duration=args.duration)         # --duration counts from the page answering
        while server.poll() is None and not bounds.done(stop=stop):
            stop.wait(0.2)
        if stop.is_set():
            print("stopping the dashboard", flush=True)
    finally:
        if collector is not None and collector.poll() is None:
            collector.send_signal(signal.SIGINT)    # it prints its CPU and exits
            try:
                collector.wait(timeout=10)
            except subprocess.TimeoutExpired:
                collector.kill()
        if server.poll() is None:
            server.send_signal(signal.SIGINT)   # server.js closes its connections and exits 0
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    return 0 if server.returncode in (0, -signal.SIGINT) else server.returncode


if __name__ == "__main__":
    sys.exit(main())
