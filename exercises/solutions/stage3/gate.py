"""Exercise 3.3, a worked solution: make the gate refuse a model, and show the targets stayed.

In stage3.train.train_round, after a model is trained:

    passed, reason = gate(metrics, settings.model_error_threshold)
    ...                                          # the model is saved either way
    if passed:
        store.promote(version)
        publish_targets(redis_client, settings, version, score(model, features))

A refused model never reaches publish_targets: CURRENT and the Redis targets stay
exactly as the last passing model left them. The checker runs that decision with
your threshold and reads the targets with your current_targets().
"""
from __future__ import annotations


def refusing_threshold(metrics: dict) -> float:
    """A threshold at which the gate refuses this model for its error, at most 0.01 below it."""
    # rule 1 refuses when error > threshold; anything just below the error does it.
    # Half a point below is clearly refused whatever the rounding of the error.
    return metrics["error"] - 0.005


def beats_baseline(metrics: dict) -> bool:
    """Could this model pass at ANY threshold? Rule 2: error strictly below half the
    majority-class baseline's error."""
    # On unbalanced labels "nobody clicks" errs as often as the minority is large:
    # 5% when 5% click. Rule 2 asks for a real improvement over that, not just a low number.
    return metrics["error"] < metrics["baseline_error"] / 2


def current_targets(r, settings) -> dict[int, str]:
    """{customer_id: model_version} of the targets now in Redis."""
    # the names come from the settings (the checker moves them under keys of its own)
    ids = r.smembers(settings.redis_targets_set)          # an empty set when there are none
    pipe = r.pipeline(transaction=False)                  # one round trip for all the hashes
    for cid in ids:
        pipe.hget(f"{settings.redis_target_prefix}{cid}", "model_version")
    # Redis gives text (decode_responses=True): the ids become ints again
    return {int(cid): version for cid, version in zip(ids, pipe.execute())}


if __name__ == "__main__":
    # the real stage: the promoted model's metrics and the targets it published
    from common.clients import redis_client
    from common.config import get_settings
    from stage3.train import ModelStore, gate

    s = get_settings()
    store = ModelStore(s)
    current = store.current()
    if current is None:
        print("no promoted model yet: run make stage3-train first")
    else:
        m = store.info(current)["metrics"]
        t = refusing_threshold(m)
        print(f"{current}: error {m['error']:.4f}, baseline {m['baseline_error']:.4f}, "
              f"beats the baseline: {beats_baseline(m)}")
        print(f"at MODEL_ERROR_THRESHOLD={t:.4f} the gate says {gate(m, t)}")
        print(f"{len(current_targets(redis_client(s), s))} targets in {s.redis_targets_set}")
