"""Exercise 2.1, a worked solution: enrich one play from Redis.

The job does exactly this for every play, except that it asks Redis for all the
customers of a micro-batch partition in ONE pipeline (common.sinks.read_hashes),
one network round trip instead of one per play.
"""
from __future__ import annotations

from common.events import parse_event
from stage2.enrich import enrich_event


def customer_of(r, customer_id: int, prefix: str = "customer:") -> dict:
    """The Redis hash of one customer: {field: value}, or {} when there is none."""
    # HGETALL returns every field of the hash at once; for a key that does not
    # exist it returns an empty dict, never None. The client was made with
    # decode_responses=True, so keys and values are already str.
    return r.hgetall(f"{prefix}{customer_id}")


def enrich_one(r, line: str, catalog: dict, prefix: str = "customer:") -> dict:
    """One log line, e.g. '1,199,21,2026-10-25 00:01:59,0,19930', -> the enriched document."""
    event = parse_event(line)                     # the same parser as stage 1 (a dict here)
    customer = customer_of(r, event["customer_id"], prefix)
    track = catalog.get(event["track_id"])        # None for a track missing from music.csv
    # enrich_event converts the hash (all text) into typed document fields, and for
    # an empty hash keeps the play with customer_known = False: a play is never
    # dropped because its customer is unknown.
    return enrich_event(event, customer, track)
