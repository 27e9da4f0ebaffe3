"""The parts of ``make setup`` that are not Python packages.

* the dashboard's Node packages: ``npm ci`` in 03.stage4 (from the committed lock file)
* Chromium for the headless browser test: Debian's ``chromium`` package (never a
  browser download by a test tool); when not root it prints the command instead.
* ``docker-compose`` (Debian's package), so a unit test validates docker-compose.yml
  with ``docker-compose config``; it needs no Docker engine. Same rule as Chromium.

Run by ``make setup``; safe to run again (it skips what is already there).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from common.config import REPO_ROOT

DASHBOARD = REPO_ROOT / "03.stage4"
# `make offline-setup` unpacks its bundle here (tools/bundle.py, UNPACKED): then npm
# installs from the bundle's cache and apt-get is not tried (both would need the network)
OFFLINE_BUNDLE = REPO_ROOT / ".runtime" / "offline-bundle"


def offline_bundle_installed() -> bool:
    return (OFFLINE_BUNDLE / "MANIFEST.json").exists()


def offline_npm_args() -> list[str]:
    """npm ci from the bundle's cache only. npm keys its cache by URL, so it must ask the
    registry the bundle was filled from (this lock file names none), which it then never contacts."""
    registry = json.loads((OFFLINE_BUNDLE / "MANIFEST.json").read_text())["npm_cache"]["registry"]
    return ["--offline", "--cache", str(OFFLINE_BUNDLE / "npm-cache"), "--registry", registry,
            "--no-update-notifier"]


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
    # set up from an offline bundle (make offline-setup): from its npm cache, no registry
    offline = offline_npm_args() if offline_bundle_installed() else []
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error", *offline], cwd=DASHBOARD,
                   check=True)
    stamp.write_text(lock.read_text())


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def apt_install(package: str, why: str) -> bool:
    """As root on Debian/Ubuntu: apt-get install ``package`` and return True; else False."""
    if not (Path("/etc/debian_version").exists() and os.geteuid() == 0):
        return False
    if offline_bundle_installed():      # set up from an offline bundle: apt-get would need the network
        return False
    print(f"==> installing {package} for {why} (apt-get install {package})", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", package],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    return True


def install_chromium() -> None:
    if chromium_path() or apt_install("chromium", "the browser test"):
        return
    print("note: the browser test needs Chromium: sudo apt-get install chromium "
          "(macOS: brew install --cask chromium); everything else works without it", flush=True)


def install_docker_compose() -> None:
    if shutil.which("docker-compose") or apt_install("docker-compose", "the compose-file test"):
        return
    print("note: tests/unit/test_docker_compose.py needs the docker-compose command: "
          "sudo apt-get install docker-compose (macOS: brew install docker-compose)", flush=True)


def main() -> None:
    install_node_packages()
    install_chromium()
    install_docker_compose()


if __name__ == "__main__":
    main()
