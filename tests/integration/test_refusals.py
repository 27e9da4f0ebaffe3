"""Elasticsearch refusing writes for a while (a full disk makes an index read-only by
itself; a closed index; a write block) against the real node: every writer waits,
sends the same documents again once the index takes writes, and dead-letters
nothing. Each test blocks the index, lifts the block a few seconds later from
another thread, and counts: every document in the index exactly once, 0 dead letters."""
from __future__ import annotations

import threading
import time

import pytest

from common.clients import es_client
from common.config import get_settings
from common.events import parse_event
from common.retry import call_with_retry
from common.schema import DEADLETTER_FIELDS, STAGE1_DOC_FIELDS
from common.sinks import EsBulkSink, bulk_or_wait, ensure_index
from tests.stage1_data import track_lines

pytestmark = pytest.mark.integration

LIFT_AFTER = 3.0       # seconds the index refuses writes
# A full disk's block (read_only_allow_delete) answers 429, which the bulk helpers also
# retry on their own for ~30 s; a write block answers 403 at once, so most tests use it.


@pytest.fixture
def indices(engines, unique):
    es = es_client()
    index, deadletter = f"t_refuse_{unique}", f"t_refuse_dl_{unique}"
    ensure_index(es, index, STAGE1_DOC_FIELDS)
    ensure_index(es, deadletter, DEADLETTER_FIELDS)
    yield es, index, deadletter
    for name in (index, deadletter):
        es.options(ignore_status=404).indices.delete(index=name)
        es.options(ignore_status=404).indices.delete_index_template(name=name)


def refuse_for_a_while(es, index: str, how: str) -> threading.Thread:
    """Make ``index`` refuse writes now (``how``: a block setting, or "closed"); a thread
    lifts it LIFT_AFTER seconds later."""
    if how == "closed":
        es.indices.close(index=index)
    else:
        es.indices.put_settings(index=index, settings={how: True})

    def lift():
        time.sleep(LIFT_AFTER)
        if how == "closed":
            es.indices.open(index=index, wait_for_active_shards=1)
        else:
            es.indices.put_settings(index=index, settings={how: None})

    thread = threading.Thread(target=lift, daemon=True)
    thread.start()
    return thread


def count(es, index: str) -> int:
    es.indices.refresh(index=index)
    return es.count(index=index)["count"]


@pytest.mark.parametrize("how", ["index.blocks.read_only_allow_delete",    # what a full disk sets
                                 "index.blocks.write", "closed"])
def test_bulk_sink_waits_out_a_refusing_index_and_dead_letters_nothing(indices, how):
    es, index, deadletter = indices
    docs = [parse_event(line) for line in track_lines(300)]
    sink = EsBulkSink(es, index, deadletter, source="test", chunk_size=100)
    lines: list[str] = []

    lifted = refuse_for_a_while(es, index, how)
    started = time.monotonic()
    result = call_with_retry(lambda: sink.write(docs), "Elasticsearch", "test", say=lines.append)
    lifted.join()

    assert time.monotonic() - started >= LIFT_AFTER - 0.5      # it did wait for the lift
    assert result.indexed == 300 and result.failed == []
    assert count(es, index) == 300
    assert count(es, deadletter) == 0
    if how != "index.blocks.read_only_allow_delete":
        # (a full disk's block answers 429, which the bulk helper itself retries first)
        assert any("refusing writes" in line for line in lines), lines
        assert lines[-1].startswith("Elasticsearch at test is back after")


def test_a_bad_document_in_a_refused_batch_is_dead_lettered_once_after_the_lift(indices):
    es, index, deadletter = indices
    docs = [parse_event(line) for line in track_lines(50)]
    broken = dict(docs[0], event_id=999999, ismobile="not a number")    # the mapping refuses it
    sink = EsBulkSink(es, index, deadletter, source="test", chunk_size=20)

    lifted = refuse_for_a_while(es, index, "index.blocks.write")
    result = call_with_retry(lambda: sink.write(docs + [broken]), "Elasticsearch", "test", say=lambda _: None)
    lifted.join()

    assert result.indexed == 50 and [f["_id"] for f in result.failed] == ["999999"]
    assert count(es, index) == 50 and count(es, deadletter) == 1
    (dead,) = [h["_source"] for h in es.search(index=deadletter)["hits"]["hits"]]
    assert dead["reason"] == "index_error: document_parsing_exception"


def test_dead_letters_wait_for_a_write_blocked_dead_letter_index(indices):
    es, index, deadletter = indices
    sink = EsBulkSink(es, index, deadletter, source="test")
    rejected = [("wrong_column_count", f"junk {i}", f"1:{i}") for i in range(40)]

    lifted = refuse_for_a_while(es, deadletter, "index.blocks.write")
    written = call_with_retry(lambda: sink.write_deadletters(rejected), "Elasticsearch", "test",
                              say=lambda _: None)
    lifted.join()

    assert written == 40 and count(es, deadletter) == 40


def test_stateful_writes_wait_out_a_write_blocked_index(indices):
    """The profiles, stats and interest writes (bulk_or_wait, from the stage-2 driver)."""
    es, index, _ = indices
    docs = [parse_event(line) for line in track_lines(120)]
    actions = [{"_index": index, "_id": str(d["event_id"]), "_source": d} for d in docs]

    lifted = refuse_for_a_while(es, index, "index.blocks.write")
    sent = call_with_retry(lambda: bulk_or_wait(es, actions, 50), "Elasticsearch", "test", say=lambda _: None)
    lifted.join()

    assert sent == 120 and count(es, index) == 120


def test_the_live_shipper_waits_out_a_write_blocked_index(indices, tmp_path):
    from stage1.shipper import Line, ToElasticsearch

    es, index, deadletter = indices
    settings = get_settings().model_copy(update={"index_deadletter": deadletter})
    shipper = ToElasticsearch(settings, index)
    lines = [Line(data=raw, position=None, offset=i) for i, raw in enumerate(track_lines(200))]

    lifted = refuse_for_a_while(es, index, "index.blocks.write")
    shipper.ship(lines)
    lifted.join()

    assert shipper.counts == {"shipped": 200, "indexed": 200, "rejected": 0}
    assert count(es, index) == 200 and count(es, deadletter) == 0


def test_the_history_load_waits_out_a_write_blocked_index(indices, tmp_path):
    from stage1.shipper import ToElasticsearch, ship_history

    es, index, deadletter = indices
    settings = get_settings().model_copy(update={"index_deadletter": deadletter})
    source = tmp_path / "tracks.csv"
    source.write_bytes(b"".join(line + b"\n" for line in track_lines(3000)))
    sink = ToElasticsearch(settings, index)

    lifted = refuse_for_a_while(es, index, "index.blocks.write")
    ship_history(source, sink, bulk_size=500, max_events=None, stop=threading.Event())
    lifted.join()

    assert count(es, index) == 3000 and count(es, deadletter) == 0
