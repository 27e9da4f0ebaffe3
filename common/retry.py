"""Waiting for an engine that went away: bounded exponential backoff, one status line.

Engines restart, pause and fail over; a component that talks to one should wait
for it and then go on by itself, not exit and leave a person to restart it.
``call_with_retry`` runs a call; when it fails with a connection-type error, it
prints one line, sleeps 0.5 s, 1 s, 2 s ... (never more than ``cap``) and tries
again, until ``give_up`` seconds have passed without success:

    from common.retry import call_with_retry
    call_with_retry(lambda: redis.ping(), "Redis", settings.redis_url)
    # Redis at redis://127.0.0.1:6379/0 unreachable (ConnectionError), retry 3 in 2 s
    # Redis at redis://127.0.0.1:6379/0 is back after 7 s

Only errors that mean "the engine is not answering" are retried (``is_engine_error``);
a bad request, a missing index or a bug still fails at once. The give-up time is
``ENGINE_GIVE_UP_SECONDS`` (settings), after which ``EngineUnavailable`` is raised
with the fix, and the component exits with a clear message.
"""
from __future__ import annotations

import threading
import time
from typing import Callable, TypeVar

from common.clients import EngineUnavailable, WritesRefused
from common.config import get_settings

T = TypeVar("T")


def engine_errors() -> tuple[type[BaseException], ...]:
    """The exception types that mean "the engine is down, paused or restarting"."""
    errors: list[type[BaseException]] = [ConnectionError, TimeoutError, EngineUnavailable]
    try:
        import redis
        errors += [redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError]
    except ImportError:
        pass
    try:
        from elastic_transport import ConnectionError as ESConnectionError
        from elastic_transport import ConnectionTimeout as ESTimeout
        errors += [ESConnectionError, ESTimeout]
    except ImportError:
        pass
    return tuple(errors)


# Why Elasticsearch may refuse a request or one document of a bulk request. Either the
# REQUEST is wrong (a field the mapping cannot take: document_parsing_exception ...): a
# dead letter, or a bug. Or the ENGINE takes no writes now, whatever is sent: a write
# block (a full disk makes an index read_only_allow_delete by itself), a closed index, a
# full queue (429), no shard to write to yet (503), a timeout. Those are waited out and
# the same documents sent again; never dead letters. (A deleted index is no refusal:
# Elasticsearch creates it again on the next write, from the template ensure_index left.)
REFUSAL_STATUSES = frozenset({408, 429, 502, 503, 504})
REFUSAL_TYPES = frozenset({
    "cluster_block_exception", "index_closed_exception",
    "es_rejected_execution_exception", "circuit_breaking_exception",
    "unavailable_shards_exception", "no_shard_available_action_exception",
    "primary_missing_action_exception", "process_cluster_event_timeout_exception",
    "timeout_exception", "receive_timeout_transport_exception", "node_closed_exception"})


def error_type(error) -> str:
    """An Elasticsearch error (a bulk item's ``error`` dict, or a message) -> its type."""
    return error.get("type", "unknown") if isinstance(error, dict) else str(error)


def is_refusal(status: int | None, error) -> bool:
    """Is this failure Elasticsearch's state (wait, then send the same again) rather than the request's?"""
    return status in REFUSAL_STATUSES or error_type(error) in REFUSAL_TYPES


def refused_types(items) -> list[str]:
    """The error types of the failed bulk items (dicts with "status" and "error") that
    Elasticsearch refused for its own state; empty when every failure is the document's."""
    return [error_type(i.get("error")) for i in items if is_refusal(i.get("status"), i.get("error"))]


# Why Kafka may fail to deliver one message. Either the MESSAGE is wrong (too big for
# the topic, invalid for it): sending it again can never help, so it is a dead letter.
# Or the CLUSTER takes no writes now (no partition leader during a failover, fewer
# in-sync replicas than min.insync.replicas, no acknowledgement in time): librdkafka
# retries those by itself until message.timeout.ms, and after that we wait and send
# the same messages again. Names are librdkafka's (KafkaError.name()).
KAFKA_BAD_RECORD_ERRORS = frozenset({"MSG_SIZE_TOO_LARGE", "INVALID_RECORD", "INVALID_MSG", "INVALID_MSG_SIZE",
                                     "RECORD_LIST_TOO_LARGE", "_BAD_MSG", "_INVALID_ARG"})


def kafka_bad_record(error) -> bool:
    """Is this delivery error (a confluent_kafka.KafkaError) the message's fault, not the cluster's?"""
    return error.name() in KAFKA_BAD_RECORD_ERRORS


def _api_error(exc: BaseException) -> dict | None:
    """The ``error`` object of an Elasticsearch ApiError's body, if it has one."""
    body = getattr(exc, "body", None)
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else None


def is_engine_error(exc: BaseException) -> bool:
    """An engine is not answering or not taking writes now (rather than: the request or
    the code is wrong). Elasticsearch answering 503 or 429 (starting, red, overloaded)
    or refusing a request for its own state (a read-only index: is_refusal) counts too."""
    if isinstance(exc, engine_errors()):
        return True
    status = getattr(exc, "status_code", None) or getattr(getattr(exc, "meta", None), "status", None)
    return is_refusal(status, _api_error(exc))


# Words in a Spark query's error (a Java or Python stack trace as text) that say an
# engine went away, not that the data or the code is wrong.
ENGINE_DOWN_WORDS = ("EngineUnavailable", "ConnectionError", "ConnectionTimeout", "ConnectionRefused",
                     "Connection refused", "TimeoutException", "TimeoutError", "BusyLoadingError",
                     "DisconnectException", "NetworkException", "NotLeaderOrFollower",
                     "UnknownTopicOrPartition", "unreachable", "not reachable")


def engine_down_in(message: str) -> bool:
    """Does an error known only as text (a failed Spark query) say an engine went away?"""
    return any(word in message for word in ENGINE_DOWN_WORDS)


def backoff(attempt: int, base: float = 0.5, cap: float = 30.0) -> float:
    """Seconds to wait before retry ``attempt`` (1, 2, ...): base * 2^(attempt-1), at most cap."""
    return min(cap, base * 2 ** (attempt - 1))


def engine_of(exc: BaseException) -> tuple[str, str]:
    """(name, URL) of the engine an error came from, for a call that talks to more than one."""
    s = get_settings()
    module = type(exc).__module__
    if module.startswith("redis"):
        return "Redis", s.redis_url
    if module.startswith(("elastic", "urllib3")):
        return "Elasticsearch", s.es_url
    return "An engine", f"{s.redis_url} or {s.es_url}"


def call_with_retry(call: Callable[[], T], engine: str | None = None, url: str | None = None, *,
                    give_up: float | None = None,
                    cap: float | None = None, say: Callable[[str], None] | None = None,
                    stop: threading.Event | None = None) -> T:
    """``call()``, retried with bounded backoff while ``engine`` does not answer
    (without ``engine``, it is named from the error: Redis or Elasticsearch).

    Raises ``EngineUnavailable`` once ``give_up`` seconds (default: the setting
    ``engine_give_up_seconds``) pass without an answer, or when ``stop`` is set."""
    s = get_settings()
    give_up = s.engine_give_up_seconds if give_up is None else give_up
    cap = s.engine_retry_cap_seconds if cap is None else cap
    say = say or (lambda line: print(line, flush=True))
    started, attempt = time.monotonic(), 0
    while True:
        try:
            result = call()
        except Exception as exc:       # noqa: BLE001 - filtered just below
            if not is_engine_error(exc):
                raise
            attempt += 1
            if engine is None:        # a call that talks to several engines: name the one that failed
                engine, url = engine_of(exc)
            waited = time.monotonic() - started
            pause = backoff(attempt, cap=cap)
            # a client factory's EngineUnavailable: name what it met (ConnectionError ...)
            kind = type(exc.__cause__ if isinstance(exc, EngineUnavailable) and exc.__cause__ else exc).__name__
            state = "unreachable"
            if isinstance(exc, WritesRefused):         # up, but refusing writes (read-only index, 429 ...)
                kind, state = ", ".join(exc.reasons), "refusing writes"
            elif _api_error(exc) is not None:
                kind, state = error_type(_api_error(exc)), "refusing the request"
            if waited + pause > give_up or (stop is not None and stop.is_set()):
                raise EngineUnavailable(engine, url, f"{kind}, gave up after {waited:.0f} s") from exc
            say(f"{engine} at {url} {state} ({kind}), retry {attempt} in {pause:g} s")
            if stop is not None:
                stop.wait(pause)
            else:
                time.sleep(pause)
            continue
        if attempt:
            say(f"{engine} at {url} is back after {time.monotonic() - started:.0f} s")
        return result
