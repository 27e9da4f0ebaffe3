"""common.retry: which errors are waited out, the backoff schedule, the give-up time."""
from __future__ import annotations

import pytest

from common.clients import EngineUnavailable, WritesRefused
from common.retry import backoff, call_with_retry, is_engine_error, is_refusal, kafka_bad_record


def test_backoff_doubles_from_half_a_second_and_stops_at_the_cap():
    assert [backoff(n, cap=4) for n in range(1, 7)] == [0.5, 1, 2, 4, 4, 4]


def test_connection_errors_are_retried_until_the_call_answers():
    lines, calls = [], []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("refused")
        return "pong"

    assert call_with_retry(flaky, "Redis", "redis://x", give_up=10, cap=0.01, say=lines.append) == "pong"
    assert lines[0] == "Redis at redis://x unreachable (ConnectionError), retry 1 in 0.01 s"
    assert lines[-1].startswith("Redis at redis://x is back after")
    assert len(lines) == 3


def test_a_bug_is_not_retried():
    def broken():
        raise KeyError("customer_id")

    with pytest.raises(KeyError):
        call_with_retry(broken, "Redis", "redis://x", give_up=10, cap=0.01, say=lambda _: None)


def test_gives_up_with_the_fix_after_the_give_up_time():
    def down():
        raise TimeoutError

    with pytest.raises(EngineUnavailable, match="gave up after"):
        call_with_retry(down, "Elasticsearch", "http://x", give_up=0.05, cap=0.01, say=lambda _: None)


def test_elasticsearch_unavailable_statuses_count_as_down_but_a_bad_request_does_not():
    class Answer(Exception):
        def __init__(self, status):
            self.status_code = status

    assert is_engine_error(Answer(503)) and is_engine_error(Answer(429))
    assert not is_engine_error(Answer(400)) and not is_engine_error(Answer(404))


def test_a_failed_spark_query_is_told_apart_by_its_text():
    from common.retry import engine_down_in

    assert engine_down_in("common.clients.EngineUnavailable: Redis is not reachable at redis://x (...)")
    assert engine_down_in("org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a node")
    assert not engine_down_in("ValueError: invalid literal for int() with base 10: 'x'")


def test_a_call_to_several_engines_names_the_one_that_failed():
    import redis

    from common.config import get_settings

    lines, calls = [], []

    def writes_to_redis_and_es():
        calls.append(1)
        if len(calls) < 2:
            raise redis.ConnectionError("Connection refused")
        return 3

    assert call_with_retry(writes_to_redis_and_es, give_up=10, cap=0.01, say=lines.append) == 3
    assert lines[0] == f"Redis at {get_settings().redis_url} unreachable (ConnectionError), retry 1 in 0.01 s"


def test_a_client_factory_that_found_no_engine_is_waited_for_and_named_by_its_cause():
    lines, calls = [], []

    def connect():
        calls.append(1)
        if len(calls) < 2:
            try:
                raise ConnectionRefusedError("refused")
            except ConnectionRefusedError as exc:
                raise EngineUnavailable("Kafka", "127.0.0.1:9092", "refused") from exc
        return "client"

    assert call_with_retry(connect, "Kafka", "127.0.0.1:9092", give_up=10, cap=0.01, say=lines.append) == "client"
    assert lines[0] == "Kafka at 127.0.0.1:9092 unreachable (ConnectionRefusedError), retry 1 in 0.01 s"


# --- Elasticsearch refusing writes: the engine's state, waited out; never a dead letter ---
@pytest.mark.parametrize("status, kind", [
    (403, "cluster_block_exception"),           # index.blocks.write / read_only
    (429, "cluster_block_exception"),           # read_only_allow_delete: a full disk (flood stage)
    (400, "index_closed_exception"),
    (429, "es_rejected_execution_exception"),   # the write queue is full
    (429, "circuit_breaking_exception"),
    (503, "unavailable_shards_exception"),      # no primary to write to yet
    (503, "no_shard_available_action_exception"),
    (504, "timeout_exception"),
    (None, "process_cluster_event_timeout_exception"),
])
def test_the_engines_own_state_is_a_refusal(status, kind):
    assert is_refusal(status, {"type": kind, "reason": "..."})


@pytest.mark.parametrize("status, kind", [
    (400, "document_parsing_exception"),        # a field the mapping cannot take
    (400, "mapper_parsing_exception"),
    (400, "illegal_argument_exception"),
    (400, "strict_dynamic_mapping_exception"),
    (404, "index_not_found_exception"),         # Elasticsearch creates a deleted index on the next write
])
def test_a_bad_document_is_not_a_refusal(status, kind):
    assert not is_refusal(status, {"type": kind, "reason": "..."})


def test_an_api_error_for_a_blocked_index_is_waited_out_and_named():
    from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig
    from elasticsearch import ApiError

    meta = ApiResponseMeta(status=403, http_version="1.1", headers=HttpHeaders(), duration=0.0,
                           node=NodeConfig("http", "127.0.0.1", 9200))
    blocked = ApiError("blocked", meta, {"error": {"type": "cluster_block_exception"}, "status": 403})
    wrong = ApiError("bad", meta, {"error": {"type": "illegal_argument_exception"}, "status": 400})
    assert is_engine_error(blocked) and not is_engine_error(wrong)

    lines, calls = [], []

    def put_settings():
        calls.append(1)
        if len(calls) < 2:
            raise blocked
        return "ok"

    assert call_with_retry(put_settings, "Elasticsearch", "http://x", give_up=10, cap=0.01, say=lines.append) == "ok"
    assert lines[0] == ("Elasticsearch at http://x refusing the request (cluster_block_exception), "
                        "retry 1 in 0.01 s")


def test_writes_refused_names_its_reasons_in_the_status_line():
    lines, calls = [], []

    def write():
        calls.append(1)
        if len(calls) < 2:
            raise WritesRefused(["cluster_block_exception", "cluster_block_exception", "index_closed_exception"])
        return 7

    assert call_with_retry(write, "Elasticsearch", "http://x", give_up=10, cap=0.01, say=lines.append) == 7
    assert lines[0] == ("Elasticsearch at http://x refusing writes (cluster_block_exception, "
                        "index_closed_exception), retry 1 in 0.01 s")


@pytest.mark.parametrize("code", ["_MSG_TIMED_OUT", "NOT_ENOUGH_REPLICAS", "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
                                  "NOT_LEADER_FOR_PARTITION", "LEADER_NOT_AVAILABLE", "REQUEST_TIMED_OUT",
                                  "_TRANSPORT", "_ALL_BROKERS_DOWN", "UNKNOWN_TOPIC_OR_PART"])
def test_a_kafka_cluster_not_taking_writes_is_no_bad_record(code):
    from confluent_kafka import KafkaError

    assert not kafka_bad_record(KafkaError(getattr(KafkaError, code)))


@pytest.mark.parametrize("code", ["MSG_SIZE_TOO_LARGE", "INVALID_RECORD", "RECORD_LIST_TOO_LARGE", "INVALID_MSG"])
def test_a_message_kafka_refuses_for_what_it_is_is_a_bad_record(code):
    from confluent_kafka import KafkaError

    assert kafka_bad_record(KafkaError(getattr(KafkaError, code)))


def test_kafka_refusing_writes_is_waited_out_and_named():
    lines, calls = [], []

    def flush():
        calls.append(1)
        if len(calls) < 2:
            raise WritesRefused(["NOT_ENOUGH_REPLICAS"], engine="Kafka")
        return 3

    assert call_with_retry(flush, "Kafka", "127.0.0.1:9092", give_up=10, cap=0.01, say=lines.append) == 3
    assert lines[0] == "Kafka at 127.0.0.1:9092 refusing writes (NOT_ENOUGH_REPLICAS), retry 1 in 0.01 s"
