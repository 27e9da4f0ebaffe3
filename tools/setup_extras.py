"""The parts of ``make setup`` that are not Python packages.

* the dashboard's Node packages: ``npm ci`` in 03.stage4 (from the committed lock file)
* Chromium for the headless browser test: Debian's ``chromium`` package (never a
  browser download by a test tool); when not root it prints the command instead.

Run by ``make setup``; safe to run again (it skips what is already there).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from common.config import REPO_ROOT

DASHBOARD = REPO_ROOT / "03.stage4"


def install_node_packages() -> None:
    lock = DASHBOARD / "package-lock.json"
    if not lock.exists():
        return
    npm = shutil.which("npm")
    if not npm:
        sys.exit("ERROR: npm is not installed: install Node.js 20 (https://nodejs.org or your package manager)")
    stamp = DASHBOARD / "node_modules" / ".installed-lock"
    if stamp.exists() and stamp.read_text() == lock.read_text():
        return
    print("==> installing the dashboard's Node packages (npm ci)", flush=True)
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=DASHBOARD, check=True)
    stamp.write_text(lock.read_text())


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def install_chromium() -> None:
    if chromium_path():
        return
    if Path("/etc/debian_version").exists() and os.geteuid() == 0:
        print("==> installing Chromium for the browser test (apt-get install chromium)", flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-q"], check=True, env=env, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium"],
                       check=True, env=env, stdout=subprocess.DEVNULL)
    else:
        print("note: the browser test needs Chromium: sudo apt-get install chromium "
              "(macOS: brew install --cask chromium); everything else works without it", flush=True)


def main() -> None:
    install_node_packages()
    install_chromium()


if __name__ == "__main__":
    main()
