"""The dashboard (Node.js, 03.stage4) and the Python stages read one set of settings.

03.stage4/lib/config.js reads ``env.NAME`` for each of its settings; each NAME
must be the upper-case name of a field of ``common.config.Settings`` (so
``REDIS_SMS_SENT_COUNTER`` configures the counter for the SMS sender and the page
alike), and ``stage4.run_stage4`` passes every one of them from the settings.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from common.config import REPO_ROOT, Settings
from stage4.run_stage4 import CONFIG_JS, dashboard_env, server_env_names

STAGE4 = REPO_ROOT / "03.stage4"
# Names the dashboard may read that are not Python settings. Empty on purpose:
# DASHBOARD_REFRESH_MS and DASHBOARD_WINDOW_MINUTES are settings too, so they
# can live in .env with the rest. Add a name here only with a reason.
DASHBOARD_ONLY: frozenset[str] = frozenset()


def test_the_parser_finds_the_names_in_the_code_not_in_comments():
    names = server_env_names()
    assert {"ES_URL", "REDIS_URL", "INDEX_STAGE3", "REDIS_SMS_SENT_COUNTER"} <= set(names), names
    assert "REDIS_SMS_SENT_KEY" not in names
    assert "NAME" not in names                      # the header comment's `env.NAME`


@pytest.mark.parametrize("name", server_env_names())
def test_every_name_the_dashboard_reads_is_a_python_setting(name):
    assert name.lower() in Settings.model_fields or name in DASHBOARD_ONLY, (
        f"03.stage4/lib/config.js reads {name}, but common.config.Settings has no field "
        f"{name.lower()!r}: use the Python setting's upper-case name")


def test_only_lib_config_reads_the_environment():
    code = [*STAGE4.glob("*.js"), *(STAGE4 / "lib").glob("*.js"), *(STAGE4 / "public").glob("*.js")]
    readers = [p.relative_to(STAGE4).as_posix() for p in code if "process.env" in p.read_text()]
    assert readers == ["lib/config.js"], readers
    assert not re.search(r"\benv\s*\[", CONFIG_JS.read_text()), "read settings as env.NAME (run_stage4.py looks for them)"


def test_the_dashboards_defaults_are_the_python_defaults():
    defaults = re.findall(r"\benv\.([A-Z][A-Z0-9_]*)\s*\|\|\s*(?:'([^']*)'|(\d+))", CONFIG_JS.read_text())
    assert len(defaults) >= 10, defaults
    for name, text, number in defaults:
        field = Settings.model_fields.get(name.lower())
        if field is None or field.default in (None, ""):      # no field, or derived (ES_URL from ES_PORT ...)
            continue
        assert str(field.default) == (text or number), f"{name}: config.js {text or number!r}, Settings {field.default!r}"


def test_dashboard_env_passes_the_configured_settings_under_their_names():
    s = Settings(redis_sms_sent_counter="t:sms_sent", index_stage3="t_3", redis_offers_channel="t:offers",
                 dashboard_refresh_ms=500, es_ca_file=Path("/certs/ca.pem"), es_url="https://es.example:9200",
                 es_api_key=None, es_username=None, es_password=None)
    env = dashboard_env(s, 3101)
    assert env["REDIS_SMS_SENT_COUNTER"] == "t:sms_sent"
    assert env["INDEX_STAGE3"] == "t_3" and env["REDIS_OFFERS_CHANNEL"] == "t:offers"
    assert env["DASHBOARD_REFRESH_MS"] == "500" and env["DASHBOARD_PORT"] == "3101"
    assert env["ES_URL"] == "https://es.example:9200" and env["ES_CA_FILE"] == "/certs/ca.pem"
    assert not {"ES_API_KEY", "ES_USERNAME", "ES_PASSWORD"} & set(env), "unset credentials are not passed"
    assert set(env) == set(server_env_names()) - {"ES_API_KEY", "ES_USERNAME", "ES_PASSWORD"}
    assert all(isinstance(v, str) for v in env.values())

    with_key = dashboard_env(Settings(es_api_key="secret-key", es_username=None, es_password=None), 3000)
    assert with_key["ES_API_KEY"] == "secret-key"


@pytest.mark.parametrize("command", [["-m", "stage4.run_stage4"], ["03.stage4/run_stage4.py"]])
def test_the_launcher_runs_as_a_module_and_as_a_script(command):
    out = subprocess.run([sys.executable, *command, "--help"], cwd=REPO_ROOT, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert "--port" in out.stdout and "--duration" in out.stdout
