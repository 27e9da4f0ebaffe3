"""``make doctor``: check this machine before anything starts, and say what to fix.

Checks Python, a JDK 17+ (Kafka, Spark) and a JDK 21+ (Elasticsearch 9), Maven,
Node.js, free ports, free memory and disk, CPU architecture, ``vm.max_map_count``
and whether the package registries the set-up needs answer. Exits 1 when
something must be fixed first; warnings alone exit 0.
"""
from __future__ import annotations

import platform
import shutil
import sys
import urllib.request

import services
from common.config import get_settings

OK, WARN, FAIL = "ok  ", "warn", "FAIL"
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
    mb = services.available_memory_mb()
    if mb is None:
        out.append((WARN, "memory", "could not read /proc/meminfo"))
    else:
        out.append((OK if mb >= 4000 else WARN, "memory", f"{mb} MB available (engines + Spark want ~4 GB)"))
    free_gb = shutil.disk_usage(s.runtime_dir.parent).free / 1e9
    out.append((OK if free_gb >= 4 else FAIL, "disk", f"{free_gb:.0f} GB free (need about 4 GB)"))
    arch = platform.machine()
    out.append((OK if arch in ("x86_64", "amd64", "aarch64", "arm64") else WARN, "CPU", f"{arch}, "
                f"{__import__('os').cpu_count()} cores"))
    mmc = services.max_map_count()
    if mmc is not None:
        out.append((OK if mmc >= 262144 else WARN, "vm.max_map_count",
                    f"{mmc}" + ("" if mmc >= 262144 else " (low: the node runs without mmap; for production "
                                "speed: sudo sysctl -w vm.max_map_count=262144)")))
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
