"""The parts of ``make setup`` and ``make setup-test`` that are not Python packages.

``make setup`` (what the stages and ``make demo`` need):

* the dashboard's Node packages: ``npm ci --omit=dev`` in 03.stage4 (from the committed
  lock file), without the test-only ones (``playwright-core``).

``make setup-test`` (``--test``; what only ``make test`` needs beyond that):

* every Node package of the lock file, the test-only ones too (``npm ci``);
* Chromium for the headless browser test: Debian's ``chromium`` package (never a
  browser download by a test tool); when not root it prints the command instead.
* ``docker-compose`` (Debian's package), so a unit test validates docker-compose.yml
  with ``docker-compose config``; it needs no Docker engine. Same rule as Chromium.

Safe to run again (it skips what is already there; a full Node install also serves
``make setup``, so switching between the two never reinstalls).

    python -m tools.setup_extras           # make setup
    python -m tools.setup_extras --test    # make setup-test
"""
from __future__ import annotations

import argparse
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


def _stamps(dev: bool) -> list[Path]:
    """The stamp files whose lock text means "already installed": a full install (dev
    packages too) serves both; one without them serves only ``dev=False``."""
    full = DASHBOARD / "node_modules" / ".installed-lock"
    return [full] if dev else [full, DASHBOARD / "node_modules" / ".installed-lock-omit-dev"]


def install_node_packages(dev: bool = True) -> None:
    """``npm ci`` in 03.stage4; ``dev=False`` leaves out the test-only packages."""
    lock = DASHBOARD / "package-lock.json"
    if not lock.exists():
        return
    npm = shutil.which("npm")
    if not npm:
        sys.exit("ERROR: npm is not installed: install Node.js 20 (https://nodejs.org or your package manager)")
    if any(stamp.exists() and stamp.read_text() == lock.read_text() for stamp in _stamps(dev)):
        return
    what = "the dashboard's Node packages, with the tests' (npm ci)" if dev else \
        "the dashboard's Node packages (npm ci --omit=dev)"
    print(f"==> installing {what}", flush=True)
    # set up from an offline bundle (make offline-setup): from its npm cache, no registry
    offline = offline_npm_args() if offline_bundle_installed() else []
    subprocess.run([npm, "ci", *([] if dev else ["--omit=dev"]), "--no-audit", "--no-fund", "--loglevel=error",
                    *offline], cwd=DASHBOARD, check=True)
    _stamps(dev)[-1].write_text(lock.read_text())


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


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--test", action="store_true",
                   help="make setup-test: also the tests' Node packages, Chromium and docker-compose")
    args = p.parse_args(argv)
    install_node_packages(dev=args.test)
    if args.test:
        install_chromium()
        install_docker_compose()


if __name__ == "__main__":
    main()
