"""01.stage2/logstash_stage2.conf agrees with common/ (columns, topic, key, paths)."""
import re

from common.config import REPO_ROOT, Settings
from common.schema import EVENT_COLUMNS

CONF = (REPO_ROOT / "01.stage2" / "logstash_stage2.conf").read_text()


def setting(name: str) -> str:
    match = re.search(rf'^\s*{name}\s*=>\s*"([^"]*)"', CONF, re.MULTILINE)
    assert match, f"{name} missing"
    return match.group(1)


def env_default(value: str, var: str) -> str:
    match = re.fullmatch(rf"\$\{{{var}:(.*)\}}", value)
    assert match, f"{value!r} should be ${{{var}:default}}"
    return match.group(1)


def test_csv_columns_are_the_shared_event_columns():
    columns = re.search(r"columns\s*=>\s*\[([^\]]*)\]", CONF).group(1)
    assert re.findall(r'"([^"]+)"', columns) == EVENT_COLUMNS


def test_kafka_output_matches_the_settings_defaults():
    default = {name: field.default for name, field in Settings.model_fields.items()}   # not the environment
    assert env_default(setting("topic_id"), "KAFKA_TOPIC") == default["kafka_topic"]
    assert env_default(setting("bootstrap_servers"), "KAFKA_BOOTSTRAP_SERVERS") == \
        f"{default['bind_host']}:{default['kafka_port']}"
    assert setting("acks") == "all"


def test_keyed_by_customer_and_message_sent_unchanged():
    assert setting("message_key") == "%{customer_id}" and "customer_id" in EVENT_COLUMNS
    assert re.search(r'codec\s*=>\s*plain\s*\{\s*format\s*=>\s*"%\{message\}"\s*\}', CONF)


def test_paths_come_from_the_environment_without_defaults():
    """Logstash's file input wants absolute paths: no relative default, a missing variable stops it.
    (tests/unit/test_docker_compose.py renders them with the compose file's environment.)"""
    assert setting("path") == "${LIVE_FILE}"
    assert setting("sincedb_path") == "${SINCEDB_DIR}/logstash_stage2.sincedb"
