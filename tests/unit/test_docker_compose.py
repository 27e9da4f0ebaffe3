"""docker-compose.yml as far as a machine without a Docker engine can check it.

* ``docker-compose config`` validates the file (the Debian ``docker-compose``
  package, installed by ``make setup-test``; the test fails without it, never skips);
* both Logstash pipelines are rendered with the environment their compose service
  gives them, substituting ``${VAR}`` / ``${VAR:default}`` as Logstash does: every
  variable is set, every path is absolute and inside a mount of that container,
  every host is a compose service on a port it listens on.

Field names and columns are checked in test_logstash_kibana.py and test_logstash_stage2.py.
No container runs here: that the images start and the pipelines run is not checked.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import pytest
import yaml

from common.config import REPO_ROOT, Settings
from stage1.logstash_dictionaries import DICTIONARIES, dictionaries_dir

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
COMPOSE = yaml.safe_load(COMPOSE_FILE.read_text())
SERVICES = COMPOSE["services"]
DEFAULTS = Settings.model_construct()          # the default settings, not this shell's environment
PIPELINES = {"logstash-stage1": REPO_ROOT / "00.stage1" / "logstash_stage1.conf",
             "logstash-stage2": REPO_ROOT / "01.stage2" / "logstash_stage2.conf"}
# Logstash's own pattern for ${VAR} and ${VAR:default}
VARIABLE = re.compile(r"\$\{([A-Za-z_.][A-Za-z0-9_.]*)(?::([^}]*))?\}")


def test_docker_compose_config_validates_the_file():
    binary = shutil.which("docker-compose")
    if not binary:
        pytest.fail("docker-compose is not installed: run make setup-test (or apt-get install docker-compose)")
    res = subprocess.run([binary, "-f", str(COMPOSE_FILE), "config", "-q"], cwd=REPO_ROOT,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr


def render(conf: str, env: dict[str, str]) -> str:
    """The pipeline as Logstash sees it: comments dropped, variables substituted."""
    def value(m: re.Match) -> str:
        name, default = m.group(1), m.group(2)
        assert name in env or default is not None, f"${{{name}}} is not set and has no default"
        return env.get(name, default)

    code = "\n".join(l for l in conf.splitlines() if not l.strip().startswith("#"))
    return VARIABLE.sub(value, code)


def mounts(service: dict) -> dict[PurePosixPath, str]:
    """Container path -> host source (a repository path, or a named volume's name)."""
    out = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        out[PurePosixPath(target)] = source
    return out


def host_path(path: str, service: dict) -> tuple[str, Path | None]:
    """Where a container path lives: (mount source, host path for a bind mount, else None)."""
    p = PurePosixPath(path)
    assert p.is_absolute(), f"{path} is not absolute"
    for target, source in mounts(service).items():
        if p == target or target in p.parents:
            if source.startswith("."):
                return source, (REPO_ROOT / source / p.relative_to(target)).resolve()
            assert source in COMPOSE.get("volumes", {}), f"{source} is not a declared volume"
            return source, None
    pytest.fail(f"{path} is not inside any mount of the container")


def settings_of(name: str) -> tuple[dict, str]:
    service = SERVICES[name]
    env = {k: str(v) for k, v in service["environment"].items()}
    return service, render(PIPELINES[name].read_text(), env)


@pytest.mark.parametrize("name", PIPELINES)
def test_service_runs_its_pipeline_file_from_a_mount(name):
    service = SERVICES[name]
    assert service["profiles"] == [name]                 # started only when asked for
    command = service["command"]
    config = command[command.index("-f") + 1]
    assert host_path(config, service)[1] == PIPELINES[name]


@pytest.mark.parametrize("name", PIPELINES)
def test_every_path_is_absolute_and_mounted(name):
    service, code = settings_of(name)
    found = re.findall(r'^\s*(path|sincedb_path|dictionary_path)\s*=>\s*"([^"]+)"', code, re.MULTILINE)
    where = {path: host_path(path, service) for _, path in found}     # absolute, inside a mount
    paths = {kind: [p for k, p in found if k == kind] for kind in ("path", "sincedb_path", "dictionary_path")}
    # the live file the stages' generator writes on the host
    assert [where[p][1] for p in paths["path"]] == [DEFAULTS.live_file.resolve()]
    # the sincedb is written: a named volume (owned by Logstash's user), not read-only
    (sincedb,) = paths["sincedb_path"]
    source = where[sincedb][0]
    assert where[sincedb][1] is None and f"{source}:{PurePosixPath(sincedb).parent}" in service["volumes"]
    # the zip tables make es-templates writes (stage 1 only)
    for path in paths["dictionary_path"]:
        assert where[path][1].parent == dictionaries_dir(DEFAULTS).resolve()
        assert PurePosixPath(path).name in {f"zip_{d}.yml" for d in DICTIONARIES}
    assert len(paths["dictionary_path"]) == (len(DICTIONARIES) if name == "logstash-stage1" else 0)


def _listens(service: str, port: int) -> bool:
    env = SERVICES[service].get("environment", {})
    if "KAFKA_LISTENERS" in env:          # and the address it advertises for that listener
        listeners = dict(re.findall(r"(\w+)://[^:,]*:(\d+)", env["KAFKA_LISTENERS"]))
        advertised = dict(re.findall(r"(\w+)://([^,]+)", env["KAFKA_ADVERTISED_LISTENERS"]))
        return any(int(p) == port and advertised.get(n) == f"{service}:{port}" for n, p in listeners.items())
    return any(str(spec).endswith(f":{port}") for spec in SERVICES[service].get("ports", []))


@pytest.mark.parametrize("name", PIPELINES)
def test_every_host_is_a_compose_service_the_pipeline_waits_for(name):
    service, code = settings_of(name)
    urls = re.findall(r'hosts\s*=>\s*\["([^"]+)"\]', code)
    urls += [f"kafka://{s}" for s in re.findall(r'bootstrap_servers\s*=>\s*"([^"]+)"', code)]
    assert urls
    for url in urls:
        host, port = urlsplit(url).hostname, urlsplit(url).port
        assert host in SERVICES and host in service["depends_on"], url
        assert _listens(host, port), f"{host} does not listen on {port} for other containers"


def test_kafka_is_reachable_from_the_host_with_the_default_settings():
    env = SERVICES["kafka"]["environment"]
    assert f"://{DEFAULTS.bind_host}:{DEFAULTS.kafka_port}" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert f"{DEFAULTS.bind_host}:{DEFAULTS.kafka_port}:9092" in SERVICES["kafka"]["ports"]
    assert "ENGINES=external make" in COMPOSE_FILE.read_text()     # the documented usage
