"""Download the engines once, from Maven Central, into ``.runtime/`` (``DOWNLOADS_DIR``).

    python -m services fetch

fetches Kafka's jars (``jars/kafka``), Spark's Kafka source (``jars/spark``),
the Elasticsearch distribution (``elasticsearch-<v>/``) and installs
``redis-server`` if it is missing. What is already there is not fetched again.
Versions come from ``services/versions.env``; ``services/pom.xml`` is the Maven
descriptor they are passed to (``-Dkafka.version=...``). Every downloaded file
must have the SHA-256 pinned in ``services/checksums.sha256``: the jars are
checked on every call (before an engine or Spark uses them), the Elasticsearch
zip before it is unpacked.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

from common.config import REPO_ROOT, Settings, get_settings
from services.system import ServiceError, ensure_redis_installed, say

VERSIONS_FILE = REPO_ROOT / "services" / "versions.env"
POM = REPO_ROOT / "services" / "pom.xml"
CHECKSUMS_FILE = REPO_ROOT / "services" / "checksums.sha256"


def versions() -> dict[str, str]:
    """``services/versions.env`` as a dict: ``{"KAFKA_VERSION": "4.1.1", ...}``."""
    out = {}
    for line in VERSIONS_FILE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


# --- pinned checksums -------------------------------------------------------------
def pinned_checksums() -> dict[str, str]:
    """``services/checksums.sha256`` as ``{"jars/kafka/kafka_2.13-4.1.1.jar": "<sha256>", ...}``."""
    pins = {}
    for line in CHECKSUMS_FILE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            digest, name = line.split(maxsplit=1)
            pins[name.strip()] = digest.lower()
    return pins


def sha256_of(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def check_checksum(path: Path, name: str, pins: dict[str, str]) -> None:
    """Raise unless ``path`` has the SHA-256 pinned for ``name`` (its path under DOWNLOADS_DIR)."""
    got = sha256_of(path)
    want = pins.get(name)
    if want is None:
        raise ServiceError(f"{path} has no pinned SHA-256 ({name} is not in {CHECKSUMS_FILE.name}; its "
                           f"SHA-256 is {got}): after a version change, check the file against Maven "
                           f"Central's .sha1 and add its line to services/{CHECKSUMS_FILE.name}")
    if got != want:
        raise ServiceError(f"checksum mismatch for {path}: pinned SHA-256 {want}, file has {got}. The "
                           "download is damaged or not the published file: delete it and run make "
                           "services-up again; if it fails again, do not use that mirror or proxy")


def check_jar_folder(folder: Path, name: str) -> None:
    """Check every jar in ``folder`` against the pins for ``jars/<name>/``."""
    pins = pinned_checksums()
    for jar in sorted(folder.glob("*.jar")):
        check_checksum(jar, f"jars/{name}/{jar.name}", pins)


def _mvn(profile: str | None, goal: list[str], what: str) -> None:
    """Run Maven on services/pom.xml with the versions; a failure names its first ERROR line."""
    mvn = shutil.which("mvn")
    if not mvn:
        raise ServiceError("Maven (mvn) is not installed, so the engines cannot be fetched: "
                           "apt-get install maven (Debian/Ubuntu) or brew install maven (macOS)")
    v = versions()
    cmd = [mvn, "-B", "-q", "-f", str(POM),
           f"-Dkafka.version={v['KAFKA_VERSION']}", f"-Dspark.version={v['SPARK_VERSION']}",
           f"-Dscala.binary={v['SCALA_BINARY']}", f"-Dlog4j.version={v['LOG4J_VERSION']}"]
    if profile:
        cmd += ["-P", profile]
    res = subprocess.run(cmd + goal, capture_output=True, text=True)
    if res.returncode != 0:
        detail = (res.stdout + res.stderr).strip().splitlines()
        hint = next((l for l in detail if "ERROR" in l), detail[-1] if detail else "")
        raise ServiceError(f"download of {what} refused or failed ({hint.strip()[:300]}): check that "
                           "Maven Central is reachable (proxy settings in ~/.m2/settings.xml) and retry "
                           "make services-up")


# --- the jar sets --------------------------------------------------------------------
# which versions each set of jars depends on: a change to any other line of
# versions.env must not trigger a new download
JAR_VERSION_KEYS = {"kafka": ("KAFKA_VERSION", "SCALA_BINARY", "LOG4J_VERSION"),
                    "spark": ("SPARK_VERSION", "SCALA_BINARY")}


def _fetch_jars(settings: Settings, name: str, profile: str, what: str) -> Path:
    """``jars/<name>/`` with the runtime jars of Maven profile ``profile``, fetched if
    missing or fetched for other versions (the ``.fetched`` stamp says which)."""
    target = settings.downloads_dir / "jars" / name
    stamp = target / ".fetched"
    v = versions()
    wanted = " ".join(f"{k}={v[k]}" for k in JAR_VERSION_KEYS[name])
    if stamp.exists() and stamp.read_text() == wanted:
        check_jar_folder(target, name)       # a jar changed since (or put there by hand): refused
        return target
    say(f"  fetching {what} from Maven Central (once) ...")
    # download next to the target, then swap: a running engine never sees a half-filled folder
    staging = target.with_name(name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    _mvn(profile, ["dependency:copy-dependencies", "-DincludeScope=runtime",
                   f"-DoutputDirectory={staging}"], what)
    check_jar_folder(staging, name)          # before the new jars replace the old ones
    (staging / ".fetched").write_text(wanted)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def kafka_jars(settings: Settings) -> Path:
    """The folder of the Kafka broker's jars (the classpath the broker runs with)."""
    return _fetch_jars(settings, "kafka", "kafka", f"Apache Kafka {versions()['KAFKA_VERSION']}")


def spark_jars(settings: Settings) -> Path:
    """The folder of Spark's Kafka source jars (common/spark.py puts them on Spark's classpath)."""
    return _fetch_jars(settings, "spark", "spark", f"Spark's Kafka source {versions()['SPARK_VERSION']}")


# --- Elasticsearch ------------------------------------------------------------------
def _extract_zip(zip_path: Path, dest: Path) -> None:
    """Unzip keeping the executable bits (Python's zipfile drops them)."""
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            out = zf.extract(info, dest)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(out, mode)


def es_home(settings: Settings) -> Path:
    """Where the Elasticsearch distribution is (or will be) unpacked."""
    return settings.downloads_dir / f"elasticsearch-{versions()['ES_VERSION']}"


def fetch_elasticsearch(settings: Settings) -> Path:
    """The Elasticsearch home, downloaded (zip from Maven Central) and unpacked if missing."""
    home = es_home(settings)
    if (home / "bin" / "elasticsearch").exists():
        return home
    version = versions()["ES_VERSION"]
    downloads = settings.downloads_dir / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    # the zip may be there already (make offline-setup puts it there from the bundle,
    # see tools/bundle.py): then only unpack it, with no Maven and no network
    if (downloads / f"elasticsearch-{version}.zip").exists():
        say(f"  unpacking Elasticsearch {version} from {downloads} ...")
    else:
        say(f"  fetching Elasticsearch {version} from Maven Central (once, ~100 MB) ...")
        _mvn(None, ["dependency:copy",
                    f"-Dartifact=org.elasticsearch.distribution.integ-test-zip:elasticsearch:{version}:zip",
                    f"-DoutputDirectory={downloads}"], f"Elasticsearch {version}")
    zip_path = downloads / f"elasticsearch-{version}.zip"
    check_checksum(zip_path, f"downloads/{zip_path.name}", pinned_checksums())
    tmp = settings.downloads_dir / "es-unpack"
    shutil.rmtree(tmp, ignore_errors=True)
    _extract_zip(zip_path, tmp)
    (tmp / f"elasticsearch-{version}").rename(home)
    shutil.rmtree(tmp, ignore_errors=True)
    return home


def fetch(settings: Settings | None = None) -> None:
    """Fetch everything the engines need; quick when it is all there already."""
    s = settings or get_settings()
    kafka_jars(s)
    spark_jars(s)
    fetch_elasticsearch(s)
    ensure_redis_installed()
