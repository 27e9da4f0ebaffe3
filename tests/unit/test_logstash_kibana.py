"""The Logstash pipeline and the Kibana saved objects are text; they must agree
with common/schema.py and common/config.py (names, columns, formats, fields)."""
import json
import re
from pathlib import Path

from common.config import Settings
from common.schema import (DEADLETTER_FIELDS, EVENT_COLUMNS, EVENT_DATETIME_JAVA,
                           STAGE1_DOC_FIELDS, es_mappings)

STAGE1 = Path(__file__).resolve().parents[2] / "00.stage1"
CONF = (STAGE1 / "logstash_stage1.conf").read_text()
DEFAULTS = {name: f.default for name, f in Settings.model_fields.items()}
STAGE1_FIELDS = set(es_mappings(STAGE1_DOC_FIELDS)["properties"])
CODE = "\n".join(l for l in CONF.splitlines() if not l.strip().startswith("#"))


def test_csv_columns_are_the_schema_columns():
    columns = re.search(r"columns\s*=>\s*(\[[^\]]*\])", CODE).group(1)
    assert json.loads(columns) == EVENT_COLUMNS


def test_date_filter_uses_the_shared_format_into_the_datetime_field():
    match = re.search(r'match\s*=>\s*\[\s*"datetime"\s*,\s*"([^"]+)"\s*\]', CODE)
    assert match and match.group(1) == EVENT_DATETIME_JAVA
    assert re.search(r'target\s*=>\s*"datetime"', CODE)


def test_outputs_go_to_the_configured_indices_with_event_id_as_document_id():
    indices = re.findall(r'index\s*=>\s*"\$\{(\w+):([^}]+)\}"', CODE)
    assert ("INDEX_STAGE1", DEFAULTS["index_stage1"]) in indices
    assert ("INDEX_DEADLETTER", DEFAULTS["index_deadletter"]) in indices
    assert 'document_id => "%{event_id}"' in CODE
    hosts = re.findall(r'hosts\s*=>\s*\["\$\{ES_URL:([^}]+)\}"\]', CODE)
    assert hosts and set(hosts) == {f"http://{DEFAULTS['bind_host']}:{DEFAULTS['es_port']}"}


def test_every_field_the_pipeline_writes_is_in_the_strict_mappings():
    converted = re.findall(r'"(\w+)"\s*=>\s*"integer"', CODE)
    targets = re.findall(r'target\s*=>\s*"(\w+)"', CODE)
    set_by_ruby = re.findall(r"event\.set\('(\w+)'", CODE)
    assert set(converted) | set(targets) | set(set_by_ruby) <= STAGE1_FIELDS | {f.name for f in DEADLETTER_FIELDS}
    assert set(targets) >= {"location", "state", "city"}
    whitelist = re.findall(r'"\^(\w+)\$"', CODE)
    assert set(whitelist) == {f.name for f in DEADLETTER_FIELDS}


def test_file_input_keeps_a_sincedb_under_runtime():
    assert re.search(r'sincedb_path\s*=>\s*"\$\{WORKSHOP_DIR\}/\.runtime/offsets/', CODE)
    assert re.search(r'path\s*=>\s*"\$\{WORKSHOP_DIR\}/00\.stage1/tracks_live\.csv"', CODE)


# --- Kibana ------------------------------------------------------------------------
def saved_objects():
    objects = []
    for path in sorted((STAGE1 / "kibana").glob("*.ndjson")):
        objects += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return objects


def referenced_fields(obj) -> set[str]:
    """Every index field a saved object names: aggregation fields, map layers, columns, sort."""
    attrs, fields = obj["attributes"], set()
    if obj["type"] == "index-pattern":
        fields.add(attrs["timeFieldName"])
    if obj["type"] == "visualization":
        fields |= {a["params"]["field"] for a in json.loads(attrs["visState"])["aggs"] if "field" in a["params"]}
    if obj["type"] == "map":
        for layer in json.loads(attrs["layerListJSON"]):
            source = layer["sourceDescriptor"]
            fields |= {source["geoField"]} if "geoField" in source else set()
            fields |= {m["field"] for m in source.get("metrics", []) if "field" in m}
    if obj["type"] == "search":
        fields |= set(attrs["columns"]) | {s[0] for s in attrs["sort"]}
    return fields


def test_data_view_is_the_stage1_index_with_datetime_as_time_field():
    views = [o for o in saved_objects() if o["type"] == "index-pattern"]
    assert len(views) == 1
    assert views[0]["attributes"]["title"] == DEFAULTS["index_stage1"]
    assert views[0]["attributes"]["timeFieldName"] == "datetime"


def test_every_referenced_field_exists_in_the_index_template():
    objects = saved_objects()
    for obj in objects:
        assert referenced_fields(obj) <= STAGE1_FIELDS, obj["id"]
    used = set().union(*(referenced_fields(o) for o in objects))
    mappings = es_mappings(STAGE1_DOC_FIELDS)["properties"]
    assert mappings["location"]["type"] == "geo_point" and "location" in used
    assert mappings["datetime"]["type"] == "date" and "datetime" in used


def test_dashboard_has_a_panel_per_question_including_a_map_and_all_references_resolve():
    objects = saved_objects()
    ids = {(o["type"], o["id"]) for o in objects}
    for obj in objects:
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in ids, ref
    (dashboard,) = [o for o in objects if o["type"] == "dashboard"]
    panels = json.loads(dashboard["attributes"]["panelsJSON"])
    names = {r["name"].split(":")[-1] for r in dashboard["references"]}
    assert {p["panelRefName"] for p in panels} == names
    titles = [o["attributes"]["title"] for o in objects if o["type"] in ("visualization", "map", "search")]
    for question in ("Q1", "Q2", "Q3", "Q4"):
        assert any(t.startswith(question) for t in titles), question
    assert any(r["type"] == "map" for r in dashboard["references"])
