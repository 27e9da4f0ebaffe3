"""The offline bundle: everything a fresh machine downloads, in one archive.

    make bundle                                   # -> dist/workshop-bundle.tar.gz (online, once)
    make offline-setup BUNDLE=/media/usb/workshop-bundle.tar.gz   # no network needed

``make bundle`` (``python -m tools.bundle build``) packs, under one top folder
``workshop-bundle/``:

  MANIFEST.json   what it was built for (Python, OS, CPU, services/versions.env,
                  the git commit) and every file's size and sha256
  wheels/         the Python wheels of the project's dependencies and its dev
                  extras, for this Python and platform (``pip wheel``, so
                  source-only packages such as pyspark arrive as wheels), plus
                  pip, setuptools and wheel for the editable install
  engines/        the downloads exactly as services/fetch.py keeps them under
                  DOWNLOADS_DIR: ``jars/kafka/``, ``jars/spark/`` (with their
                  ``.fetched`` stamps) and ``downloads/elasticsearch-<v>.zip``
  npm-cache/      npm's cache filled by ``npm ci`` from 03.stage4's lock file

``make offline-setup`` (``python tools/bundle.py setup BUNDLE``, standard
library only until the virtual environment exists) unpacks it into
``.runtime/offline-bundle/``, checks the sha256 sums and that the bundle fits
this machine and checkout, then: the venv with ``pip install --no-index
--find-links``; the engines moved to where services/fetch.py looks (the
Elasticsearch zip unpacked by fetch itself, no Maven); ``npm ci --offline``
from the cache (tools/setup_extras.py sees the unpacked bundle, and skips the
apt-get installs that need the network).

Not in the bundle (OS packages, installed beforehand): Python 3.11+, the JDKs
(17 and 21+), Node.js 20 with npm, redis-server, and the test-only Chromium
and docker-compose (Debian's packages; no browser download by a test tool).
Maven is not needed with a bundle: it only downloads the engines.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

# Standard library only above this line: `make offline-setup` runs this file with
# the machine's python3 before the virtual environment (and pydantic) exists.
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BUNDLE = REPO_ROOT / "dist" / "workshop-bundle.tar.gz"
TOP = "workshop-bundle"
# where offline-setup unpacks the bundle (tools/setup_extras.py's OFFLINE_BUNDLE: there
# it means npm --offline and no apt-get); the wheels stay here for a later reinstall
UNPACKED = REPO_ROOT / ".runtime" / "offline-bundle"
NOT_INCLUDED = ("Python 3.11+, a JDK 17 and a JDK 21+, Node.js 20 with npm and redis-server "
                "(OS packages); Chromium and docker-compose (test-only, Debian's packages)")


def say(msg: str) -> None:
    print(msg, flush=True)


def sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def tree_digest(root: Path) -> tuple[int, int, str]:
    """(files, bytes, sha256 over every file's relative path and sha256) of a folder."""
    h, n, size = hashlib.sha256(), 0, 0
    for p in sorted(q for q in root.rglob("*") if q.is_file()):
        h.update(f"{p.relative_to(root).as_posix()} {sha256(p)}\n".encode())
        n, size = n + 1, size + p.stat().st_size
    return n, size, h.hexdigest()


def read_versions() -> dict[str, str]:
    """services/versions.env (the same parsing as services.fetch.versions, without its imports)."""
    out = {}
    for line in (REPO_ROOT / "services" / "versions.env").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def machine() -> dict[str, str]:
    """What the wheels are bound to: Python major.minor, OS and CPU."""
    return {"python": f"{sys.version_info.major}.{sys.version_info.minor}",
            "implementation": sys.implementation.name,
            "system": platform.system(), "machine": platform.machine()}


def human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit in ("B", "KB") else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


# --- make bundle -------------------------------------------------------------------
def requirements() -> list[str]:
    """The project's dependencies and dev extras (pyproject.toml), and what
    ``pip install -e`` needs to build the project: pip, setuptools, wheel."""
    import tomllib

    meta = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    project, build = meta["project"], meta["build-system"]["requires"]
    return [*project["dependencies"], *project["optional-dependencies"]["dev"], "pip", *build, "wheel"]


def _wheels(dest: Path) -> None:
    # pip wheel, not pip download: a package published only as source (pyspark)
    # arrives as a wheel, so the offline install builds nothing but the project
    say("  Python wheels for the project and its dev extras (pip wheel) ...")
    dest.mkdir(parents=True)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check",
                    "-w", str(dest), *requirements()], cwd=REPO_ROOT, check=True)


def _npm_cache(dest: Path, work: Path) -> str:
    """npm's cache holding every package of 03.stage4/package-lock.json; returns the
    registry it was filled from (npm keys its cache by URL: the offline install asks the same)."""
    say("  npm packages for 03.stage4 (npm ci --cache) ...")
    npm = shutil.which("npm")
    if not npm:
        sys.exit("ERROR: npm is not installed: make bundle packs the dashboard's Node packages with it")
    # a scratch copy of the manifest and lock file: the checkout's node_modules is left alone
    scratch = work / "npm-scratch"
    scratch.mkdir()
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(REPO_ROOT / "03.stage4" / name, scratch / name)
    subprocess.run([npm, "ci", "--cache", str(dest), "--no-audit", "--no-fund", "--loglevel=error",
                    "--ignore-scripts"], cwd=scratch, check=True)
    registry = subprocess.run([npm, "config", "get", "registry"], cwd=scratch, capture_output=True,
                              text=True, check=True).stdout.strip()
    # only the content cache and its index are needed offline
    shutil.rmtree(dest / "_logs", ignore_errors=True)
    shutil.rmtree(scratch, ignore_errors=True)
    return registry


def _engines() -> list[tuple[Path, str]]:
    """(file, name in the bundle) for the downloads services/fetch.py keeps."""
    from common.config import get_settings
    from services.fetch import fetch_elasticsearch, kafka_jars, spark_jars

    s = get_settings()
    kafka_jars(s)                 # the three are no-ops when `make fetch` ran
    spark_jars(s)
    fetch_elasticsearch(s)
    es_zip = s.downloads_dir / "downloads" / f"elasticsearch-{read_versions()['ES_VERSION']}.zip"
    if not es_zip.exists():
        sys.exit(f"ERROR: {es_zip} is missing (the Elasticsearch folder was unpacked from it and the zip "
                 f"deleted): delete {es_zip.parent.parent / es_zip.stem} and run make fetch, then make bundle")
    files = [(es_zip, f"engines/downloads/{es_zip.name}")]
    for name in ("kafka", "spark"):
        folder = s.downloads_dir / "jars" / name
        files += [(p, f"engines/jars/{name}/{p.name}") for p in sorted(folder.iterdir()) if p.is_file()]
    return files


def _reset_owner(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def build(out: Path) -> Path:
    t0 = time.monotonic()
    out = out if out.is_absolute() else REPO_ROOT / out
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.parent == DEFAULT_BUNDLE.parent and not (out.parent / ".gitignore").exists():
        (out.parent / ".gitignore").write_text("*\n")      # dist/ is build output: never committed
    say(f"==> packing the offline bundle into {out}")
    engines = _engines()
    with tempfile.TemporaryDirectory(prefix="bundle-", dir=out.parent) as tmp:
        work = Path(tmp)
        _wheels(work / "wheels")
        registry = _npm_cache(work / "npm-cache", work)
        files = [(p, f"wheels/{p.name}") for p in sorted((work / "wheels").iterdir())] + engines
        say(f"  MANIFEST.json: sha256 of {len(files)} files ...")
        n_npm, size_npm, digest_npm = tree_digest(work / "npm-cache")
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                                text=True).stdout.strip() or None
        manifest = {
            "format": 1, "built": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "commit": commit,
            "built_for": machine(), "versions": read_versions(), "not_included": NOT_INCLUDED,
            "files": [{"path": name, "size": p.stat().st_size, "sha256": sha256(p)} for p, name in files],
            "npm_cache": {"path": "npm-cache", "files": n_npm, "size": size_npm, "tree_sha256": digest_npm,
                          "registry": registry},
        }
        (work / "MANIFEST.json").write_text(json.dumps(manifest, indent=1) + "\n")
        say("  writing the archive (gzip -1: wheels, jars and the zip are compressed already) ...")
        partial = out.with_name(out.name + ".partial")
        with tarfile.open(partial, "w:gz", compresslevel=1) as tar:
            tar.add(work / "MANIFEST.json", f"{TOP}/MANIFEST.json", filter=_reset_owner)
            for p, name in files:
                tar.add(p, f"{TOP}/{name}", filter=_reset_owner)
            tar.add(work / "npm-cache", f"{TOP}/npm-cache", filter=_reset_owner)
        partial.replace(out)
    total = sum(f["size"] for f in manifest["files"]) + size_npm
    by_part: dict[str, int] = {}
    for f in manifest["files"]:
        by_part[f["path"].split("/")[0]] = by_part.get(f["path"].split("/")[0], 0) + f["size"]
    say(f"==> {out}: {human(out.stat().st_size)} ({human(total)} unpacked: wheels {human(by_part['wheels'])}, "
        f"engines {human(by_part['engines'])}, npm cache {human(size_npm)}) in {time.monotonic() - t0:.0f}s")
    say(f"  built for Python {manifest['built_for']['python']} on {manifest['built_for']['system']} "
        f"{manifest['built_for']['machine']}; not included: {NOT_INCLUDED}")
    say(f"  set up from it with no network: make offline-setup BUNDLE={out}")
    return out


# --- make offline-setup ---------------------------------------------------------------
def _unpack(bundle: Path) -> dict:
    """Unpack into UNPACKED, check every sha256; returns the manifest."""
    say(f"  unpacking {bundle} ({human(bundle.stat().st_size)}) into {UNPACKED.relative_to(REPO_ROOT)}/ ...")
    staging = UNPACKED.with_name(UNPACKED.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(UNPACKED, ignore_errors=True)
    staging.mkdir(parents=True)
    with tarfile.open(bundle, "r:gz") as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(staging, filter="data")      # no absolute paths, links out, devices
        else:
            tar.extractall(staging)
    if not (staging / TOP / "MANIFEST.json").exists():
        sys.exit(f"ERROR: {bundle} is not a workshop bundle (no {TOP}/MANIFEST.json): make one with make bundle")
    (staging / TOP).rename(UNPACKED)
    shutil.rmtree(staging, ignore_errors=True)
    manifest = json.loads((UNPACKED / "MANIFEST.json").read_text())
    say(f"  checking the sha256 of {len(manifest['files'])} files and the npm cache ...")
    bad = [f["path"] for f in manifest["files"]
           if not (UNPACKED / f["path"]).is_file() or sha256(UNPACKED / f["path"]) != f["sha256"]]
    if tree_digest(UNPACKED / "npm-cache")[2] != manifest["npm_cache"]["tree_sha256"]:
        bad.append("npm-cache/")
    if bad:
        sys.exit(f"ERROR: the bundle is damaged ({len(bad)} files differ, first: {bad[0]}): copy it again")
    return manifest


def _check_fits(manifest: dict) -> None:
    """The wheels fit only the Python/OS/CPU they were built on; the engines only these versions."""
    built, here = manifest["built_for"], machine()
    if built != here:
        sys.exit(f"ERROR: this bundle was built for {built['implementation']} {built['python']} on "
                 f"{built['system']} {built['machine']}, this machine is {here['implementation']} "
                 f"{here['python']} on {here['system']} {here['machine']} (PYTHON_BIN={sys.executable}): "
                 "build the bundle on a machine like the attendees' (make bundle), or pick another "
                 "PYTHON_BIN=")
    wanted = read_versions()
    differ = sorted(k for k in set(wanted) | set(manifest["versions"])
                    if wanted.get(k) != manifest["versions"].get(k))
    if differ:
        sys.exit(f"ERROR: the bundle was built from a checkout with other versions ({', '.join(differ)} "
                 "differ from services/versions.env): build it again from this checkout (make bundle)")


def _venv(venv: Path) -> Path:
    py = venv / "bin" / "python"
    wheels = str(UNPACKED / "wheels")
    if not py.exists():
        say(f"  creating the virtual environment in {venv} ...")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    say("  pip install --no-index --find-links .runtime/offline-bundle/wheels -e '.[dev]' ...")
    offline = ["--no-index", "--find-links", wheels, "--disable-pip-version-check", "-q"]
    subprocess.run([str(py), "-m", "pip", "install", *offline, "--upgrade", "pip"], check=True, cwd=REPO_ROOT)
    subprocess.run([str(py), "-m", "pip", "install", *offline, "-e", ".[dev]"], check=True, cwd=REPO_ROOT)
    os.utime(py)          # as the Makefile's `touch $(PY)`: make sees the venv up to date
    return py


def setup(bundle: Path, venv: Path) -> None:
    t0 = time.monotonic()
    bundle = bundle if bundle.is_absolute() else Path.cwd() / bundle
    if not bundle.is_file():
        sys.exit(f"ERROR: no bundle at {bundle}: make offline-setup BUNDLE=path/to/workshop-bundle.tar.gz")
    venv = venv if venv.is_absolute() else REPO_ROOT / venv
    say("==> setting up from the offline bundle (no network)")
    manifest = _unpack(bundle)
    _check_fits(manifest)
    py = _venv(venv)
    # the rest needs the project's settings (DOWNLOADS_DIR ...): run it with the venv's Python
    subprocess.run([str(py), "-m", "tools.bundle", "place"], check=True, cwd=REPO_ROOT)
    say(f"==> set up from the bundle in {time.monotonic() - t0:.0f}s; next: make stage1 "
        "(make doctor's lines on the registries and Maven do not matter now: nothing is downloaded)")


def place() -> None:
    """In the venv: the engines where services/fetch.py looks, the Node packages, the OS checks."""
    from common.config import get_settings
    from services.fetch import fetch_elasticsearch, kafka_jars, spark_jars
    from services.system import ServiceError, find_jdk
    from tools import setup_extras

    s = get_settings()
    assert setup_extras.OFFLINE_BUNDLE == UNPACKED and setup_extras.offline_bundle_installed()
    say(f"  engines into {s.downloads_dir} (where services/fetch.py looks) ...")
    src = UNPACKED / "engines"
    for name in ("kafka", "spark"):
        target = s.downloads_dir / "jars" / name
        shutil.rmtree(target, ignore_errors=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(src / "jars" / name), str(target))
    (s.downloads_dir / "downloads").mkdir(parents=True, exist_ok=True)
    for z in (src / "downloads").glob("*.zip"):
        shutil.move(str(z), str(s.downloads_dir / "downloads" / z.name))
    shutil.rmtree(src, ignore_errors=True)
    try:
        # the fetch code itself: the stamps match and the zip is there, so no Maven; it unpacks Elasticsearch
        kafka_jars(s)
        spark_jars(s)
        fetch_elasticsearch(s)
    except ServiceError as e:
        sys.exit(f"ERROR: the engines from the bundle do not fit this checkout: {e}")
    setup_extras.install_node_packages()      # npm ci --offline from the bundle's npm cache
    # what the bundle does not carry: say it in one line each, fail on none of it
    for need, purpose in ((17, "Kafka and Spark"), (21, "Elasticsearch")):
        try:
            find_jdk(need, purpose)
        except ServiceError as e:
            say(f"  note (not in the bundle): {e}")
    if not shutil.which("redis-server"):
        say("  note (not in the bundle): redis-server is missing: sudo apt-get install redis-server "
            "(macOS: brew install redis) before make services-up")
    missing = [n for n, found in (("Chromium", setup_extras.chromium_path()),
                                  ("docker-compose", shutil.which("docker-compose"))) if not found]
    if missing:
        say(f"  skipped: {' and '.join(missing)} (test-only, not in the bundle): "
            "sudo apt-get install chromium docker-compose once online; every stage works without them")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="tools/bundle.py", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="pack the bundle (make bundle)")
    b.add_argument("--out", type=Path, default=DEFAULT_BUNDLE)
    st = sub.add_parser("setup", help="set up from a bundle with no network (make offline-setup)")
    st.add_argument("bundle", type=Path)
    st.add_argument("--venv", type=Path, default=Path(".venv"))
    sub.add_parser("place", help="(internal, in the venv) engines and Node packages from the unpacked bundle")
    a = p.parse_args(argv)
    if a.command == "build":
        build(a.out)
    elif a.command == "setup":
        setup(a.bundle, a.venv)
    else:
        place()
    return 0


if __name__ == "__main__":
    sys.exit(main())
