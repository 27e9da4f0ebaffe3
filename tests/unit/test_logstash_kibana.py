"""The Logstash pipeline and the Kibana saved objects are text; they must agree
with common/schema.py and common/config.py (names, columns, formats, fields).
Kibana: the objects of every stage (00.stage1/kibana, 01.stage2/kibana, 02.stage3/kibana, and the
pipeline collector's in 03.stage4/kibana)."""
import json
import re
from pathlib import Path

import pytest

from common.config import REPO_ROOT, Settings
from common.schema import (DEADLETTER_FIELDS, EVENT_COLUMNS, EVENT_DATETIME_JAVA,
                           STAGE1_DOC_FIELDS, es_mappings)
from stage1.logstash_dictionaries import DICTIONARIES
from tools.es_templates import index_fields

STAGE1 = REPO_ROOT / "00.stage1"
KIBANA_FOLDERS = [REPO_ROOT / f"{stage}/kibana" for stage in ("00.stage1", "01.stage2", "02.stage3", "03.stage4")]
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
    # the pipeline creates nothing: make es-templates made the indices with their templates
    outputs = CODE.count("elasticsearch {")
    assert outputs == 2 and CODE.count("manage_template => false") == outputs
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


def test_paths_come_from_the_environment_without_defaults():
    """Logstash's file input wants absolute paths: no relative default, a missing variable stops it.
    (tests/unit/test_docker_compose.py renders them with the compose file's environment.)"""
    assert re.search(r'^\s*path\s*=>\s*"\$\{LIVE_FILE\}"', CODE, re.MULTILINE)
    assert re.search(r'sincedb_path\s*=>\s*"\$\{SINCEDB_DIR\}/logstash_stage1\.sincedb"', CODE)
    dictionaries = re.findall(r'dictionary_path\s*=>\s*"\$\{LOGSTASH_DICTIONARIES\}/zip_(\w+)\.yml"', CODE)
    assert sorted(dictionaries) == sorted(DICTIONARIES)      # the files logstash_dictionaries.py writes


# --- Kibana ------------------------------------------------------------------------
def saved_objects(folder: Path = STAGE1 / "kibana") -> list[dict]:
    objects = []
    for path in sorted(folder.glob("*.ndjson")):
        objects += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return objects


# What a field must be for each use: its Elasticsearch mapping type must be one of these
AGGREGATABLE = {"keyword", "integer", "long", "float", "boolean", "date"}       # not text
NEEDS = {"time": {"date"}, "date_histogram": {"date"}, "geo": {"geo_point"},
         "terms": AGGREGATABLE, "cardinality": AGGREGATABLE, "sort": AGGREGATABLE,
         "avg": {"integer", "long", "float"}, "sum": {"integer", "long", "float"},
         "column": AGGREGATABLE | {"text", "geo_point"}, "query": AGGREGATABLE | {"text"}}


def field_uses(obj) -> set[tuple[str, str]]:
    """Every (index field, use) a saved object names: aggregations, map layers, columns,
    sort, the time field and the fields of its KQL query (``send_event: 1``)."""
    attrs, uses = obj["attributes"], set()
    if obj["type"] == "index-pattern":
        uses.add((attrs["timeFieldName"], "time"))
    if obj["type"] == "visualization":
        uses |= {(a["params"]["field"], a["type"]) for a in json.loads(attrs["visState"])["aggs"]
                 if "field" in a["params"]}
    if obj["type"] == "map":
        for layer in json.loads(attrs["layerListJSON"]):
            source = layer["sourceDescriptor"]
            uses |= {(source["geoField"], "geo")} if "geoField" in source else set()
            uses |= {(m["field"], m["type"]) for m in source.get("metrics", []) if "field" in m}
    if obj["type"] == "search":
        uses |= {(c, "column") for c in attrs["columns"]} | {(s[0], "sort") for s in attrs["sort"]}
    search_source = attrs.get("kibanaSavedObjectMeta", {}).get("searchSourceJSON")
    if search_source:
        query = json.loads(search_source)["query"]["query"]
        uses |= {(f, "query") for f in re.findall(r"(\w+)\s*:", query)}
    return uses


def referenced_fields(obj) -> set[str]:
    return {field for field, _ in field_uses(obj)}


def mapped_types(obj, objects) -> dict[str, str]:
    """Field -> Elasticsearch type in the template of the index behind ``obj``'s data view."""
    views = {o["id"]: o["attributes"]["title"] for o in objects if o["type"] == "index-pattern"}
    if obj["type"] == "index-pattern":
        index = obj["attributes"]["title"]
    else:
        (index,) = {views[r["id"]] for r in obj["references"] if r["type"] == "index-pattern"}
    fields = index_fields(Settings.model_construct())[index]      # the default index names, as in Kibana
    return {name: m["type"] for name, m in es_mappings(fields)["properties"].items()}


@pytest.mark.parametrize("folder", KIBANA_FOLDERS, ids=lambda f: f.parent.name)
def test_every_field_exists_in_its_index_template_with_a_fitting_type(folder):
    objects = saved_objects(folder)
    assert objects, f"no saved objects in {folder}"
    for obj in objects:
        if obj["type"] == "dashboard":
            continue
        types = mapped_types(obj, objects)
        for field, use in field_uses(obj):
            assert field in types, f"{obj['id']}: {field} is not in common/schema.py for its index"
            assert types[field] in NEEDS[use], f"{obj['id']}: {use} on {field}, a {types[field]}"


@pytest.mark.parametrize("folder", KIBANA_FOLDERS, ids=lambda f: f.parent.name)
def test_dashboard_panels_and_references_resolve(folder):
    objects = saved_objects(folder)
    ids = {(o["type"], o["id"]) for o in objects}
    for obj in objects:
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in ids, ref
    (dashboard,) = [o for o in objects if o["type"] == "dashboard"]
    panels = json.loads(dashboard["attributes"]["panelsJSON"])
    names = {r["name"].split(":")[-1] for r in dashboard["references"]}
    assert {p["panelRefName"] for p in panels} == names
    shown = {r["id"] for r in dashboard["references"]}
    assert shown == {o["id"] for o in objects if o["type"] in ("visualization", "map", "search")}


def test_data_view_is_the_stage1_index_with_datetime_as_time_field():
    views = [o for o in saved_objects() if o["type"] == "index-pattern"]
    assert len(views) == 1
    assert views[0]["attributes"]["title"] == DEFAULTS["index_stage1"]
    assert views[0]["attributes"]["timeFieldName"] == "datetime"


def test_stage1_uses_the_map_and_time_fields():
    used = set().union(*(referenced_fields(o) for o in saved_objects()))
    mappings = es_mappings(STAGE1_DOC_FIELDS)["properties"]
    assert mappings["location"]["type"] == "geo_point" and "location" in used
    assert mappings["datetime"]["type"] == "date" and "datetime" in used


def test_stage1_dashboard_has_a_panel_per_question_including_a_map():
    objects = saved_objects()
    titles = [o["attributes"]["title"] for o in objects if o["type"] in ("visualization", "map", "search")]
    for question in ("Q1", "Q2", "Q3", "Q4"):
        assert any(t.startswith(question) for t in titles), question
    (dashboard,) = [o for o in objects if o["type"] == "dashboard"]
    assert any(r["type"] == "map" for r in dashboard["references"])


def _aggregated(objects) -> set[str]:
    return {f for o in objects if o["type"] == "visualization" for f, use in field_uses(o) if use == "terms"}


def test_stage2_answers_the_enriched_questions_and_shows_the_interest_list():
    objects = saved_objects(REPO_ROOT / "01.stage2" / "kibana")
    views = {o["attributes"]["title"] for o in objects if o["type"] == "index-pattern"}
    assert views == {DEFAULTS["index_stage2"], DEFAULTS["index_interest"]}
    assert {"gender", "age_band", "level", "title"} <= _aggregated(objects)    # who listens; top tracks


def test_stage3_charts_the_sms_offers_over_time():
    """The original demo's "SendEvent" chart: documents with send_event: 1 in ba_realtime3 over time."""
    objects = saved_objects(REPO_ROOT / "02.stage3" / "kibana")
    (view,) = [o for o in objects if o["type"] == "index-pattern"]
    assert view["attributes"]["title"] == DEFAULTS["index_stage3"]
    (chart,) = [o for o in objects if o["attributes"]["title"].startswith("SendEvent")]
    assert {("datetime", "date_histogram"), ("send_event", "query")} <= field_uses(chart)
    query = json.loads(chart["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])["query"]["query"]
    assert query == "send_event: 1"


def test_es_templates_makes_every_index_the_settings_name():
    """make es-templates (tools/es_templates.py) creates every index before Logstash or Kibana."""
    s = Settings.model_construct()
    assert set(index_fields(s)) == {getattr(s, n) for n in Settings.model_fields if n.startswith("index_")}


def test_pipeline_charts_every_hop_over_the_sample_time():
    """03.stage4/kibana: the collector's index, one chart per hop, each over sampled_at."""
    objects = saved_objects(REPO_ROOT / "03.stage4" / "kibana")
    (view,) = [o for o in objects if o["type"] == "index-pattern"]
    assert view["attributes"]["title"] == DEFAULTS["index_pipeline"]
    assert view["attributes"]["timeFieldName"] == "sampled_at"
    used = set().union(*(referenced_fields(o) for o in objects))
    assert {"file_lag_lines", "kafka_lag", "es_docs_per_s", "deadletters_per_min", "offers_pending"} <= used
    for chart in (o for o in objects if o["type"] == "visualization"):
        assert ("sampled_at", "date_histogram") in field_uses(chart), chart["id"]
