"""What the service manager needs to know about this machine.

Ports, whether a process still runs, the runtime folders, the JDKs installed,
free memory, ``vm.max_map_count``, installing ``redis-server`` with apt-get and
the dedicated user Elasticsearch runs as when we are root. Nothing here starts
an engine; try the pieces on their own:

    python -c "from services.system import find_jdk; print(find_jdk(17, 'Kafka'))"
    python -c "from services.system import available_memory_mb; print(available_memory_mb())"
"""
from __future__ import annotations

import os
import platform
import pwd
import re
import shutil
import socket
import subprocess
from pathlib import Path

from common.config import Settings

ES_USER = "workshop-es"          # Elasticsearch refuses to run as root


class ServiceError(RuntimeError):
    """A failure with a one-line message that says what went wrong and how to fix it."""


def say(msg: str) -> None:
    """Print a progress line at once (the CLI's output is read while it waits)."""
    print(msg, flush=True)


# --- processes, ports, logs -----------------------------------------------------
def port_open(host: str, port: int) -> bool:
    """True if something accepts connections on ``host:port``."""
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def pid_alive(pid: int) -> bool:
    """True if process ``pid`` exists and has not exited."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie (exited, not yet reaped) is not alive
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return True


def tail(path: Path, n: int = 15) -> str:
    """The last ``n`` lines of a log, indented, for an error message."""
    if not path.exists():
        return f"(no log at {path})"
    lines = path.read_text(errors="replace").splitlines()[-n:]
    return "\n".join("    " + l for l in lines)


def run_dir(s: Settings) -> Path:
    """``.runtime/run/``: one pid file per engine this project started."""
    d = s.runtime_dir / "run"
    d.mkdir(parents=True, exist_ok=True)
    return d


def log_dir(s: Settings) -> Path:
    """``.runtime/logs/``: every engine's log."""
    d = s.runtime_dir / "logs"
    d.mkdir(parents=True, exist_ok=True)
    return d


def pid_file(s: Settings, name: str) -> Path:
    """Where the pid of engine ``name`` is written when this project starts it."""
    return run_dir(s) / f"{name}.pid"


# --- Java -----------------------------------------------------------------------
def java_major(java: Path | str) -> int | None:
    """Major version of a ``java`` binary (17 for 17.0.15), or None if it does not run."""
    try:
        out = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=30).stderr
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not m:
        return None
    major = int(m.group(1))
    return int(m.group(2)) if major == 1 else major   # "1.8" -> 8


def _jdk_candidates() -> list[Path]:
    """JDK homes in order of preference: ES_JAVA_HOME, JAVA_HOME, the ``java`` on
    PATH (the machine's default JDK), then the usual install folders."""
    homes = [os.environ.get(v) for v in ("ES_JAVA_HOME", "JAVA_HOME")]
    cands = [Path(h) for h in homes if h]
    which = shutil.which("java")
    if which:
        cands.append(Path(which).resolve().parent.parent)
    for pattern in ("/usr/lib/jvm/*", "/Library/Java/JavaVirtualMachines/*/Contents/Home", "/opt/java/*"):
        cands += sorted(Path("/").glob(pattern.lstrip("/")), reverse=True)
    seen, out = set(), []
    for c in cands:
        if c not in seen and (c / "bin" / "java").exists():
            seen.add(c)
            out.append(c)
    return out


def find_jdk(min_major: int, purpose: str) -> Path:
    """The home of a JDK with at least ``min_major``; the newest-listed first."""
    found = []
    for home in _jdk_candidates():
        major = java_major(home / "bin" / "java")
        if major is not None:
            found.append(f"{home} ({major})")
            if major >= min_major:
                return home
    have = ", ".join(found) or "none"
    raise ServiceError(
        f"{purpose} needs a JDK {min_major}+ but found {have}: install one "
        f"(Debian/Ubuntu: apt-get install openjdk-{min_major}-jdk-headless, or Temurin {min_major}+; "
        f"macOS: brew install openjdk@{min_major}) and point ES_JAVA_HOME/JAVA_HOME at it")


# --- memory -----------------------------------------------------------------------
def available_memory_mb() -> int | None:
    """MemAvailable from /proc/meminfo, or None where there is none (macOS)."""
    try:
        info = dict(l.split(":", 1) for l in Path("/proc/meminfo").read_text().splitlines())
        return int(info["MemAvailable"].split()[0]) // 1024
    except (OSError, KeyError, ValueError):
        return None


def max_map_count() -> int | None:
    """The kernel's ``vm.max_map_count`` (Elasticsearch wants 262144), or None off Linux."""
    try:
        return int(Path("/proc/sys/vm/max_map_count").read_text())
    except (OSError, ValueError):
        return None


# --- Redis from the OS packages ---------------------------------------------------------
def ensure_redis_installed() -> str:
    """The path of ``redis-server``; as root on Debian/Ubuntu, installs it with apt-get."""
    found = shutil.which("redis-server")
    if found:
        return found
    system = platform.system()
    if system == "Darwin":
        raise ServiceError("redis-server is not installed: run  brew install redis  then make services-up")
    if not Path("/etc/debian_version").exists():
        raise ServiceError("redis-server is not installed: install Redis 7 with your OS package manager")
    if os.geteuid() != 0:
        raise ServiceError("redis-server is not installed: run  sudo apt-get install -y redis-server  "
                           "then make services-up")
    say("  installing redis-server from the OS packages (apt-get) ...")
    # policy-rc.d stops the package from starting its own system-wide Redis on
    # port 6379: we run our own, with our config, under .runtime/.
    policy = Path("/usr/sbin/policy-rc.d")
    created = not policy.exists()
    if created:
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    try:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for cmd in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "redis-server"]):
            res = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if res.returncode != 0:
                raise ServiceError(f"apt-get could not install redis-server ({res.stderr.strip()[-200:]}): "
                                   "check the Debian package mirror and run apt-get install redis-server")
    finally:
        if created:
            policy.unlink()
    return shutil.which("redis-server") or "/usr/bin/redis-server"


# --- the Elasticsearch user -----------------------------------------------------------
def es_user_prefix(paths: list[Path]) -> list[str]:
    """Elasticsearch will not run as root: run it as a dedicated system user.

    As root: creates ``ES_USER`` if needed, gives it ``paths`` and returns the
    ``runuser`` command prefix; as anyone else: returns ``[]`` (run as yourself).
    """
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(ES_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", ES_USER],
                       check=True)
    for p in paths:
        subprocess.run(["chown", "-R", f"{ES_USER}:", str(p)], check=True)
    # the user must be able to walk down to .runtime/ (e.g. /root/... is 700)
    for parent in paths[0].parents:
        if parent == Path("/"):
            break
        mode = parent.stat().st_mode
        if not mode & 0o001:
            os.chmod(parent, mode | 0o001)
    return ["runuser", "-u", ES_USER, "--"]
