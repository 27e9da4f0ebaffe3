"""The pipeline collector's pure parts (stage4.pipeline, stage2.progress_listener): the red
rule (the same fixture as the dashboard's node test), a query's lag from its progress and
Kafka's end offsets, the progress summary, what a healthy query holds between batches,
the live file's lag counted incrementally, and the rows and table `make status` prints,
with an engine down. No engines."""
import hashlib
import json

from common.config import REPO_ROOT, Settings
from common.schema import PIPELINE_FIELDS, es_mappings
from stage2.progress_listener import progress_key, progress_summary, trigger_seconds
from stage4.pipeline import (FileLag, TopicArrivals, batch_cycle, growing, mark_growing, query_lag,
                             rows_of, table)

FIXTURE = json.loads((REPO_ROOT / "03.stage4" / "test" / "fixtures" / "growing.json").read_text())


def test_red_rule_agrees_with_the_dashboards():
    for case in FIXTURE["cases"]:
        assert growing(case["values"], case["floor"]) is case["growing"], case


PROGRESS = {"name": "enrich", "runId": "r1", "batchId": 7, "timestamp": "2026-09-01T12:00:00.000Z",
            "numInputRows": 40, "inputRowsPerSecond": 20.0, "processedRowsPerSecond": "NaN", "batchDuration": 850,
            "eventTime": {"watermark": "2026-09-01T11:50:00.000Z"},
            "sources": [{"endOffset": '{"realtime":{"0":120,"1":80}}', "latestOffset": '{"realtime":{"0":130,"1":80}}',
                         "metrics": {"maxOffsetsBehindLatest": "10", "minOffsetsBehindLatest": "0",
                                     "avgOffsetsBehindLatest": "5.0"}}]}


def test_progress_summary_keeps_what_the_collector_reads():
    s = progress_summary("stage3", PROGRESS)
    assert s["query"] == "enrich" and s["app"] == "stage3" and s["batch_id"] == 7
    assert s["end_offsets"] == {"realtime": {"0": 120, "1": 80}}
    assert s["processed_rows_per_s"] is None and s["input_rows_per_s"] == 20.0    # NaN: unknown
    assert s["batch_seconds"] == 0.85 and s["max_offsets_behind_latest"] == 10.0
    assert s["watermark"] == "2026-09-01T11:50:00.000Z"
    assert progress_key("pipeline:progress", s) == "pipeline:progress:realtime"


def test_query_lag_is_end_offsets_minus_processed_per_partition():
    s = progress_summary("stage2", PROGRESS)
    assert query_lag(s, {"0": 150, "1": 80}) == 30
    assert query_lag(s, {"0": 120, "1": 80, "2": 5}) == 5        # a partition the query never read
    assert query_lag(s, {}) is None                                # Kafka did not answer
    assert query_lag({"end_offsets": {}}, {"0": 1}) is None         # no batch yet


def test_trigger_seconds_reads_sparks_processing_time_intervals():
    assert [trigger_seconds(t) for t in ("2 seconds", "30 seconds", "1 minute", "500 milliseconds", "10")] \
        == [2.0, 30.0, 60.0, 0.5, 10.0]
    assert trigger_seconds(None) is None and trigger_seconds("soon") is None and trigger_seconds("x seconds") is None


def test_the_job_names_each_querys_trigger():
    from stage2.streaming_job import JobOptions, query_triggers

    triggers = query_triggers(Settings(trigger_interval="2 seconds"), JobOptions(interest_trigger="30 seconds"))
    assert {name: trigger_seconds(t) for name, t in triggers.items()} \
        == {"enrich": 2.0, "interest": 30.0, "profiles": 30.0, "stats": 30.0}


def test_what_arrived_in_the_last_seconds_comes_from_the_end_offsets():
    arrivals = TopicArrivals(keep_seconds=60)
    arrivals.add({"0": 100, "1": 100}, now=0.0)
    assert arrivals.within(10) is None                                   # one sample: too soon
    arrivals.add({"0": 150, "1": 150}, now=5.0)
    assert arrivals.within(10) == 200                                    # 100 in 5 s, so 200 in 10 s
    arrivals.add({}, now=10.0)                                           # Kafka did not answer: no point
    for t in range(10, 71, 5):                                           # then 40 records/s
        arrivals.add({"0": 150 + 20 * (t - 5), "1": 150 + 20 * (t - 5)}, now=float(t))
    assert arrivals.within(30) == 1200 and arrivals.within(32) == 1400   # from the newest sample that old
    assert arrivals.points[0][0] == 10.0                                 # older than 60 s: gone


def test_a_stateful_querys_first_batch_holds_a_whole_trigger_of_records():
    arrivals = TopicArrivals()
    for t in range(0, 61, 5):                                            # 20 records/s for a minute
        arrivals.add({"0": 20 * t}, now=float(t))
    # the first batch of a run: Spark reports 0 rows/s and the listener has no interval yet
    first = {"batch_seconds": 2.5, "input_rows_per_s": 0.0, "interval_seconds": None, "trigger_seconds": 30.0}
    assert batch_cycle(first, arrivals) == (30.0, 700)                   # 35 s of plays (32.5 s, in 5 s samples)
    assert batch_cycle(first, TopicArrivals()) == (30.0, 0)               # no samples yet: Spark's rate, 0
    slow = {**first, "batch_seconds": 40.0}                              # batches longer than the trigger
    assert batch_cycle(slow, arrivals) == (40.0, 1600)                   # back to back: 80 s at the samples' rate
    older = {"batch_seconds": 0.5, "input_rows_per_s": 20.0, "interval_seconds": 2.0}   # a job that did not say
    assert batch_cycle(older, TopicArrivals()) == (2.0, 50)


def test_file_lag_counts_lines_after_the_saved_offset_incrementally(tmp_path):
    live, offsets = tmp_path / "live.csv", tmp_path / "offsets"
    offsets.mkdir()
    live.write_bytes(b"a\nbb\nccc\n")
    lag = FileLag(live, offsets)
    assert lag.sample()["shipper"] is None and lag.sample()["file_lag_lines"] == 3    # nobody shipped
    tag = hashlib.sha1(str(live.resolve()).encode()).hexdigest()[:8]
    saved = offsets / f"shipper-kafka-t_topic-x-{tag}.json"

    def commit(offset):
        saved.write_text(json.dumps({"inode": live.stat().st_ino, "offset": offset}))

    commit(2)
    assert lag.sample() == {"file_size_bytes": 9, "file_lag_bytes": 7, "file_lag_lines": 2,
                            "shipper": "kafka:t_topic-x", "file_appended_lines": 0}
    with open(live, "ab") as f:
        f.write(b"dddd\nee")                       # a half-written line is not counted
    commit(5)
    after = lag.sample()
    assert after["file_lag_lines"] == 2 and after["file_lag_bytes"] == 11 and after["file_appended_lines"] == 1
    live.write_bytes(b"z\n")                        # truncated: counted from the start again
    commit(0)
    assert lag.sample()["file_lag_lines"] == 1


SAMPLE = {"engines_down": ["elasticsearch"], "shipper": "kafka:realtime", "file_lag_lines": 4, "file_lag_bytes": 200,
          "spark_app": "stage2", "offers_pending": 2, "offers_queued": 10, "offers_dead": 1,
          "queries": {"enrich": {"lag": 40, "input_rows_per_s": 20.0, "processed_rows_per_s": 50.0,
                                 "batch_seconds": 0.5, "age_seconds": 1.0, "in_flight": 50, "watermark": None}}}


def test_rows_and_the_status_table_with_an_engine_down():
    rows = rows_of(SAMPLE)
    by_key = {r["key"]: r for r in rows}
    assert by_key["file"]["value"] == 4 and by_key["kafka:enrich"]["value"] == 40
    assert by_key["kafka:enrich"]["floor"] == 50
    assert by_key["es"]["state"] == "down" and by_key["es"]["value"] is None
    assert by_key["dead"]["state"] == "down" and by_key["offers"]["value"] == 2
    history = [{"rows": [{**r, "value": v} for r in rows_of(SAMPLE) if r["key"] == "kafka:enrich"]}
               for v in (10, 60, 70)]
    marked = {r["key"]: r["growing"] for r in mark_growing(rows, history)}
    assert marked["kafka:enrich"] is False          # 70 -> 40: not growing
    text = table(rows, {"elasticsearch": "ConnectionError"}, Settings())
    assert "elasticsearch  DOWN at http://127.0.0.1:9200 (ConnectionError)" in text
    assert "kafka          up at" in text and "redis          up at" in text
    assert "unknown while elasticsearch does not answer" in text


def test_every_document_field_is_in_the_template():
    mapped = set(es_mappings(PIPELINE_FIELDS)["properties"])
    doc_fields = {"sampled_at", "engines_down", "kafka_lag", "kafka_lag_stats", "es_docs_per_s", "offers_pending",
                  "deadletters_per_min", "deadletter_reasons", "file_lag_lines", "spark_watermark"}
    assert doc_fields <= mapped
