"""Stage-3 checkers: model metrics, a listening-profile feature, the quality gate and the
targets it keeps, one offer per customer per day, the SMS sender's dead letters, and one
feature of your own in the Spark ML pipeline (exercises/stage3/README.md).

Each checker that needs Redis works on keys of its own (``ex_<random>:...``, given to the
stage's code through a copy of the settings), filled from data/sample with the project's
own code (listening_profile, click_probability, publish_targets, queue_offers, SmsSender,
customer_features), and deletes them afterwards. The expected figures are computed here,
by the project's rule or by pandas, never typed in; where data/sample/ground_truth.json
gives a figure, the checker compares with it too.
"""
from __future__ import annotations

import contextlib
import io
import json
import math
import random
from itertools import islice
from uuid import uuid4

import pandas as pd

from common.config import REPO_ROOT, get_settings
from exercises.checking import Exercise, Text, Wrong

SAMPLE = REPO_ROOT / "data" / "sample"


def _unique() -> str:
    return f"ex_{uuid4().hex[:8]}"


def _own_settings(name: str, **extra):
    """The workshop's settings with every stage-3 Redis name moved under ``name``."""
    return get_settings().model_copy(update={
        "data_dir": SAMPLE,
        "redis_targets_set": f"{name}:ad_targets", "redis_target_prefix": f"{name}:ad_target:",
        "redis_offered_prefix": f"{name}:sms:offered:", "redis_offers_stream": f"{name}:sms:offers",
        "redis_offers_dead_stream": f"{name}:sms:offers:dead", "redis_offers_channel": f"{name}:offers",
        "redis_sms_sent_counter": f"{name}:sms:sent_total", "redis_model_status": f"{name}:model:status",
        "redis_outcomes_hash": f"{name}:sms:outcomes", **extra})


def _drop_keys(r, name: str) -> None:
    keys = list(r.scan_iter(f"{name}:*", count=1000))
    for i in range(0, len(keys), 500):
        r.delete(*keys[i:i + 500])


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _sample_customers() -> dict:
    from common.readers import iter_customers

    return {c.cust_id: c for _, c, _ in iter_customers(SAMPLE / "cust.csv") if c}


def _sample_docs(count: int | None = None) -> list[dict]:
    """The sample plays as the streaming job sees them: parse_event + the customer's
    Redis hash + the catalog row (stage2.enrich.enrich_event), in time order."""
    from common.events import parse_event
    from common.readers import iter_event_lines, read_catalog
    from stage2.enrich import enrich_event
    from stage2.import_customers import customer_hash

    customers = {cid: customer_hash(c) for cid, c in _sample_customers().items()}
    catalog = read_catalog(SAMPLE / "music.csv")
    events = [parse_event(line) for line in islice(iter_event_lines(SAMPLE / "tracks.csv"), count)]
    return [enrich_event(e, customers.get(e["customer_id"]), catalog.get(e["track_id"])) for e in events]


# --- 3.1 the metrics of a confusion matrix --------------------------------------------------
def metrics_oracle(tp: int, fp: int, fn: int, tn: int, majority: int) -> dict:
    """The arithmetic of stage3.train.evaluate, without Spark."""
    total, positives = tp + fp + fn + tn, tp + fn
    return {"error": (fp + fn) / total,
            "precision": tp / (tp + fp) if tp + fp else 0.0,
            "recall": tp / positives if positives else 0.0,
            "baseline_error": (positives if majority == 0 else total - positives) / total}


def _ro(value: int) -> str:
    """0 -> '0으로', 1 -> '1로' (the Korean particle follows how the digit is read)."""
    return f"{value}으로" if value == 0 else f"{value}로"


def _sample_labels() -> pd.Series:
    """customer_id -> 1.0 / 0.0: did the offered sample customer click ADV_REDUCED_1DAY."""
    from stage3.outcomes import past_clicks

    return past_clicks(_own_settings("unused")).set_index("customer_id")["label"]


def _call_metrics(module, tp, fp, fn, tn, majority):
    call = f"metrics(tp={tp}, fp={fp}, fn={fn}, tn={tn}, majority={majority})"
    try:
        got = module.metrics(tp=tp, fp=fp, fn=fn, tn=tn, majority=majority)
    except ZeroDivisionError:
        raise Wrong(f"{call} raised ZeroDivisionError: a model that picks nobody (tp + fp = 0) has no precision "
                    "to measure, and stage3.train.evaluate reports 0.0 then (recall too, when no customer clicked)",
                    f"{call}에서 ZeroDivisionError가 났습니다. 아무도 고르지 않은 모델(tp + fp = 0)은 precision을 잴 수 "
                    "없으므로 stage3.train.evaluate는 이때 0.0을 보고합니다(클릭한 고객이 없으면 recall도 0.0)") from None
    keys = ["error", "precision", "recall", "baseline_error"]
    if not isinstance(got, dict) or not set(keys) <= set(got):
        have = sorted(got) if isinstance(got, dict) else type(got).__name__
        raise Wrong(f"{call} returned {have}; return a dict with the keys {keys}",
                    f"{call}의 결과가 {have}입니다. 키가 {keys}인 dict를 돌려주세요")
    for key in keys:
        if not _is_number(got[key]):
            raise Wrong(f"{call}[{key!r}] is {got[key]!r}; every metric is a number between 0 and 1",
                        f"{call}[{key!r}]가 {got[key]!r}입니다. 지표는 모두 0과 1 사이의 숫자입니다")
    return call, got


def _compare_metrics(call: str, got: dict, tp, fp, fn, tn, majority) -> None:
    want = metrics_oracle(tp, fp, fn, tn, majority)
    total = tp + fp + fn + tn

    def off(key):
        return abs(got[key] - want[key]) > 1e-9

    if off("error"):
        if abs(got["error"] - (tp + tn) / total) < 1e-9:
            raise Wrong(f"{call} gave error {got['error']:.4f}, which is the accuracy (the share right); "
                        f"the error is the share wrong, {want['error']:.4f}",
                        f"{call}의 error 값 {got['error']:.4f}은(는) 정확도(맞힌 비율)입니다. error는 틀린 비율이고, "
                        f"기대값은 {want['error']:.4f}입니다")
        raise Wrong(f"{call} gave error {got['error']:.4f}, expected {want['error']:.4f}: the error is the share "
                    "of all test customers the model got wrong, false positives and false negatives alike",
                    f"{call}의 error 값이 {got['error']:.4f}입니다. 기대값은 {want['error']:.4f}입니다. error는 전체 테스트 "
                    "고객 중 모델이 틀린 비율입니다(false positive와 false negative 모두)")
    if off("precision") or off("recall"):
        if abs(got["precision"] - want["recall"]) < 1e-9 and abs(got["recall"] - want["precision"]) < 1e-9:
            raise Wrong(f"{call} swapped precision ({want['precision']:.4f}) and recall ({want['recall']:.4f}): "
                        "precision looks at the customers the model picked, recall at those who clicked",
                        f"{call}에서 precision({want['precision']:.4f})과 recall({want['recall']:.4f})이 바뀌었습니다. "
                        "precision은 모델이 고른 고객을, recall은 실제로 클릭한 고객을 기준으로 봅니다")
        if off("precision"):
            raise Wrong(f"{call} gave precision {got['precision']:.4f}, expected {want['precision']:.4f}: of the "
                        "customers the model picked (predicted 1), the share who clicked",
                        f"{call}의 precision 값이 {got['precision']:.4f}입니다. 기대값은 {want['precision']:.4f}입니다. "
                        "모델이 고른(1로 예측한) 고객 중 실제로 클릭한 비율입니다")
        raise Wrong(f"{call} gave recall {got['recall']:.4f}, expected {want['recall']:.4f}: of the customers "
                    "who clicked, the share the model picked",
                    f"{call}의 recall 값이 {got['recall']:.4f}입니다. 기대값은 {want['recall']:.4f}입니다. 실제로 클릭한 "
                    "고객 중 모델이 고른 비율입니다")
    if off("baseline_error"):
        other = metrics_oracle(tp, fp, fn, tn, 1 - majority)["baseline_error"]
        if abs(got["baseline_error"] - other) < 1e-9:
            raise Wrong(f"{call} gave baseline_error {got['baseline_error']:.4f}, the error of always answering "
                        f"{1 - majority}; the baseline always answers the majority class, {majority}, and is wrong on "
                        f"every customer of the other class: {want['baseline_error']:.4f}",
                        f"{call}의 baseline_error 값 {got['baseline_error']:.4f}은(는) 늘 {_ro(1 - majority)} 답할 때의 "
                        f"오류입니다. baseline은 늘 다수 클래스 {_ro(majority)} 답하므로 다른 클래스의 고객을 모두 "
                        f"틀립니다. 기대값은 {want['baseline_error']:.4f}입니다")
        raise Wrong(f"{call} gave baseline_error {got['baseline_error']:.4f}, expected {want['baseline_error']:.4f}: "
                    f"the baseline answers {majority} for every test customer, whatever the model predicted",
                    f"{call}의 baseline_error 값이 {got['baseline_error']:.4f}입니다. 기대값은 "
                    f"{want['baseline_error']:.4f}입니다. baseline은 모델의 예측과 상관없이 모든 테스트 고객에게 "
                    f"{_ro(majority)} 답합니다")


def check_metrics(module) -> None:
    cases = [
        (286, 29, 21, 504, 0),      # about the README's round: ~840 test customers, error ~6%
        (60, 25, 10, 5, 1),         # most customers clicked: the majority class is 1
        (0, 0, 42, 798, 0),         # "nobody clicks": 5% error, picks no one
    ]
    for case in cases:
        call, got = _call_metrics(module, *case)
        _compare_metrics(call, got, *case)

    # the sample's labels, and a model that always answers "no click": the ground truth's baseline
    labels = _sample_labels()
    clicked, offered = int(labels.sum()), len(labels)
    call, got = _call_metrics(module, 0, 0, clicked, offered - clicked, 0)
    _compare_metrics(call, got, 0, 0, clicked, offered - clicked, 0)
    truth = json.loads((SAMPLE / "ground_truth.json").read_text())["offer"]["baseline_error"]
    if round(got["baseline_error"], 4) != truth:
        raise Wrong(f"{call} gave baseline_error {got['baseline_error']:.4f}, but data/sample/GROUND_TRUTH.md "
                    f"gives {truth:.4f} for the {offered} offered sample customers",
                    f"{call}의 baseline_error 값이 {got['baseline_error']:.4f}입니다. data/sample/GROUND_TRUTH.md에 "
                    f"나온, 제안을 받은 표본 고객 {offered}명의 값은 {truth:.4f}입니다")


# --- 3.2 one listening-profile feature in pandas ----------------------------------------------
# one play each, on the edges of the night [22, 5): customer -> (time, is it night)
NIGHT_EDGES = {90001: ("04:59:59", 1.0), 90002: ("05:00:00", 0.0), 90003: ("21:59:59", 0.0),
               90004: ("22:00:00", 1.0), 90005: ("00:00:00", 1.0)}


def _profile_plays() -> pd.DataFrame:
    """The sample plays, plus edge customers: one play on each edge of the night, one
    customer who plays one track four times, one who plays three different tracks."""
    from common.readers import read_events

    plays = read_events(SAMPLE / "tracks.csv")
    rows = [(cid, 1, f"2026-10-27 {t}") for cid, (t, _) in NIGHT_EDGES.items()]
    rows += [(90006, 7, f"2026-10-27 1{h}:00:00") for h in range(4)]
    rows += [(90007, t, f"2026-10-28 0{t}:30:00") for t in (5, 6, 7)]
    first = int(plays["event_id"].max()) + 1
    edges = pd.DataFrame([(first + i, c, t, when, 1, "10001") for i, (c, t, when) in enumerate(rows)],
                         columns=list(plays.columns))
    both = pd.concat([plays, edges], ignore_index=True)
    return both.sample(frac=1.0, random_state=3).reset_index(drop=True)      # not in time order


def _as_series(result, call: str, column: str) -> pd.Series:
    if isinstance(result, pd.DataFrame):
        if column in result.columns:
            result = result[column]
        elif result.shape[1] == 1:
            result = result.iloc[:, 0]
    if not isinstance(result, pd.Series):
        raise Wrong(f"{call} returned {type(result).__name__}; return a pandas Series indexed by customer_id",
                    f"{call}가 {type(result).__name__}을(를) 돌려줬습니다. customer_id를 index로 하는 pandas Series를 "
                    "돌려주세요")
    try:
        return pd.Series(result.to_numpy(dtype=float), index=result.index.astype("int64"))
    except (TypeError, ValueError):
        raise Wrong(f"{call} should hold one number per customer, indexed by customer_id (got the index "
                    f"{list(result.index[:3])} ...)",
                    f"{call}는 customer_id를 index로, 고객마다 숫자 하나를 담아야 합니다(지금 index: "
                    f"{list(result.index[:3])} ...)") from None


def _same_customers(got: pd.Series, want: pd.Series, call: str) -> None:
    missing, extra = sorted(set(want.index) - set(got.index)), sorted(set(got.index) - set(want.index))
    if missing or extra:
        which = (f"misses customer {missing[0]}" if missing else f"has customer {extra[0]}, who never played",
                 f"고객 {missing[0]}이(가) 빠졌습니다" if missing else f"재생 기록이 없는 고객 {extra[0]}이(가) 있습니다")
        raise Wrong(f"{call} has {len(got)} customers, the plays {len(want)}: it {which[0]} "
                    "(group by customer_id, one value per customer)",
                    f"{call}의 고객은 {len(got)}명, 재생 기록의 고객은 {len(want)}명입니다. {which[1]} "
                    "(customer_id로 묶어 고객마다 값 하나)")


def check_profile_feature(module) -> None:
    from common.profiles import listening_profile, time_of_day

    plays = _profile_plays()
    got = _as_series(module.night_share(plays.copy()), "night_share(plays)", "night")
    want = listening_profile(plays)
    _same_customers(got, want["night"], "night_share(plays)")
    for cid, (at, night) in NIGHT_EDGES.items():
        if abs(got[cid] - night) > 1e-9:
            raise Wrong(f"night_share(plays) gives {got[cid]:.2f} for customer {cid}, whose only play is at {at}: "
                        f"that hour is {time_of_day(int(at[:2]))} (night is [22, 5), it wraps round midnight)",
                        f"night_share(plays)가 {at}에 한 번만 재생한 고객 {cid}에게 준 값은 {got[cid]:.2f}입니다. 그 시각은 "
                        f"{time_of_day(int(at[:2]))}입니다(night는 [22, 5)로, 자정을 넘어 이어집니다)")
    hours = plays["datetime"].str.slice(11, 13).astype(int)
    wrong = (got - want["night"]).abs() > 1e-9
    if wrong.any():
        cid = int(wrong[wrong].index[0])
        mine = hours[plays["customer_id"] == cid]
        at_night = int(sum(time_of_day(h) == "night" for h in mine))
        raise Wrong(f"night_share(plays) gives {got[cid]:.4f} for customer {cid}, who has {len(mine)} plays, "
                    f"{at_night} of them at night: the share is {want['night'][cid]:.4f}",
                    f"night_share(plays)가 고객 {cid}에게 준 값은 {got[cid]:.4f}입니다. 이 고객은 {len(mine)}번 "
                    f"재생했고 그중 {at_night}번이 night이므로 비율은 {want['night'][cid]:.4f}입니다")

    got = _as_series(module.distinct_ratio(plays.copy()), "distinct_ratio(plays)", "distinct_ratio")
    _same_customers(got, want["distinct_ratio"], "distinct_ratio(plays)")
    wrong = (got - want["distinct_ratio"]).abs() > 1e-9
    if wrong.any():
        # the hand-made customers first: their counts are the easiest to follow
        cid = max(wrong[wrong].index, key=lambda c: (c >= 90006, -c))
        mine = plays[plays["customer_id"] == cid]
        n, d = len(mine), mine["track_id"].nunique()
        raise Wrong(f"distinct_ratio(plays) gives {got[cid]:.4f} for customer {cid}, whose {n} plays hold {d} "
                    f"different track{'s' if d != 1 else ''}: expected {want['distinct_ratio'][cid]:.4f}, distinct tracks over plays, "
                    "per customer",
                    f"distinct_ratio(plays)가 고객 {cid}에게 준 값은 {got[cid]:.4f}입니다. 이 고객은 {n}번 재생에서 "
                    f"서로 다른 곡 {d}곡을 들었으므로, 고객별 '서로 다른 곡 수 / 재생 수'로 구한 기대값은 "
                    f"{want['distinct_ratio'][cid]:.4f}입니다")


# --- 3.3 the gate refuses, the targets stay ------------------------------------------------------
def _ground_truth_rounds() -> tuple[dict, dict, dict]:
    """Two 'models' without Spark: the generator's own click model (common.click_model, the best
    any model can do) applied to the sample profiles. v0001 saw the first half of the week,
    v0002 all of it. Returns (v0001 targets, v0002 targets, v0002's test metrics), targets as
    {customer_id: probability} of the Free and Silver customers with P > 0.5, like score()."""
    from common.click_model import click_probability
    from common.customers import level_label
    from common.profiles import listening_profile
    from common.readers import read_customers, read_events

    plays = read_events(SAMPLE / "tracks.csv")
    customers, _ = read_customers(SAMPLE / "cust.csv")
    level = customers.set_index("CustID")["Level"].map(level_label)
    offerable = set(level[level.isin(["Free", "Silver"])].index)

    def targets(history):
        p = click_probability(listening_profile(history), customers)
        return {int(c): float(v) for c, v in p.items() if c in offerable and v > 0.5}

    middle = plays["datetime"].iloc[len(plays) // 2]
    first, second = targets(plays[plays["datetime"] < middle]), targets(plays)
    labels = _sample_labels()
    picked = pd.Series([float(c in second) for c in labels.index], index=labels.index)
    tp, fp = int(((picked == 1) & (labels == 1)).sum()), int(((picked == 1) & (labels == 0)).sum())
    fn, tn = int(((picked == 0) & (labels == 1)).sum()), int(((picked == 0) & (labels == 0)).sum())
    majority = 1 if labels.mean() > 0.5 else 0
    return first, second, {**metrics_oracle(tp, fp, fn, tn, majority), "confusion": {"tp": tp, "fp": fp,
                                                                                      "fn": fn, "tn": tn}}


def after_training(r, settings, version: str, metrics: dict, targets: dict, threshold: float) -> tuple[bool, str]:
    """What stage3.train.train_round does once a model is trained: the gate decides; only a
    passing model publishes its targets. A refused one touches nothing in Redis."""
    from stage3.targets import publish_targets
    from stage3.train import gate

    passed, reason = gate(metrics, threshold)
    if passed:
        publish_targets(r, settings, version, targets)
    return passed, reason


def _read_targets(module, r, s, when: tuple[str, str]) -> dict:
    call = "current_targets(r, settings)"
    got = module.current_targets(r, s)
    if not isinstance(got, dict):
        raise Wrong(f"{call} {when[0]} returned {type(got).__name__}; return a dict {{customer_id: model_version}}",
                    f"{when[1]} {call}가 {type(got).__name__}을(를) 돌려줬습니다. {{customer_id: model_version}} dict를 "
                    "돌려주세요")
    if any(isinstance(k, str) for k in got):
        raise Wrong(f"{call} {when[0]} has text keys such as {next(k for k in got if isinstance(k, str))!r}; Redis "
                    "gives text, convert the customer ids with int()",
                    f"{when[1]} {call}의 키가 {next(k for k in got if isinstance(k, str))!r} 같은 문자열입니다. Redis는 "
                    "문자열을 주므로 고객 id를 int()로 바꾸세요")
    return got


def _compare_targets(got: dict, want: dict, s, when: tuple[str, str], r) -> None:
    if got == want:
        return
    call = "current_targets(r, settings)"
    stage_set = get_settings().redis_targets_set
    if set(got) and set(got) == {int(c) for c in r.smembers(stage_set)}:
        raise Wrong(f"{call} {when[0]} read the stage's own set {stage_set!r} ({len(got)} targets), not "
                    f"{s.redis_targets_set!r}: take the names from settings (redis_targets_set, redis_target_prefix)",
                    f"{when[1]} {call}가 {s.redis_targets_set!r}가 아니라 단계의 set {stage_set!r}(대상 "
                    f"{len(got)}명)를 읽었습니다. 이름은 settings에서 가져오세요(redis_targets_set, redis_target_prefix)")
    if not got:
        raise Wrong(f"{call} {when[0]} found no targets, but {len(want)} are in the set {s.redis_targets_set}: "
                    "read the set settings.redis_targets_set names (not 'ad_targets': the checker uses keys of its own)",
                    f"{when[1]} {call}가 대상을 하나도 찾지 못했지만 {s.redis_targets_set} set에는 {len(want)}명이 "
                    "있습니다. settings.redis_targets_set이 가리키는 set을 읽으세요('ad_targets'가 아닙니다. 채점기는 "
                    "자기 키를 씁니다)")
    if set(got) != set(want):
        extra, missing = sorted(set(got) - set(want)), sorted(set(want) - set(got))
        which = (f"customer {missing[0]} is missing" if missing else f"customer {extra[0]} is not a target",
                 f"고객 {missing[0]}이(가) 빠졌습니다" if missing else f"고객 {extra[0]}은(는) 대상이 아닙니다")
        raise Wrong(f"{call} {when[0]} found {len(got)} targets, the set {s.redis_targets_set} holds {len(want)}: "
                    f"{which[0]}", f"{when[1]} {call}가 찾은 대상은 {len(got)}명, {s.redis_targets_set} set에는 "
                    f"{len(want)}명입니다. {which[1]}")
    cid = next(c for c in sorted(want) if got[c] != want[c])
    raise Wrong(f"{call} {when[0]} gives customer {cid} the value {got[cid]!r}, but the hash "
                f"{s.redis_target_prefix}{cid} says model_version {want[cid]!r}: read that field of each target's hash",
                f"{when[1]} {call}가 고객 {cid}에게 {got[cid]!r} 값을 줬지만 {s.redis_target_prefix}{cid} hash의 "
                f"model_version은 {want[cid]!r}입니다. 대상마다 hash의 그 필드를 읽으세요")


def check_gate(module) -> None:
    from common.clients import redis_client
    from stage3.targets import publish_targets
    from stage3.train import gate

    first, second, metrics = _ground_truth_rounds()
    # 1. the threshold: the gate must refuse this good model on rule 1 (its error), barely
    call = f"refusing_threshold({{'error': {metrics['error']:.4f}, 'baseline_error': {metrics['baseline_error']:.4f}, ...}})"
    threshold = module.refusing_threshold(dict(metrics))
    if not _is_number(threshold):
        raise Wrong(f"{call} returned {threshold!r}; return a number (a threshold on the test error)",
                    f"{call}가 돌려준 값은 {threshold!r}입니다. 숫자(테스트 error의 기준값)를 돌려주세요")
    passed, reason = gate(metrics, threshold)
    if passed:
        raise Wrong(f"{call} returned {threshold:.4f}, and the gate passes the model at that threshold ({reason}): "
                    "the gate refuses when the test error is above the threshold",
                    f"{call}가 돌려준 값은 {threshold:.4f}인데, 그 기준이면 gate가 모델을 통과시킵니다({reason}). "
                    "gate는 테스트 error가 기준보다 클 때 거부합니다")
    if metrics["error"] - threshold > 0.01:
        raise Wrong(f"{call} returned {threshold:.4f}, {metrics['error'] - threshold:.4f} below the model's error "
                    f"{metrics['error']:.4f}: any threshold that low refuses; pick one at most 0.01 below the error, "
                    "the closest call the gate can make",
                    f"{call}가 돌려준 값 {threshold:.4f}은(는) 모델 error {metrics['error']:.4f}보다 "
                    f"{metrics['error'] - threshold:.4f} 낮습니다. 그렇게 낮으면 무엇이든 거부됩니다. error보다 최대 0.01 "
                    "낮은, gate가 아슬아슬하게 거부하는 값을 고르세요")

    # 2. rule 2, on its own: could this model pass at any threshold?
    for error, baseline in ((metrics["error"], metrics["baseline_error"]), (0.05, 0.05), (0.381, 0.450),
                            (0.100, 0.200), (0.099, 0.200)):
        m = {"error": error, "baseline_error": baseline}
        want = gate(m, 1.0)[0]          # threshold 1.0: rule 1 always holds, only rule 2 decides
        got = module.beats_baseline(dict(m))
        if got is not want:
            call = f"beats_baseline({{'error': {error:.4f}, 'baseline_error': {baseline:.4f}}})"
            why = (f"{error:.4f} is below half the baseline error ({baseline / 2:.4f})" if want else
                   f"{error:.4f} is not below half the baseline error ({baseline:.4f} / 2 = {baseline / 2:.4f})",
                   f"error({error:.4f})는 baseline error의 절반({baseline / 2:.4f})보다 작습니다" if want else
                   f"error({error:.4f})는 baseline error의 절반({baseline:.4f} / 2 = {baseline / 2:.4f})보다 작지 않습니다")
            raise Wrong(f"{call} returned {got!r}, expected {want}: {why[0]} (rule 2 of the gate, strictly below)",
                        f"{call}가 {got!r} 값을 돌려줬지만 기대값은 {want}입니다. {why[1]}(gate 규칙 2, '보다 작다'는 엄격한 비교)")

    # 3. the targets in Redis: published by v0001, kept by the refused round, replaced by a passing one
    name = _unique()
    s = _own_settings(name)
    r = redis_client(s)
    try:
        publish_targets(r, s, "v0001", first)
        when = ("after v0001 was published", "v0001을 발행한 뒤")
        before = _read_targets(module, r, s, when)
        _compare_targets(before, {c: "v0001" for c in first}, s, when, r)
        passed, reason = after_training(r, s, "v0002", metrics, second, threshold)
        when = (f"after v0002 was refused ({reason})", f"v0002가 거부된 뒤({reason})")
        _compare_targets(_read_targets(module, r, s, when), before, s, when, r)
        passed, reason = after_training(r, s, "v0002", metrics, second, s.model_error_threshold)
        when = (f"after v0002 passed at {s.model_error_threshold:.2f}",
                f"v0002가 기준 {s.model_error_threshold:.2f}에서 통과한 뒤")
        _compare_targets(_read_targets(module, r, s, when), {c: "v0002" for c in second}, s, when, r)
    finally:
        _drop_keys(r, name)


# --- 3.4 one offer per customer per day -----------------------------------------------------------
EDGE_TARGET, EDGE_GOLD, EDGE_OTHER = 99001, 99002, 99003


def _offer_docs() -> tuple[list[dict], set[int]]:
    """The sample plays as documents, plus three hand-made customers: a Free target who plays at
    23:59:59 and again at 00:00:00 the next day (given out of time order), a Gold target,
    and a Free customer who is not a target. Targets: every third sample customer (Gold
    ones included: a target who is Gold now never gets an offer) and the first two."""
    docs = _sample_docs()
    first = max(d["event_id"] for d in docs) + 1

    def doc(i, cid, when, level):
        return {"event_id": first + i, "customer_id": cid, "track_id": 7, "datetime": when, "level": level,
                "name": f"Edge {cid}", "title": "Edge track", "customer_known": True}

    docs += [doc(0, EDGE_TARGET, "2026-10-30 08:00:00", "Free"), doc(1, EDGE_TARGET, "2026-10-29 23:59:59", "Free"),
             doc(2, EDGE_TARGET, "2026-10-30 00:00:00", "Free"), doc(3, EDGE_GOLD, "2026-10-29 10:00:00", "Gold"),
             doc(4, EDGE_OTHER, "2026-10-29 10:00:00", "Free")]
    targets = {c for c in _sample_customers() if c % 3 == 0} | {EDGE_TARGET, EDGE_GOLD}
    return docs, targets


def _partitions(docs: list[dict], seed: int) -> list[list[dict]]:
    """Two partitions keyed by customer, like the Kafka topic; copies, in a shuffled order."""
    rows = [dict(d) for d in docs]
    random.Random(seed).shuffle(rows)
    return [[d for d in rows if d["customer_id"] % 2 == p] for p in (0, 1)]


def _describe_play(docs_by_id: dict, event_id) -> str:
    d = docs_by_id.get(event_id)
    return f"play {event_id} at {d['datetime']}" if d else f"event {event_id!r} (no such play)"


def _describe_play_ko(docs_by_id: dict, event_id) -> str:
    d = docs_by_id.get(event_id)
    return f"{d['datetime']}의 재생(event {event_id})" if d else f"event {event_id!r}(없는 재생)"


def check_once_a_day(module) -> None:
    from common.clients import redis_client
    from stage3.offers import queue_offers
    from stage3.targets import publish_targets

    docs, targets = _offer_docs()
    mine = module.first_plays([dict(d) for d in docs], set(targets))
    if not isinstance(mine, dict):
        raise Wrong(f"first_plays(docs, targets) returned {type(mine).__name__}; return a dict "
                    "{offer_id: event_id}, offer_id like '42-2026-10-27'",
                    f"first_plays(docs, targets)가 {type(mine).__name__}을(를) 돌려줬습니다. offer_id가 "
                    "'42-2026-10-27' 꼴인 {offer_id: event_id} dict를 돌려주세요")
    name = _unique()
    s = _own_settings(name)
    r = redis_client(s)
    try:
        publish_targets(r, s, "v0001", {c: 0.9 for c in targets})
        # the project's live targeting, run twice: the second run is a replay after a restart
        flagged = set()
        for part in _partitions(docs, seed=1):
            flagged |= queue_offers(r, part, s)
        length = r.xlen(s.redis_offers_stream)
        for part in _partitions(docs, seed=2):
            queue_offers(r, part, s)
        if r.xlen(s.redis_offers_stream) != length:      # the project's guarantee, not the learner's
            raise RuntimeError(f"queue_offers queued {r.xlen(s.redis_offers_stream) - length} offers again on a replay")
        stream = [f["offer_id"] for _, f in r.xrange(s.redis_offers_stream)]
        by_id = {d["event_id"]: d for d in docs}
        truth = {}
        for offer in stream:
            cid, day = offer.split("-", 1)
            truth[offer] = int(r.get(f"{s.redis_offered_prefix}{cid}:{day}"))

        # the learner's rule against what the stage queued
        bad = [k for k in mine if not isinstance(k, str) or k.count("-") < 3]
        if bad:
            raise Wrong(f"first_plays() has the key {bad[0]!r}; an offer id is '<customer_id>-<YYYY-MM-DD>', "
                        f"e.g. {stream[0]!r} (stage3.offers.offer_message)",
                        f"first_plays()의 키 {bad[0]!r}: offer id 형식이 아닙니다. offer id는 '<customer_id>-<YYYY-MM-DD>' "
                        f"꼴입니다. 예: {stream[0]!r} (stage3.offers.offer_message)")
        extra, missing = sorted(set(mine) - set(truth)), sorted(set(truth) - set(mine))
        if extra or missing:
            head = (f"first_plays() gives {len(mine)} offers, the stage queued {len(truth)} (one per Free or Silver "
                    "target per day)", f"first_plays()가 준 제안은 {len(mine)}건, 단계가 큐에 넣은 것은 "
                    f"{len(truth)}건입니다(Free/Silver 대상 고객마다 하루 한 건)")
            cid = int((extra or missing)[0].split("-")[0])
            if extra:
                level = next((d["level"] for d in docs if d["customer_id"] == cid), None)
                why = ((f"customer {cid} is not a target" if cid not in targets else
                        f"customer {cid} is a target but {level}, with nothing to upgrade to" if level not in
                        ("Free", "Silver") else "the stage has no such offer: is the day the play's UTC date?"),
                       (f"고객 {cid}은(는) 대상이 아닙니다" if cid not in targets else
                        f"고객 {cid}은(는) 대상이지만 {level} 등급이라 업그레이드할 것이 없습니다" if level not in
                        ("Free", "Silver") else "단계에는 그런 제안이 없습니다. 날짜가 재생 시각의 UTC 날짜인가요?"))
                raise Wrong(f"{head[0]}: {extra[0]!r} should not be there, {why[0]}",
                            f"{head[1]}. {extra[0]!r} 제안은 없어야 합니다. {why[1]}")
            raise Wrong(f"{head[0]}: {missing[0]!r} is missing, queued by {_describe_play(by_id, truth[missing[0]])}"
                        + (" (23:59:59 and 00:00:00 are two days)" if cid == EDGE_TARGET else ""),
                        f"{head[1]}. {missing[0]!r} 제안이 빠졌습니다. {_describe_play_ko(by_id, truth[missing[0]])}이 넣은 "
                        "제안입니다" + (" (23:59:59와 00:00:00은 서로 다른 날입니다)" if cid == EDGE_TARGET else ""))
        for offer in sorted(truth):
            got = mine[offer]
            if got != truth[offer]:
                raise Wrong(f"first_plays()[{offer!r}] is {_describe_play(by_id, got)}, but the offer goes with the "
                            f"customer's first play that day, {_describe_play(by_id, truth[offer])} (sort by time)",
                            f"first_plays()[{offer!r}]는 {_describe_play_ko(by_id, got)}입니다. 제안은 그날 고객의 "
                            f"첫 재생인 {_describe_play_ko(by_id, truth[offer])}에 붙습니다(시각 순으로 정렬하세요)")
        if flagged != set(truth.values()):
            raise RuntimeError("queue_offers flagged other plays than the ones its keys hold")

        # reading what the stage wrote: the stream, and the key that remembers the winning play
        got = module.queued_offer_ids(r, s.redis_offers_stream)
        if list(got) != stream:
            raise Wrong(f"queued_offer_ids(r, stream) gave {len(list(got))} ids starting {list(got)[:2]}, the stream "
                        f"{s.redis_offers_stream} holds {len(stream)} starting {stream[:2]}: XRANGE from - to +, the "
                        "offer_id field of each entry, in stream order",
                        f"queued_offer_ids(r, stream)가 준 id는 {len(list(got))}개(처음: {list(got)[:2]}), "
                        f"{s.redis_offers_stream} 스트림에는 {len(stream)}개(처음: {stream[:2]})가 있습니다. - 부터 + 까지 "
                        "XRANGE로 읽고, 항목마다 offer_id 필드를 스트림 순서대로 돌려주세요")
        probes = [next(o for o in truth if o.startswith(f"{EDGE_TARGET}-")), stream[0], stream[-1]]
        for offer in probes:
            cid, day = offer.split("-", 1)
            got = module.winning_play(r, s, int(cid), day)
            if isinstance(got, str) and got == str(truth[offer]):
                raise Wrong(f"winning_play(r, settings, {cid}, {day!r}) gave the text {got!r}; Redis stores text, "
                            "return the event id as an int",
                            f"winning_play(r, settings, {cid}, {day!r})가 문자열 {got!r}를 돌려줬습니다. Redis는 "
                            "문자열로 저장하니 event id를 int로 바꿔 돌려주세요")
            if got != truth[offer]:
                raise Wrong(f"winning_play(r, settings, {cid}, {day!r}) gave {got!r}, but the key "
                            f"{s.redis_offered_prefix}{cid}:{day} holds {truth[offer]} (an int): build the key from "
                            "settings.redis_offered_prefix",
                            f"winning_play(r, settings, {cid}, {day!r})가 {got!r} 값을 돌려줬지만 "
                            f"{s.redis_offered_prefix}{cid}:{day} 키에는 {truth[offer]}(정수)가 들어 있습니다. 키는 "
                            "settings.redis_offered_prefix로 만드세요")
        got = module.winning_play(r, s, EDGE_OTHER, "2026-10-29")
        if got is not None:
            raise Wrong(f"winning_play(r, settings, {EDGE_OTHER}, '2026-10-29') gave {got!r} for a customer who got "
                        "no offer that day: return None when the key does not exist",
                        f"그날 제안을 받지 않은 고객에 대해 winning_play(r, settings, {EDGE_OTHER}, '2026-10-29')가 "
                        f"{got!r} 값을 돌려줬습니다. 키가 없으면 None을 돌려주세요")
    finally:
        _drop_keys(r, name)


# --- 3.5 the SMS sender: a provider with a length limit, and what became of each offer -------------
def _sms_offers(count: int) -> list[dict]:
    """Offers as queue_offers writes them (offer_message): each customer's first sample play."""
    from stage3.offers import offer_message, period_of

    seen, offers = set(), []
    for d in _sample_docs(600):
        if d["customer_id"] not in seen and d.get("level") in ("Free", "Silver"):
            seen.add(d["customer_id"])
            offers.append(offer_message(d, period_of(d["datetime"]), "2026-11-01T00:00:00+00:00"))
    return offers[:count]


def _new_sender(module, limit: int):
    try:
        return module.ShortSmsSender(limit)
    except TypeError as exc:
        raise Wrong(f"ShortSmsSender({limit}) failed ({exc}): keep the constructor ShortSmsSender(limit)",
                    f"ShortSmsSender({limit})가 실패했습니다({exc}). 생성자는 ShortSmsSender(limit) 그대로 두세요") from None


def check_sms_sender(module) -> None:
    from common.clients import redis_client
    from stage3.sms_sender import GROUP, SmsSender, delivered_count, delivered_sets, render_sms

    offers = _sms_offers(30)
    lengths = sorted(len(render_sms(o)) for o in offers)
    limit = lengths[len(lengths) // 2]            # about half the texts are too long
    short = next(o for o in offers if len(render_sms(o)) == limit)   # exactly at the limit: allowed
    long = next(o for o in offers if len(render_sms(o)) > limit)

    # 1. the sender on its own
    probe = _new_sender(module, limit)
    try:
        probe.send(dict(short))
    except NotImplementedError:
        raise
    except Exception as exc:
        raise Wrong(f"send() refused offer {short['offer_id']}, whose text is exactly {limit} characters, the limit "
                    f"({exc}): a text as long as the limit fits, refuse only a longer one",
                    f"send()가 offer {short['offer_id']}를 거부했습니다({exc}). 이 문자는 한도와 같은 {limit}자입니다. "
                    "한도와 길이가 같으면 보낼 수 있으니, 더 긴 문자만 거부하세요") from None
    sent = list(getattr(probe, "sent", []))
    if sent != [(short["offer_id"], render_sms(short))]:
        raise Wrong(f"after send() of offer {short['offer_id']} (its text is exactly {limit} characters, the limit), "
                    f"sender.sent is {sent[:1]!r}; expected [(offer_id, render_sms(offer))]: a text as long as the "
                    "limit fits",
                    f"offer {short['offer_id']}(문자 길이가 한도와 같은 {limit}자)를 send()한 뒤 sender.sent가 "
                    f"{sent[:1]!r}입니다. [(offer_id, render_sms(offer))]여야 합니다. 한도와 길이가 같은 문자는 보낼 수 "
                    "있습니다")
    n = len(render_sms(long))
    try:
        probe.send(dict(long))
    except Exception as exc:
        if str(n) not in str(exc):
            raise Wrong(f"send() refused the {n}-character text of offer {long['offer_id']} with the message "
                        f"{str(exc)!r}; say how long the text is ({n}) and the limit ({limit}): that message is what "
                        "the dead letter will show",
                        f"send()가 offer {long['offer_id']}의 {n}자 문자를 {str(exc)!r} 메시지로 거부했습니다. 문자 "
                        f"길이({n})와 한도({limit})를 메시지에 넣으세요. 그 메시지가 dead letter에 남습니다") from None
    else:
        raise Wrong(f"send() accepted the {n}-character text of offer {long['offer_id']}, over the limit {limit}: "
                    "raise an exception, so the SMS sender retries it and then dead-letters it",
                    f"send()가 한도 {limit}자를 넘는 offer {long['offer_id']}의 {n}자 문자를 받아들였습니다. 예외를 "
                    "던져야 SMS 발송기가 재시도한 뒤 dead letter로 보냅니다")
    if len(getattr(probe, "sent", [])) != 1:
        raise Wrong("send() recorded the refused text in sender.sent; record only what was sent",
                    "send()가 거부한 문자까지 sender.sent에 기록했습니다. 실제로 보낸 것만 기록하세요")

    # 2. the stage's SmsSender, with your sender, on a stream of its own
    name = _unique()
    s = _own_settings(name, sms_max_attempts=2)
    r = redis_client(s)
    try:
        for o in offers:
            r.xadd(s.redis_offers_stream, o)
        r.xadd(s.redis_offers_stream, offers[0])            # a replayed offer: delivered once only
        sender = _new_sender(module, limit)
        app = SmsSender(r, s, sender, consumer="checker", backoff=0.0, customers=None)
        with contextlib.redirect_stdout(io.StringIO()):      # its one line per dead letter
            app.run(until_idle=0.2)
        fits = [o for o in offers if len(render_sms(o)) <= limit]
        got = list(getattr(sender, "sent", []))
        want = [(o["offer_id"], render_sms(o)) for o in fits]
        if sorted(got) != sorted(want):
            raise Wrong(f"the SMS sender delivered {len(got)} texts through your sender, {len(want)} fit in {limit} "
                        "characters: record each sent offer once, as (offer_id, render_sms(offer))",
                        f"SMS 발송기가 여러분의 sender로 보낸 문자는 {len(got)}건, {limit}자 안에 드는 것은 {len(want)}건입니다. "
                        "보낸 offer마다 (offer_id, render_sms(offer))를 한 번씩 기록하세요")
        for _, f in r.xrange(s.redis_offers_dead_stream):
            if str(len(render_sms(f))) not in f.get("error", ""):
                raise Wrong(f"the dead letter of offer {f['offer_id']} says {f.get('error')!r}: the reason should "
                            f"name the text's length, {len(render_sms(f))}",
                            f"offer {f['offer_id']}의 dead letter에 남은 이유가 {f.get('error')!r}입니다. 문자 "
                            f"길이({len(render_sms(f))})가 들어가야 합니다")

        # 3. three more offers, read by a sender that crashed before acknowledging them
        for o in _sms_offers(33)[30:]:
            r.xadd(s.redis_offers_stream, o)
        r.xreadgroup(GROUP, "crashed", {s.redis_offers_stream: ">"}, count=10)
        want = {"queued": r.xlen(s.redis_offers_stream), "pending": r.xpending(s.redis_offers_stream, GROUP)["pending"],
                "delivered": delivered_count(r, s), "dead": r.xlen(s.redis_offers_dead_stream)}
        got = module.delivery_report(r, s)
        if not isinstance(got, dict) or set(got) != set(want):
            have = sorted(got) if isinstance(got, dict) else type(got).__name__
            raise Wrong(f"delivery_report(r, settings) returned {have}; return a dict with the keys {sorted(want)}",
                        f"delivery_report(r, settings)의 결과가 {have}입니다. 키가 {sorted(want)}인 dict를 돌려주세요")
        where = {"queued": f"XLEN {s.redis_offers_stream} (entries stay in a stream after XACK)",
                 "pending": f"XPENDING {s.redis_offers_stream} {GROUP} (read, not yet acknowledged)",
                 "delivered": f"SCARD of each set in delivered_sets(settings) ({delivered_sets(s)[0]}, "
                              "one per day), added up",
                 "dead": f"XLEN {s.redis_offers_dead_stream}"}
        where_ko = {"queued": f"XLEN {s.redis_offers_stream} (스트림 항목은 XACK 뒤에도 남습니다)",
                    "pending": f"XPENDING {s.redis_offers_stream} {GROUP} (읽었지만 아직 ack하지 않은 것)",
                    "delivered": f"delivered_sets(settings)의 set({delivered_sets(s)[0]} 등, 하루에 하나)마다 "
                                 "SCARD를 구해 더한 값",
                    "dead": f"XLEN {s.redis_offers_dead_stream}"}
        for key in ("queued", "pending", "delivered", "dead"):
            if got[key] != want[key]:
                raise Wrong(f"delivery_report() gives {key} = {got[key]!r}, expected {want[key]}: {where[key]}, with "
                            "the names in settings (the checker's keys are not the stage's)",
                            f"delivery_report()의 {key} 값이 {got[key]!r}입니다. 기대값은 {want[key]}입니다. {where_ko[key]}. "
                            "이름은 settings에서 가져오세요(채점기의 키는 단계의 키와 다릅니다)")
    finally:
        _drop_keys(r, name)


# --- 3.6 (stretch) a feature of your own, in the Spark ML pipeline ---------------------------------
class _Probe:
    """Stands in for the DataFrames on a first call: an untouched starter raises
    NotImplementedError before touching them, so no Spark session is started for it."""

    def __getattr__(self, name):
        raise AttributeError(name)

    def __getitem__(self, name):
        raise KeyError(name)


def _untouched(function, *args) -> None:
    try:
        function(*args)
    except NotImplementedError:
        raise
    except Exception:       # it began to work on the DataFrames: a real answer, check it with Spark
        pass


def reference_round(labelled, numeric: list[str]):
    """stage3.train.fit_and_evaluate's round with ``numeric`` as the numeric inputs: the same
    seeded split, encoders, LogisticRegression and metrics."""
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression

    from stage3.features import vectorizer_stages
    from stage3.train import LR_PARAMS, SEED, TRAIN_FRACTION, evaluate

    train, test = labelled.randomSplit([TRAIN_FRACTION, 1 - TRAIN_FRACTION], seed=SEED)
    majority = 1.0 if train.where("label = 1").count() * 2 > train.count() else 0.0
    stages = vectorizer_stages()
    assembler = stages[-1]
    assembler.setInputCols(numeric + [c for c in assembler.getInputCols() if c.endswith("_vec")])
    model = Pipeline(stages=[*stages, LogisticRegression(**LR_PARAMS)]).fit(train)
    return evaluate(model.transform(test), majority)


def check_my_feature(module) -> None:
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    from common.spark import get_spark
    from stage3.features import NUMERIC_FEATURES, QUIET, customer_features, read_customers, read_labels, read_plays_csv

    _untouched(module.add_feature, _Probe(), _Probe())
    column = getattr(module, "FEATURE", None)
    if not isinstance(column, str) or not column or column in NUMERIC_FEATURES + ["customer_id", "label"]:
        raise Wrong(f"FEATURE = {column!r}: name your new column, a name the features do not have yet "
                    f"(they have {', '.join(NUMERIC_FEATURES)})",
                    f"FEATURE = {column!r}입니다. 새 컬럼의 이름을 적으세요. 기존 feature에 없는 이름이어야 합니다"
                    f"(기존: {', '.join(NUMERIC_FEATURES)})")
    existing = SparkSession.getActiveSession()
    s = _own_settings("unused")
    spark = existing or get_spark("exercise-3.6", s, kafka=False, extra_conf=QUIET)
    if existing is None:
        spark.sparkContext.setLogLevel("ERROR")     # the learner reads one line, not Spark's warnings
    try:
        plays = read_plays_csv(spark, SAMPLE / "tracks.csv").cache()
        feats = customer_features(plays, read_customers(spark, SAMPLE / "cust.csv")).cache()
        before = feats.toPandas().sort_values("customer_id").reset_index(drop=True)
        new = module.add_feature(plays, feats)
        if not hasattr(new, "columns") or not hasattr(new, "toPandas"):
            raise Wrong(f"add_feature(plays, features) returned {type(new).__name__}; return the Spark DataFrame of "
                        "features with your column added (features.withColumn or a join)",
                        f"add_feature(plays, features)가 {type(new).__name__}을(를) 돌려줬습니다. 새 컬럼을 더한 Spark "
                        "DataFrame을 돌려주세요(features.withColumn 또는 join)")
        added = [c for c in new.columns if c not in feats.columns]
        lost = [c for c in feats.columns if c not in new.columns]
        if lost or added != [column]:
            raise Wrong(f"add_feature() returned the columns {new.columns}; expected the feature columns and one more, "
                        f"{column!r} (FEATURE)",
                        f"add_feature()의 컬럼이 {new.columns}입니다. 기존 feature 컬럼에 {column!r}(FEATURE) 하나만 더해야 "
                        "합니다")
        if not isinstance(new.schema[column].dataType, _numeric_types()):
            raise Wrong(f"{column} is {new.schema[column].dataType.simpleString()}; the assembler takes numbers: "
                        "cast it to double",
                        f"{column}의 타입이 {new.schema[column].dataType.simpleString()}입니다. VectorAssembler는 숫자만 "
                        "받으니 double로 바꾸세요")
        after = new.withColumn(column, F.col(column).cast("double")).toPandas()
        after = after.sort_values("customer_id").reset_index(drop=True)
        if len(after) != len(before) or not after["customer_id"].equals(before["customer_id"]):
            raise Wrong(f"add_feature() returned {len(after)} rows for {len(before)} customers: one row per customer "
                        "stays one row (join on customer_id with how='left' keeps them all)",
                        f"add_feature()가 고객 {len(before)}명에 대해 {len(after)}행을 돌려줬습니다. 고객마다 한 행이어야 "
                        "합니다(customer_id로 how='left' join 하면 모두 남습니다)")
        missing = after[column].isna()
        if missing.any():
            cid = int(after.loc[missing, "customer_id"].iloc[0])
            raise Wrong(f"{column} is null for {int(missing.sum())} customers (customer {cid} first): the logistic "
                        "regression cannot use a row with a null; give those customers a value (F.coalesce)",
                        f"고객 {int(missing.sum())}명(첫 번째: 고객 {cid})의 {column} 값이 null입니다. 로지스틱 회귀는 "
                        "null이 있는 행을 쓰지 못합니다. 그 고객들에게도 값을 주세요(F.coalesce)")
        if after[column].nunique() < 2:
            raise Wrong(f"{column} is {after[column].iloc[0]} for every customer: a constant tells the model nothing",
                        f"{column} 값이 모든 고객에게 {after[column].iloc[0]}입니다. 상수는 모델에 아무것도 알려주지 않습니다")

        labels, _ = read_labels(spark, s)
        labelled = new.join(labels, "customer_id").cache()
        numeric = NUMERIC_FEATURES + [column]
        got = module.train_and_evaluate(labelled, list(numeric))
        if not isinstance(got, dict) or not {"error", "baseline_error", "coefficients"} <= set(got):
            have = sorted(got) if isinstance(got, dict) else type(got).__name__
            raise Wrong(f"train_and_evaluate(labelled, numeric) returned {have}; return the metrics dict with error, "
                        "baseline_error and coefficients (stage3.train.evaluate, then stage3.train.coefficients)",
                        f"train_and_evaluate(labelled, numeric)의 결과가 {have}입니다. error, baseline_error, "
                        "coefficients가 든 지표 dict를 돌려주세요(stage3.train.evaluate, 그다음 stage3.train.coefficients)")
        if column not in got["coefficients"]:
            inputs = [c for c in got["coefficients"] if "_vec_" not in c]
            raise Wrong(f"the model has weights for {', '.join(inputs)} and the one-hot columns, none for {column}: "
                        "give the VectorAssembler the numeric columns you were given (setInputCols)",
                        f"모델에는 {', '.join(inputs)}와 원-핫 컬럼의 가중치만 있고 {column}의 가중치는 없습니다. 받은 "
                        "numeric 컬럼을 VectorAssembler에 넣으세요(setInputCols)")
        want = reference_round(labelled, numeric)
        if _is_number(got.get("test_rows")) and got["test_rows"] != want["test_rows"]:
            raise Wrong(f"train_and_evaluate() measured {got['test_rows']} customers, the seeded test part has "
                        f"{want['test_rows']} of the {labelled.count()}: evaluate the model on the test part only",
                        f"train_and_evaluate()가 평가한 고객은 {got['test_rows']}명인데, 시드로 나눈 테스트 부분은 "
                        f"{labelled.count()}명 중 {want['test_rows']}명입니다. 모델은 테스트 부분에서만 평가하세요")
        for key in ("baseline_error", "error"):
            if not _is_number(got[key]) or abs(got[key] - want[key]) > 1e-9:
                shown = f"{got[key]:.4f}" if _is_number(got[key]) else repr(got[key])
                raise Wrong(f"train_and_evaluate() gives {key} {shown}; the seeded 80/20 round of "
                            f"stage3.train gives {want[key]:.4f} on this data: split labelled with "
                            "randomSplit([TRAIN_FRACTION, 1 - TRAIN_FRACTION], seed=SEED), fit on the train part, "
                            "evaluate the test part with the training part's majority class",
                            f"train_and_evaluate()의 {key} 값은 {shown}인데, 같은 데이터에서 stage3.train의 시드 "
                            f"고정 80/20 라운드는 {want[key]:.4f}입니다. labelled를 randomSplit([TRAIN_FRACTION, "
                            "1 - TRAIN_FRACTION], seed=SEED)로 나누고, 학습 부분으로 적합한 뒤, 학습 부분의 다수 클래스로 "
                            "테스트 부분을 평가하세요")
        labelled.unpersist(), feats.unpersist(), plays.unpersist()
    finally:
        if existing is None:
            spark.stop()


def _numeric_types():
    from pyspark.sql.types import NumericType

    return NumericType


EXERCISES = [
    Exercise(
        key="3.1", file="metrics.py",
        title=Text("Error, precision, recall and the baseline", "error, precision, recall, 그리고 baseline"),
        skill=Text("reading a confusion matrix: the test error, precision, recall, and the majority-class "
                   "baseline the gate compares with",
                   "혼동 행렬 읽기: 테스트 error, precision, recall, 그리고 gate가 비교하는 다수 클래스 baseline"),
        minutes=5,
        first_step=Text("Fill in metrics() in exercises/stage3/metrics.py: four fractions of tp, fp, fn and tn",
                        "exercises/stage3/metrics.py의 metrics()를 채우세요. tp, fp, fn, tn으로 만드는 비율 네 개입니다"),
        check=check_metrics),
    Exercise(
        key="3.2", file="profile_feature.py",
        title=Text("Night share and distinct-track ratio in pandas", "pandas로 night 비율과 distinct-track 비율 구하기"),
        skill=Text("per-customer shares with groupby, the night that wraps round midnight, the same numbers as "
                   "the Spark features",
                   "groupby로 고객별 비율 구하기, 자정을 넘는 night 구간, Spark feature와 같은 숫자"),
        minutes=15,
        first_step=Text("Fill in night_share() in exercises/stage3/profile_feature.py (the hour of each play, "
                        "then the share at night per customer), then distinct_ratio()",
                        "exercises/stage3/profile_feature.py의 night_share()를 채우고(재생마다 시각을 뽑아 고객별 night "
                        "비율 계산) 이어서 distinct_ratio()를 채우세요"),
        check=check_profile_feature),
    Exercise(
        key="3.3", file="gate.py",
        title=Text("Make the gate refuse a model, and show the targets stayed",
                   "gate가 모델을 거부하게 하고, 대상이 그대로임을 보이기"),
        skill=Text("the gate's two rules, and why a refused round leaves the Redis targets untouched",
                   "gate의 두 규칙, 그리고 거부된 라운드가 Redis 대상을 건드리지 않는 이유"),
        minutes=15,
        first_step=Text("Fill in refusing_threshold(), beats_baseline() and current_targets() in "
                        "exercises/stage3/gate.py: read gate() in 02.stage3/train.py first",
                        "exercises/stage3/gate.py의 refusing_threshold(), beats_baseline(), current_targets()를 "
                        "채우세요. 먼저 02.stage3/train.py의 gate()를 읽으세요"),
        check=check_gate, needs=("redis",)),
    Exercise(
        key="3.4", file="once_a_day.py",
        title=Text("One offer per customer per day, even on replays", "재처리해도 고객당 하루 한 번만 제안하기"),
        skill=Text("the offer rule (first play of the day of a Free or Silver target) and the Redis keys and "
                   "stream the Lua script writes",
                   "제안 규칙(Free/Silver 대상 고객의 그날 첫 재생)과 Lua 스크립트가 쓰는 Redis 키와 스트림"),
        minutes=20,
        first_step=Text("Fill in first_plays() in exercises/stage3/once_a_day.py: per Free or Silver target and "
                        "day, the earliest play; then queued_offer_ids() and winning_play()",
                        "exercises/stage3/once_a_day.py의 first_plays()를 채우세요. Free/Silver 대상 고객과 날짜마다 가장 "
                        "이른 재생입니다. 이어서 queued_offer_ids()와 winning_play()를 채우세요"),
        check=check_once_a_day, needs=("redis",)),
    Exercise(
        key="3.5", file="sms.py",
        title=Text("An SMS provider with a length limit, and the delivery report",
                   "길이 제한이 있는 SMS 제공자, 그리고 발송 보고서"),
        skill=Text("a pluggable sender that fails, retries and dead letters, and reading a stream's consumer "
                   "group state (XLEN, XPENDING)",
                   "실패하는 sender 끼워 넣기, 재시도와 dead letter, 스트림 consumer group 상태 읽기(XLEN, XPENDING)"),
        minutes=20,
        first_step=Text("Fill in ShortSmsSender.send() in exercises/stage3/sms.py (render_sms, then refuse a text "
                        "over the limit), then delivery_report()",
                        "exercises/stage3/sms.py의 ShortSmsSender.send()를 채우고(render_sms 다음, 한도를 넘는 문자는 "
                        "거부) 이어서 delivery_report()를 채우세요"),
        check=check_sms_sender, needs=("redis",)),
    Exercise(
        key="3.6", file="my_feature.py",
        title=Text("A feature of your own, next to the baseline (stretch)", "(심화) 나만의 feature를 만들어 baseline과 비교하기"),
        skill=Text("a per-customer feature in Spark, an extended VectorAssembler, and an honest seeded "
                   "train/test comparison",
                   "Spark로 고객별 feature 만들기, VectorAssembler 확장, 시드를 고정한 공정한 학습/테스트 비교"),
        minutes=40,
        first_step=Text("Name your column in FEATURE and fill in add_feature() in exercises/stage3/my_feature.py, "
                        "then train_and_evaluate()",
                        "exercises/stage3/my_feature.py의 FEATURE에 컬럼 이름을 적고 add_feature()를 채운 뒤 "
                        "train_and_evaluate()를 채우세요"),
        check=check_my_feature, needs=("spark",)),
]
