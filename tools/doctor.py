"""``make doctor``: check this machine before anything starts, and say what to fix.

Checks Python, a JDK 17+ (Kafka, Spark) and a JDK 21+ (Elasticsearch 9), Maven,
Node.js, free ports, free memory and disk, CPU architecture, ``vm.max_map_count``
whether the package registries the set-up needs answer, and the security and
housekeeping points: ``.env`` readable by you only, engines bound to loopback
(or confirmed with ``ALLOW_REMOTE_BIND=yes``), the pid files writable by you only,
and how big ``.runtime/`` has grown. Exits 1 when something must be fixed first;
warnings alone exit 0.
"""
from __future__ import annotations

import os
import platform
import pwd
import shutil
import sys
import urllib.request
from pathlib import Path

import services
from common.config import Settings, env_file_warning, get_settings
from services.elasticsearch_node import mmap_enough
from services.system import ES_USER, check_bind, es_user_blocked

OK, WARN, FAIL = "ok  ", "warn", "FAIL"

# The peak memory (PSS) of a live `make demo` with the default settings, every process at one
# instant (engines, Spark JVMs and Python workers, shipper, generator, SMS sender, dashboard),
# measured with `make memory` (tools/memwatch.py) on the project's 2-core machine on 2026-11-29:
# 2,951 and 2,889 MiB in two runs with retraining rounds every 60 s, which run inside the
# streaming job's JVM (stage3.retrainer). The table and how to lower it are in
# docs/memory.md. Measure again (make memory) when the defaults change.
DEMO_PEAK_MIB = 2960
MEMORY_SETTINGS = "ES_HEAP, KAFKA_HEAP, SPARK_DRIVER_MEMORY"
REGISTRIES = {
    "PyPI": "https://pypi.org/simple/pip/",
    "Maven Central": "https://repo.maven.apache.org/maven2/junit/junit/4.13.2/junit-4.13.2.pom",
    "npm registry": "https://registry.npmjs.org/express",
}


def _reachable(url: str) -> bool:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=8):
            return True
    except Exception:     # any failure means "not reachable" for this check
        return False


def folder_bytes(path: Path) -> int:
    """Bytes in the files under ``path`` (symbolic links not followed)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass                       # removed while we walked
    return total


def runtime_sizes(s: Settings) -> dict[str, int]:
    """Bytes per entry of ``.runtime/`` (engine data, logs, checkpoints ...), downloads left out."""
    downloads = {s.downloads_dir / n for n in ("jars", "downloads", "offline-bundle")}
    downloads |= set(s.downloads_dir.glob("elasticsearch-*"))
    sizes = {}
    for entry in sorted(s.runtime_dir.iterdir()) if s.runtime_dir.is_dir() else []:
        if entry in downloads:
            continue
        sizes[entry.name] = folder_bytes(entry) if entry.is_dir() and not entry.is_symlink() else entry.lstat().st_size
    return sizes


def runtime_check(s: Settings) -> tuple[str, str, str]:
    sizes = runtime_sizes(s)
    total = sum(sizes.values())
    largest = ", ".join(f"{name} {size / 1e9:.1f} GB" for name, size in
                        sorted(sizes.items(), key=lambda kv: -kv[1])[:4])
    if total <= s.runtime_warn_gb * 1e9:
        return OK, ".runtime size", f"{total / 1e9:.1f} GB (downloads aside)"
    return WARN, ".runtime size", (f"{total / 1e9:.1f} GB, over RUNTIME_WARN_GB={s.runtime_warn_gb:g} "
                                   f"(largest: {largest}): make reset wipes data, checkpoints and offsets")


def _es_user():
    """The Elasticsearch user, or before it exists "nobody" (no extra groups either)."""
    for name in (ES_USER, "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
    return None


def security_checks(s: Settings) -> list[tuple[str, str, str]]:
    out = []
    warning = env_file_warning()
    out.append((WARN, ".env", warning) if warning else (OK, ".env", "readable by you only (or absent)"))
    try:
        remote = check_bind(s.bind_host, s.allow_remote_bind)
        out.append((WARN, "BIND_HOST", remote) if remote else (OK, "BIND_HOST", f"{s.bind_host} (loopback)"))
    except services.ServiceError as e:
        out.append((FAIL, "BIND_HOST", str(e)))
    if os.geteuid() == 0 and s.engines == "local":   # Elasticsearch will run as its own user: can it reach .runtime/?
        user = _es_user()
        if user is not None:
            problem = es_user_blocked([s.runtime_dir, s.downloads_dir], user.pw_uid,
                                      set(os.getgrouplist(user.pw_name, user.pw_gid)))
            out.append((FAIL, "ES user", problem) if problem else
                       (OK, "ES user", f"{ES_USER} can reach {s.runtime_dir} (no permission changed for it)"))
        home = services.es_home(s)
        if user is not None and user.pw_name == ES_USER and home.exists() and home.stat().st_uid == user.pw_uid:
            # earlier versions gave the distribution to that user; it only needs to read it
            out.append((WARN, "ES distribution", f"{home} is owned by {ES_USER}: with the engines stopped, "
                        f"chown -R root: {home}"))
    run = s.runtime_dir / "run"
    if run.is_dir():
        st = run.lstat()
        if st.st_uid != os.geteuid() or st.st_mode & 0o022:
            out.append((WARN, "pid files", f"{run} is writable by another user: the next engine start "
                        "makes it yours (mode 755)"))
        else:
            out.append((OK, "pid files", f"{run} writable by you only"))
    return out


def engines_running_mib(s: Settings) -> int:
    """Resident memory of the engines this project already runs (already taken from what is available)."""
    from tools.memwatch import engine_pids, read_process

    return sum((read_process(pid) or {"rss_kib": 0})["rss_kib"] for pid in engine_pids(s)) // 1024


def memory_check(available_mib: int | None, engines_mib: int = 0,
                 budget_mib: int = DEMO_PEAK_MIB) -> tuple[str, str, str]:
    """Warn when `make demo`'s measured peak does not fit in the memory available
    (the engines already running count as fitted: their memory is taken already)."""
    if available_mib is None:
        return WARN, "memory", "could not read /proc/meminfo"
    need = max(budget_mib - engines_mib, 0)
    running = f", of which the running engines hold {engines_mib} MiB already" if engines_mib else ""
    if available_mib >= need:
        return OK, "memory", f"{available_mib} MiB available; make demo peaks at {budget_mib} MiB{running}"
    return WARN, "memory", (f"{available_mib} MiB available, but make demo peaks at {budget_mib} MiB{running} "
                            f"(measured with make memory, docs/memory.md): close other programs or lower "
                            f"{MEMORY_SETTINGS} in .env (docs/memory.md); an engine killed with exit 137 "
                            "ran out of memory")


def checks() -> list[tuple[str, str, str]]:
    s = get_settings()
    out: list[tuple[str, str, str]] = []
    v = sys.version_info
    out.append((OK if v >= (3, 11) else FAIL, "Python", f"{platform.python_version()}"
                + ("" if v >= (3, 11) else " (need 3.11+)")))
    for need, purpose in ((17, "Kafka and Spark"), (21, "Elasticsearch 9")):
        try:
            home = services.find_jdk(need, purpose)
            out.append((OK, f"JDK {need}+", f"{home} for {purpose}"))
        except services.ServiceError as e:
            out.append((FAIL, f"JDK {need}+", str(e)))
    for tool, fix in (("mvn", "apt-get install maven / brew install maven"),
                      ("node", "install Node.js 20"), ("npm", "install Node.js 20 (npm comes with it)")):
        path = shutil.which(tool)
        out.append((OK if path else FAIL, tool, path or f"not found: {fix}"))
    redis = shutil.which("redis-server")
    out.append((OK if redis else WARN, "redis-server", redis or "not installed yet: services-up installs it "
                "with apt-get (as root) or run: sudo apt-get install redis-server / brew install redis"))
    for name in services.ENGINES:
        eng = services.ENGINE_TABLE[name]
        port = eng.port(s)
        busy = services.port_open(s.bind_host, port)
        ours = services.our_pid(s, name) is not None
        if not busy or ours:
            out.append((OK, f"port {port}", f"{name}: " + ("ours, running" if ours else "free")))
        else:
            out.append((FAIL, f"port {port}", f"{name}: in use by another process: stop it or set {eng.port_env}"))
    out.append(memory_check(services.available_memory_mb(), engines_running_mib(s)))
    free_gb = shutil.disk_usage(s.runtime_dir.parent).free / 1e9
    out.append((OK if free_gb >= 4 else FAIL, "disk", f"{free_gb:.0f} GB free (need about 4 GB)"))
    arch = platform.machine()
    out.append((OK if arch in ("x86_64", "amd64", "aarch64", "arm64") else WARN, "CPU", f"{arch}, "
                f"{__import__('os').cpu_count()} cores"))
    mmc = services.max_map_count()
    if mmc is not None:
        if not mmap_enough(mmc):
            out.append((WARN, "vm.max_map_count", f"{mmc} (low: the node runs without mmap, slower; "
                                                  "sudo sysctl -w vm.max_map_count=262144)"))
        elif mmc < 262144:
            out.append((OK, "vm.max_map_count",
                        f"{mmc} (enough for the workshop's indices; a production node wants 262144)"))
        else:
            out.append((OK, "vm.max_map_count", f"{mmc}"))
    out.append(runtime_check(s))
    out += security_checks(s)
    for name, url in REGISTRIES.items():
        ok = _reachable(url)
        out.append((OK if ok else WARN, name, "reachable" if ok else
                    "not reachable: first-time downloads will fail (proxy? offline?)"))
    return out


def main() -> int:
    results = checks()
    for status, what, detail in results:
        print(f"  [{status}] {what:<17} {detail}")
    failed = [r for r in results if r[0] == FAIL]
    print("==> " + ("fix the FAIL lines above first" if failed else "this machine is ready: make demo"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
