"""The offer outcomes and the training labels built from them (pure logic, no engines)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from common.click_model import sigmoid
from stage3.offers import explored, period_of
from stage3.outcomes import SimulatedCustomers, labels_from_history, uniform


def exposures(rows):
    """rows of (customer_id, label, 'YYYY-MM-DD HH:MM:SS', drifted) -> a history frame."""
    frame = pd.DataFrame(rows, columns=["customer_id", "label", "seen_at", "drifted"])
    frame["seen_at"] = pd.to_datetime(frame["seen_at"], utc=True)
    return frame.astype({"customer_id": "int64", "label": "float64", "drifted": "int64"})


def test_the_last_exposure_labels_the_customer():
    past = exposures([(1, 0, "2026-10-01 10:00:00", 0), (2, 1, "2026-10-02 10:00:00", 0),
                      (3, 1, "2026-10-31 23:00:00", 0)])
    outcomes = exposures([(2, 0, "2026-11-28 10:00:00", 0), (2, 1, "2026-11-28 10:05:00", 1),
                          (4, 1, "2026-11-28 10:01:00", 0)])
    got = labels_from_history(past, outcomes).set_index("customer_id")
    assert got["label"].to_dict() == {1: 0.0, 2: 1.0, 3: 1.0, 4: 1.0}
    assert got["source"].to_dict() == {1: "clicks.csv", 2: "outcome", 3: "clicks.csv", 4: "outcome"}
    assert got.loc[2, "drifted"] == 1


def test_live_outcomes_come_after_every_past_click_whatever_their_clock():
    # a past click stamped later than the live outcome (clocks differ) must not win
    past = exposures([(1, 1, "2030-01-01 00:00:00", 0)])
    outcomes = exposures([(1, 0, "2026-11-28 10:00:00", 0)])
    assert labels_from_history(past, outcomes)["label"].tolist() == [0.0]


def test_keep_only_the_customers_seen_most_recently():
    past = exposures([(c, 0, f"2026-10-{c:02d} 00:00:00", 0) for c in range(1, 11)])
    outcomes = exposures([(3, 1, "2026-11-28 10:00:00", 1)])
    got = labels_from_history(past, outcomes, keep=4)
    assert sorted(got["customer_id"]) == [3, 8, 9, 10]


def test_no_outcomes_gives_the_past_clicks():
    past = exposures([(1, 1, "2026-10-01 10:00:00", 0)])
    empty = exposures([])
    assert labels_from_history(past, empty)[["customer_id", "label"]].values.tolist() == [[1, 1.0]]


def test_draws_are_fixed_by_the_offer_and_follow_the_probability():
    assert uniform("42-2026-11-28") == uniform("42-2026-11-28") != uniform("42-2026-11-29")
    z = 1.2                                           # p = 0.769
    customers = SimulatedCustomers({7: z})
    draws = [customers.clicks(f"7-{i}", 7, drifted=False) for i in range(4000)]
    assert abs(np.mean(draws) - sigmoid(z)) < 0.03
    # drift mirrors the model: p becomes 1 - p
    drifted = [customers.clicks(f"7-{i}", 7, drifted=True) for i in range(4000)]
    assert abs(np.mean(drifted) - (1 - sigmoid(z))) < 0.03
    assert customers.clicks("9-x", 9, drifted=False) is None      # unknown customer: no outcome


def test_offer_periods():
    assert period_of("2026-11-28 23:59:59") == "2026-11-28"
    assert period_of("2026-11-28 10:02:59", 60) == "2026-11-28T10:02:00"
    assert period_of("2026-11-28 10:03:00", 60) == "2026-11-28T10:03:00"
    assert period_of("2026-11-28 10:59:59", 3600) == "2026-11-28T10:00:00"


def test_exploration_is_a_stable_share():
    picked = [explored(c, "2026-11-28", 0.3) for c in range(5000)]
    assert abs(np.mean(picked) - 0.3) < 0.02
    assert picked == [explored(c, "2026-11-28", 0.3) for c in range(5000)]
    assert not any(explored(c, "2026-11-28", 0.0) for c in range(1000))
