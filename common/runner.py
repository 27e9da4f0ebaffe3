"""Run several processes together as one stage: start them, forward Ctrl-C, stop cleanly.

    from common.runner import Child, StageRunner
    runner = StageRunner([
        Child("generator", [sys.executable, "-m", "stage1.live_generator", "--max-events", "100"]),
        Child("shipper",   [sys.executable, "-m", "stage1.shipper", "--max-events", "100"]),
    ])
    sys.exit(runner.run(until=["shipper"]))

* Each child's output is printed line by line with its name in front.
* ``run(until=[...])`` returns 0 once every child named in ``until`` has exited
  with 0 (the others are then stopped); without ``until`` it runs until all exit.
* A child that exits non-zero stops the whole stage; its exit code is returned.
* Ctrl-C (SIGINT) or SIGTERM is forwarded once to every child as SIGINT, so each
  can flush and print its summary; a child still running after ``grace``
  seconds gets SIGTERM, then SIGKILL.

Children run in their own process group, so the terminal's Ctrl-C reaches them
only through us, exactly once and in a known order.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from common.config import REPO_ROOT


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)   # added to os.environ
    process: subprocess.Popen | None = None


class StageRunner:
    def __init__(self, children: list[Child], grace: float = 20.0, cwd=REPO_ROOT):
        self.children, self.grace, self.cwd = children, grace, cwd
        self._interrupted = threading.Event()

    def request_stop(self) -> None:
        """Stop the stage as Ctrl-C would (thread-safe; e.g. from a timer)."""
        self._interrupted.set()

    def start(self) -> None:
        width = max(len(c.name) for c in self.children)
        for child in self.children:
            env = {**os.environ, "PYTHONUNBUFFERED": "1", **child.env}
            child.process = subprocess.Popen(
                child.argv, cwd=self.cwd, env=env, start_new_session=True,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            threading.Thread(target=self._relay, args=(child, width), daemon=True).start()

    @staticmethod
    def _relay(child: Child, width: int) -> None:
        prefix = f"[{child.name:<{width}}] "
        for raw in iter(child.process.stdout.readline, b""):
            sys.stdout.write(prefix + raw.decode("utf-8", errors="replace"))
            sys.stdout.flush()

    def stop(self) -> None:
        """SIGINT every running child, wait up to ``grace`` s, then SIGTERM, then SIGKILL."""
        running = [c.process for c in self.children if c.process and c.process.poll() is None]
        for sig, wait in ((signal.SIGINT, self.grace), (signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            for p in running:
                if p.poll() is None:
                    p.send_signal(sig)
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and any(p.poll() is None for p in running):
                time.sleep(0.1)
            running = [p for p in running if p.poll() is None]
            if not running:
                return

    def run(self, until: list[str] | None = None) -> int:
        """Start, wait (see the module doc), stop; returns the stage's exit code."""
        until = set(until or (c.name for c in self.children))
        previous = {sig: signal.signal(sig, lambda *_: self._interrupted.set())
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        code = 0
        try:
            self.start()
            while not self._interrupted.is_set():
                codes = {c.name: c.process.poll() for c in self.children}
                failed = [(n, rc) for n, rc in codes.items() if rc not in (None, 0)]
                if failed:
                    name, code = failed[0]
                    print(f"[stage] {name} exited with code {code}; stopping the others", flush=True)
                    break
                if all(codes[n] == 0 for n in until):
                    break
                time.sleep(0.2)
            else:
                print("[stage] interrupted; stopping (each part prints its summary)", flush=True)
                code = 130
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        time.sleep(0.2)   # let the relay threads print the children's last lines
        return code
