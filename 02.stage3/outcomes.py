"""What happened after each SMS offer: clicked or not. The history the model learns from.

In a real company the answer comes back later from the ad server. Here the
customers are simulated, honestly: when the SMS sender delivers an offer,
``SimulatedCustomers`` draws the answer from the generator's click model
(common.click_model, the one data/clicks.csv was drawn from), so the ground
truth still holds and stage 3 can be checked against it. The draw is seeded by
the offer_id, so the same offer always gets the same answer.

    sms:outcomes        Redis hash, offer_id -> {"customer_id", "clicked", "drifted", "reason", "at"}
                        written with HSETNX in the sender's delivery transaction:
                        a replayed or re-sent offer never adds a second outcome
    sms:outcomes:by_time  sorted set, offer_id -> epoch seconds of its delivery, written
                        in the same script: beyond OUTCOMES_MAX outcomes (200,000) the
                        oldest are dropped from both, so the history stays bounded
    stage3:drift_at     epoch seconds from which the simulated customers drift
                        (absent: no drift)

Drift (the teacher's switch, ``make stage3 DRIFT=1``): from ``drift_at`` on, the
click model is mirrored (z -> -z): the customers who used to take the offer
ignore it and those who ignored it take it. The current model is now wrong, and
retraining has to notice (stage3.train: the gate refuses a round trained on a
mix of old and new answers, then passes once the history is mostly new).

The training labels (``labels_from_history``): one row per customer who ever saw
the offer, labelled with what they did the LAST time: the past clicks in
clicks.csv first, then every live outcome, newest wins.

    python -m stage3.outcomes                  # how many outcomes, click rate before/after drift
    python -m stage3.outcomes --drift-in 90    # the customers change their minds in 90 s
    python 02.stage3/outcomes.py --no-drift    # back to normal
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from datetime import datetime, timezone

import pandas as pd

from common.click_model import click_logit, sigmoid
from common.config import Settings, get_settings
from common.profiles import listening_profile
from common.readers import read_clicks, read_customers, read_events
from common.schema import OFFER_NAME

SEED = "offer-outcomes-v1"     # part of every draw: change it and every outcome is drawn anew


def uniform(key: str) -> float:
    """A number in [0, 1) fixed by ``key``: the same offer always draws the same."""
    digest = hashlib.blake2b(f"{SEED}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


class SimulatedCustomers:
    """Answers offers the way the generator's customers would (common.click_model)."""

    def __init__(self, logits: dict[int, float]):
        self.logits = logits           # customer_id -> z of the click model

    @classmethod
    def from_data(cls, settings: Settings) -> "SimulatedCustomers":
        """z per customer from the whole synthetic history (data/tracks.csv, cust.csv),
        exactly as the generator computed it for clicks.csv (about 2 s)."""
        customers, _ = read_customers(settings.data_dir / "cust.csv")
        profile = listening_profile(read_events(settings.data_dir / "tracks.csv"))
        profile = profile[profile.index.isin(customers["CustID"])]
        return cls({int(c): float(z) for c, z in click_logit(profile, customers).items()})

    def clicks(self, offer_id: str, customer_id: int, drifted: bool) -> bool | None:
        """Does this customer take this offer? None for a customer the data does not know."""
        z = self.logits.get(int(customer_id))
        if z is None:
            return None
        p = float(sigmoid(-z if drifted else z))
        return uniform(offer_id) < p


def outcome_record(offer: dict, clicked: bool, drifted: bool, at: str) -> str:
    return json.dumps({"customer_id": int(offer["customer_id"]), "clicked": int(clicked),
                       "drifted": int(drifted), "reason": offer.get("reason", "target"), "at": at})


def outcomes_by_time(settings: Settings) -> str:
    """The sorted set beside the outcomes hash (offer_id -> delivery time) that keeps the
    hash at OUTCOMES_MAX outcomes: the sender drops the oldest of both when it adds one."""
    return f"{settings.redis_outcomes_hash}:by_time"


# --- drift: the teacher's switch ----------------------------------------------------------
def drift_since(r, settings: Settings) -> float | None:
    value = r.get(settings.redis_drift_key)
    return float(value) if value is not None else None


def set_drift(r, settings: Settings, at: float | None) -> None:
    """Drift from epoch ``at`` on; None switches it off."""
    if at is None:
        r.delete(settings.redis_drift_key)
    else:
        r.set(settings.redis_drift_key, f"{at:.3f}")


# --- the history, as training reads it ------------------------------------------------------
def read_outcomes(r, settings: Settings) -> pd.DataFrame:
    """Every recorded outcome: customer_id, label (1.0 clicked), seen_at (UTC timestamp), drifted."""
    rows = [json.loads(v) for _, v in r.hscan_iter(settings.redis_outcomes_hash, count=1000)]
    frame = pd.DataFrame(rows, columns=["customer_id", "clicked", "drifted", "reason", "at"])
    return pd.DataFrame({
        "customer_id": frame["customer_id"].astype("int64"),
        "label": frame["clicked"].astype("float64"),
        "seen_at": pd.to_datetime(frame["at"], utc=True),
        "drifted": frame["drifted"].astype("int64"),
    })


def past_clicks(settings: Settings) -> pd.DataFrame:
    """clicks.csv as exposures: one row per customer who saw the offer, label 1.0 when they
    clicked it, seen_at their last row's time."""
    clicks = read_clicks(settings.data_dir / "clicks.csv")
    clicks["took"] = (clicks["AdClicked"] == OFFER_NAME).astype("float64")
    clicks["seen_at"] = pd.to_datetime(clicks["Localtime"], utc=True)
    per = clicks.groupby("CustID").agg(label=("took", "max"), seen_at=("seen_at", "max")).reset_index()
    return pd.DataFrame({"customer_id": per["CustID"].astype("int64"), "label": per["label"],
                         "seen_at": per["seen_at"], "drifted": 0})


def labels_from_history(past: pd.DataFrame, outcomes: pd.DataFrame, keep: int = 0) -> pd.DataFrame:
    """One row per customer: the label of their most recent exposure (live outcomes
    come after every past click). ``keep`` > 0: only the ``keep`` customers seen most
    recently (a short memory, for the drift scenario). Columns: customer_id, label,
    seen_at, drifted, source ('clicks.csv' or 'outcome')."""
    both = pd.concat([past.assign(source="clicks.csv", order=0),
                      outcomes.assign(source="outcome", order=1)], ignore_index=True)
    latest = (both.sort_values(["order", "seen_at"], kind="stable")
              .drop_duplicates("customer_id", keep="last"))
    if keep > 0:
        latest = latest.tail(keep)
    return latest.drop(columns="order").sort_values("customer_id").reset_index(drop=True)


def summary(outcomes: pd.DataFrame, drift_at: float | None) -> str:
    def rate(rows):
        return f"{len(rows):,} outcomes, click rate {rows['label'].mean():.1%}" if len(rows) else "none"
    drift = ("no drift" if drift_at is None else
             f"drift since {datetime.fromtimestamp(drift_at, timezone.utc):%H:%M:%S} UTC")
    return (f"{drift} | before drift: {rate(outcomes[outcomes.drifted == 0])} | "
            f"after: {rate(outcomes[outcomes.drifted == 1])}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--drift-in", type=float, metavar="SECONDS", help="the customers drift in this many seconds")
    group.add_argument("--no-drift", action="store_true", help="switch the drift off")
    args = ap.parse_args(argv)

    from common.clients import redis_client
    from common.retry import call_with_retry

    s = get_settings()
    r = redis_client(s, check=False)

    def switch_and_read():     # repeated as a whole when Redis comes back: each step is idempotent
        if args.drift_in is not None:
            set_drift(r, s, time.time() + args.drift_in)
        elif args.no_drift:
            set_drift(r, s, None)
        return summary(read_outcomes(r, s), drift_since(r, s))

    print(call_with_retry(switch_and_read, "Redis", s.redis_url))   # waits for Redis, one line per retry
    return 0


if __name__ == "__main__":
    sys.exit(main())
