"""What the service manager needs to know about this machine.

Ports, whether a process still runs and what its command line is, the runtime
folders, whether a bind address is loopback, the JDKs installed, free memory,
``vm.max_map_count``, installing ``redis-server`` with apt-get and the dedicated
user Elasticsearch runs as when we are root. Nothing here starts
an engine; try the pieces on their own:

    python -c "from services.system import find_jdk; print(find_jdk(17, 'Kafka'))"
    python -c "from services.system import available_memory_mb; print(available_memory_mb())"
"""
from __future__ import annotations

import ipaddress
import os
import platform
import pwd
import re
import shutil
import socket
import stat
import subprocess
import time
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


EMPTY_CMDLINE_RETRIES = 20      # x 10 ms: longer than any execve window


def process_cmdline(pid: int) -> str | None:
    """The command line of process ``pid`` (arguments joined by spaces), or None if unreadable."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        # While a process runs execve (spark-class execs its JVM, env execs bash), the kernel
        # briefly shows an empty command line: read again for a moment before believing it.
        for _ in range(EMPTY_CMDLINE_RETRIES):
            if raw:
                break
            time.sleep(0.01)
            raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        return raw.replace(b"\0", b" ").decode(errors="replace").strip() or None
    except FileNotFoundError:
        if Path("/proc/self").exists():
            return None                      # Linux: the process is gone
    except OSError:
        return None
    try:                                     # no /proc (macOS): ask ps
        out = subprocess.run(["ps", "-p", str(pid), "-o", "command="], capture_output=True, text=True,
                             timeout=5).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out or None


def cmdline_matches(cmdline: str | None, markers: list[str]) -> bool:
    """True if each of ``markers`` (the engine's main class, its config file, its port)
    ends an argument of ``cmdline``: ``:6379`` matches ``redis-server 127.0.0.1:6379``,
    not ``127.0.0.1:63790``. A pid file alone is not trusted: after the engine exits,
    the kernel may give its pid to any other process."""
    return cmdline is not None and all(re.search(re.escape(m) + r"(\s|$)", cmdline) for m in markers)


def write_pid_file(path: Path, pid: int) -> None:
    """Write ``pid`` to ``path``, owned by us and writable by no one else (0644, atomic)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "w") as fh:
        fh.write(str(pid))
    os.replace(tmp, path)


def tail(path: Path, n: int = 15) -> str:
    """The last ``n`` lines of a log, indented, for an error message."""
    if path.is_symlink():                   # Elasticsearch's log folder belongs to its user
        return f"(not read: {path} is a symbolic link)"
    if not path.exists():
        return f"(no log at {path})"
    lines = path.read_text(errors="replace").splitlines()[-n:]
    return "\n".join("    " + l for l in lines)


def run_dir(s: Settings) -> Path:
    """``.runtime/run/``: one pid file per engine this project started."""
    d = s.runtime_dir / "run"
    d.mkdir(mode=0o755, parents=True, exist_ok=True)
    return d


def secure_run_dir(s: Settings) -> None:
    """Make ``run/`` ours and writable by no one else (called before an engine starts).

    ``down`` signals the pids written there, so whoever can write them can make ``down``
    signal any process. Earlier versions gave this folder to the Elasticsearch user."""
    d = run_dir(s)
    st = d.lstat()
    try:
        if st.st_uid != os.geteuid():
            os.chown(d, os.geteuid(), os.getegid())
        if stat.S_IMODE(st.st_mode) & 0o022:
            os.chmod(d, 0o755)
    except PermissionError:
        raise ServiceError(f"{d} belongs to another user (uid {st.st_uid}), who could make `down` signal any "
                           f"process: stop the engines it lists, then remove it (sudo rm -r {d})") from None


def log_dir(s: Settings) -> Path:
    """``.runtime/logs/``: every engine's log."""
    d = s.runtime_dir / "logs"
    d.mkdir(parents=True, exist_ok=True)
    return d


def pid_file(s: Settings, name: str) -> Path:
    """Where the pid of engine ``name`` is written when this project starts it."""
    return run_dir(s) / f"{name}.pid"


# --- binding beyond loopback ------------------------------------------------------
def is_loopback(host: str) -> bool:
    """True for 127.0.0.1 (any 127.x), ::1 and localhost: reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False                         # a host name: it may resolve to anything


def check_bind(host: str, allowed: bool) -> str | None:
    """None on loopback; a loud warning if ``host`` is wider and ALLOW_REMOTE_BIND=yes;
    otherwise raises. Elasticsearch (security off), Redis and Kafka run here without any
    authentication: bound beyond loopback, anyone who reaches the port reads and deletes."""
    if is_loopback(host):
        return None
    risk = (f"BIND_HOST={host} makes Elasticsearch, Redis and Kafka reachable from other machines, "
            "and they run with NO authentication here: anyone who reaches the ports can read, change "
            "and delete all data")
    if not allowed:
        raise ServiceError(f"{risk}. Refused: set BIND_HOST=127.0.0.1, or, on a network you trust "
                           "(behind a firewall), confirm with ALLOW_REMOTE_BIND=yes")
    return f"WARNING: {risk} (allowed by ALLOW_REMOTE_BIND=yes)"


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
def blocked_folder(path: Path, uid: int, gids: set[int]) -> Path | None:
    """The first of ``path`` and the folders above it that user ``uid`` (groups ``gids``)
    may not enter, or None when it can walk all the way down."""
    if uid == 0:
        return None
    for folder in [*reversed(path.parents), path]:
        if not folder.exists():
            return None                      # created later by us, mode 755
        st = folder.stat()
        if st.st_uid == uid:
            bit = stat.S_IXUSR
        elif st.st_gid in gids:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            return folder
    return None


def es_user_blocked(paths: list[Path], uid: int, gids: set[int]) -> str | None:
    """Why user ``uid`` cannot reach one of ``paths`` (a sentence with the fix), or None."""
    for path in paths:
        blocked = blocked_folder(path, uid, gids)
        if blocked is not None:
            mode = stat.S_IMODE(blocked.stat().st_mode)
            return (f"Elasticsearch runs as the user {ES_USER} (it refuses root), and {ES_USER} cannot enter "
                    f"{blocked} (mode {mode:o}), which leads to {path}. This project changes no permission "
                    "outside its folder: move the project (or set RUNTIME_DIR and DOWNLOADS_DIR) under a "
                    f"folder others may enter (e.g. /srv/workshop), or allow it yourself: chmod o+x {blocked}")
    return None


def es_user_prefix(own: list[Path], reach: list[Path]) -> list[str]:
    """Elasticsearch will not run as root: run it as a dedicated system user.

    As root: creates ``ES_USER`` if needed, gives it the folders ``own`` (its data, logs
    and config, nothing else) and returns the ``runuser`` command prefix; as anyone else:
    returns ``[]`` (run as yourself). Every folder in ``own`` and ``reach`` (the
    distribution, read only) must be reachable by that user.
    """
    if os.geteuid() != 0:
        return []
    try:
        user = pwd.getpwnam(ES_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", ES_USER],
                       check=True)
        user = pwd.getpwnam(ES_USER)
    # We change no permission outside the project's folders: widening a home folder such as
    # /root (0700) would open it to every user of the machine. Nor do we move the node's files
    # elsewhere behind the learner's back (make reset must find them). We stop and say what to do.
    problem = es_user_blocked([*(p.parent for p in own), *reach], user.pw_uid,
                              set(os.getgrouplist(ES_USER, user.pw_gid)))
    if problem:
        raise ServiceError(problem)
    for p in own:
        # -R without -L: a symbolic link inside is changed, never followed
        subprocess.run(["chown", "-R", f"{ES_USER}:", str(p)], check=True)
    return ["runuser", "-u", ES_USER, "--"]
