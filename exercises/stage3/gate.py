"""Exercise 3.3: make the gate refuse a model, and show the targets stayed (15 minutes).

A training round (stage3.train.train_round) ends like this:

    passed, reason = gate(metrics, settings.model_error_threshold)
    ...                                          # every model is saved, passing or not
    if passed:
        store.promote(version)
        publish_targets(redis_client, settings, version, score(model, features))

gate() (02.stage3/train.py) passes a model only if
    1. its test error is at most the threshold (MODEL_ERROR_THRESHOLD, 0.10), and
    2. its test error is below half the majority-class baseline's error.

The checker plays two rounds without Spark: "v0001" publishes its targets with the
stage's publish_targets, under Redis keys of the checker's own; then "v0002", a
good model on the sample data, goes through the decision above, once with YOUR
threshold (it must be refused, and the targets must stay v0001's), once with 0.10
(it passes and replaces them). Your current_targets() is how it looks at Redis.

Given: metrics, a dict with (among others) "error" and "baseline_error";
r, a Redis client that returns text; settings, whose redis_targets_set names the set
of target ids and redis_target_prefix the start of each target's hash
(ad_target:<id> -> model_version, probability). Use the names from settings.

Check:  make check-stage3 EX=3.3

한국어
------
과제 3.3 (15분): gate가 모델을 거부하게 하고, 광고 대상이 그대로임을 보이기.
gate()(02.stage3/train.py)는 1. 테스트 error가 기준(MODEL_ERROR_THRESHOLD, 0.10) 이하이고
2. 다수 클래스 baseline 오류율의 절반보다 낮을 때만 모델을 통과시킵니다. 채점기는 Spark 없이
라운드 두 번을 돌립니다. "v0001"이 채점기 전용 Redis 키에 광고 대상을 게시하고, 샘플 데이터에서
좋은 모델인 "v0002"를 여러분의 기준으로 한 번(거부되어야 하고 광고 대상은 v0001의 것으로 남아야
함), 0.10으로 한 번(통과해 교체됨) 판정합니다. Redis를 읽는 방법은 여러분의 current_targets()입니다.
주어진 것: metrics("error", "baseline_error" 등), r(text를 돌려주는 Redis 클라이언트), settings
(redis_targets_set은 광고 대상 id의 set, redis_target_prefix는 대상마다의 hash 앞부분. settings의
이름을 쓰세요).
"""
from __future__ import annotations


def refusing_threshold(metrics: dict) -> float:
    """A threshold at which the gate refuses this model for its error: below the error,
    but at most 0.01 below it."""
    raise NotImplementedError("refusing_threshold: a threshold a little below metrics['error']")


def beats_baseline(metrics: dict) -> bool:
    """Could this model pass the gate at ANY threshold? (rule 2 alone)"""
    raise NotImplementedError("beats_baseline: rule 2 of gate(), error against the baseline error")


def current_targets(r, settings) -> dict[int, str]:
    """{customer_id: model_version} of the targets now in Redis."""
    # the set settings.redis_targets_set holds the ids; each hash
    # f"{settings.redis_target_prefix}{id}" holds model_version
    raise NotImplementedError("current_targets: SMEMBERS the targets set, then each hash's model_version")


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
