"""The one versions file (services/versions.env) agrees with everything that pins a version."""
from __future__ import annotations

import json
import re
import tomllib

import pytest

from common.config import REPO_ROOT
from services import versions

V = versions()


def _pins() -> dict[str, str]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    deps = project["dependencies"] + [d for extra in project["optional-dependencies"].values() for d in extra]
    return dict(d.split("==", 1) for d in deps)


def test_python_pins_match_engines():
    pins = _pins()
    assert pins["pyspark"] == V["SPARK_VERSION"], "pyspark must equal the Spark Kafka connector version"
    assert pins["elasticsearch"].split(".")[0] == V["ES_VERSION"].split(".")[0] == V["ES_CLIENT_MAJOR"]


def test_every_python_dependency_is_pinned():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    for dep in project["dependencies"]:
        assert "==" in dep, f"{dep} is not pinned"


def test_maven_descriptor_takes_versions_from_the_versions_file():
    pom = (REPO_ROOT / "services" / "pom.xml").read_text()
    # no literal engine version in the descriptor: they arrive with -D from versions.env
    assert "${kafka.version}" in pom and "${spark.version}" in pom and "${scala.binary}" in pom
    for key in ("KAFKA_VERSION", "SPARK_VERSION"):
        assert f">{V[key]}<" not in pom


def test_compose_file_uses_the_same_versions():
    compose = (REPO_ROOT / "docker-compose.yml").read_text()
    assert f"apache/kafka:{V['KAFKA_VERSION']}" in compose
    for image in ("elasticsearch/elasticsearch", "kibana/kibana", "logstash/logstash"):
        assert f"{image}:{V['ES_VERSION']}" in compose
    assert f"redis:{V['REDIS_MAJOR']}" in compose


def test_dashboard_packages_are_pinned_exactly_and_match():
    pkg_path = REPO_ROOT / "03.stage4" / "package.json"
    if not pkg_path.exists():
        pytest.fail("03.stage4/package.json is missing")
    pkg = json.loads(pkg_path.read_text())
    deps = {**pkg.get("dependencies", {}), **pkg.get("devDependencies", {})}
    for name, spec in deps.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", spec), f"{name}@{spec} is not an exact version"
        key = "NPM_" + re.sub(r"[^A-Za-z0-9]", "_", name.lstrip("@")).upper()
        assert V.get(key) == spec, f"services/versions.env should say {key}={spec}"
    es_client = deps.get("@elastic/elasticsearch")
    assert es_client and es_client.split(".")[0] == V["ES_CLIENT_MAJOR"]
    assert pkg.get("engines", {}).get("node", "").lstrip(">=^~ ").split(".")[0] == V["NODE_MAJOR"]
