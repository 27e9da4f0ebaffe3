"""common.retry: which errors are waited out, the backoff schedule, the give-up time."""
from __future__ import annotations

import pytest

from common.clients import EngineUnavailable
from common.retry import backoff, call_with_retry, is_engine_error


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
