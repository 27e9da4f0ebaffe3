"""The ad targets in Redis: written by each promoted model (stage3.train), read
by the live targeting (stage3.offers) and the dashboard's notebook.

    ad_targets              set of the customer ids the current model picks
    ad_target:{CustID}      hash: model_version, probability
    ad_targets:next:{version}  the next set while it is filled; expires after an hour,
                            so a round that crashed half-way leaves nothing behind

    from stage3.targets import publish_targets, targets_among
    publish_targets(r, settings, "v0003", {42: 0.91, 77: 0.64})
    targets_among(r, settings, [42, 43])     -> {42}
"""
from __future__ import annotations

from common.config import Settings

NEXT_SET_TTL = 3600        # seconds; filling and swapping the next set takes a few


def publish_targets(r, settings: Settings, version: str, targets: dict[int, float]) -> None:
    """Replace the target set atomically: fill a temp set, then RENAME it over the
    live one in a MULTI with the removal of stale hashes. The streaming job never
    sees an empty or half-written set."""
    live, prefix = settings.redis_targets_set, settings.redis_target_prefix
    tmp = f"{live}:next:{version}"
    previous = {int(c) for c in r.smembers(live)}
    pipe = r.pipeline(transaction=False)
    pipe.delete(tmp)
    ids = sorted(targets)
    for cid in ids:
        pipe.hset(f"{prefix}{cid}", mapping={"model_version": version, "probability": f"{targets[cid]:.4f}"})
    for i in range(0, len(ids), 1000):
        pipe.sadd(tmp, *ids[i:i + 1000])
    pipe.expire(tmp, NEXT_SET_TTL)
    pipe.execute()
    tx = r.pipeline(transaction=True)
    if ids:
        tx.rename(tmp, live)
        tx.persist(live)         # RENAME carries the expiry over: the live set keeps none
    else:
        tx.delete(live)          # Redis has no empty sets: no targets = no key
    stale = previous - set(ids)
    if stale:
        tx.delete(*[f"{prefix}{c}" for c in stale])
    tx.execute()


def targets_among(r, settings: Settings, customer_ids: list[int]) -> set[int]:
    """Which of ``customer_ids`` are targets now: one SMISMEMBER round trip."""
    if not customer_ids:
        return set()
    flags = r.smismember(settings.redis_targets_set, customer_ids)
    return {c for c, is_target in zip(customer_ids, flags) if is_target}
