"""The generator: deterministic, the declared distributions, and a ceiling that stage 3 can reach."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tools import datagen
from common.customers import ages_of
from common.click_model import click_logit
from common.profiles import listening_profile
from common.geo import zip_table
from common.readers import read_clicks, read_customers, read_events, read_music
from common.schema import OFFER_NAME

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "sample"
FILES = ("cust.csv", "music.csv", "tracks.csv", "clicks.csv", "ground_truth.json", "GROUND_TRUTH.md",
         "GROUND_TRUTH.ko.md")
MEDIUM = {"seed": 11, "customers": 600, "tracks": 400, "events": 60_000, "days": 14}


@pytest.fixture(scope="module")
def medium(tmp_path_factory):
    """A set big enough for distribution checks, read back through the readers."""
    out = tmp_path_factory.mktemp("medium")
    stats = datagen.write_dataset(out, **MEDIUM)
    return {"out": out, "stats": stats, "events": read_events(out / "tracks.csv"),
            "customers": read_customers(out / "cust.csv")[0], "clicks": read_clicks(out / "clicks.csv")}


def test_same_seed_gives_byte_identical_files(tmp_path, medium):
    datagen.write_dataset(tmp_path, **MEDIUM)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (medium["out"] / name).read_bytes(), name


def test_another_seed_gives_other_data(tmp_path, medium):
    datagen.write_dataset(tmp_path, **{**MEDIUM, "seed": 12})
    for name in ("cust.csv", "tracks.csv", "clicks.csv"):
        assert (tmp_path / name).read_bytes() != (medium["out"] / name).read_bytes(), name


def test_committed_sample_is_what_the_generator_makes(tmp_path):
    args = json.loads((SAMPLE / "ground_truth.json").read_text())["generated_with"]
    datagen.write_dataset(tmp_path, **args)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (SAMPLE / name).read_bytes(), name
    assert sum((SAMPLE / name).stat().st_size for name in FILES) < 1_000_000


def test_plays_are_sorted_with_increasing_ids_in_the_window(medium):
    events = medium["events"]
    assert len(events) == MEDIUM["events"]
    assert events["event_id"].tolist() == list(range(1, len(events) + 1))
    assert events["datetime"].is_monotonic_increasing
    first, last = events["datetime"].iloc[[0, -1]]
    assert first >= "2026-10-18 00:00:00" and last <= "2026-10-31 23:59:59"
    assert set(events["customer_id"]) <= set(medium["customers"]["CustID"])
    assert set(events["track_id"]) <= set(range(1, MEDIUM["tracks"] + 1))


def test_zips_are_real_and_mostly_home(medium):
    table = zip_table()
    events, customers = medium["events"], medium["customers"]
    assert customers["zip"].isin(table.keys()).all()
    assert events["listening_zip_code"].isin(table.keys()).all()
    home = customers.set_index("CustID")["zip"].loc[events["customer_id"]].to_numpy()
    assert 0.75 < (events["listening_zip_code"].to_numpy() == home).mean() < 0.92
    states = customers["zip"].map(lambda z: table[z].state).value_counts()
    assert states.index[0] in {"CA", "TX", "FL", "NY"}             # populous states dominate


def test_declared_distributions(medium):
    events, customers = medium["events"], medium["customers"]
    assert 0.55 <= events["ismobile"].mean() <= 0.65
    for level, share in enumerate(datagen.LEVEL_MIX):
        assert abs((customers["Level"] == level).mean() - share) < 0.06
    assert abs((customers["Gender"] == 0).mean() - datagen.FEMALE_SHARE) < 0.07
    assert abs(customers["Status"].mean() - datagen.ACTIVE_SHARE) < 0.05
    hours = events["datetime"].str.slice(11, 13).astype(int).value_counts()
    assert hours.idxmax() in {19, 20, 21} and hours.idxmin() in {2, 3, 4}
    plays = events["track_id"].value_counts()
    assert plays.iloc[:10].sum() > 10 * plays.median() * 3            # skewed popularity


def test_bursts_and_near_misses_are_present(medium):
    events, planted = medium["events"], medium["stats"]["planted"]
    interest = datagen.interest_pairs(events)
    assert planted["bursts"] > 0 and interest["customer_id"].nunique() >= planted["burst_customers"]
    wider = datagen.interest_pairs(events, window_minutes=40)
    near_misses = wider.merge(interest, how="left", indicator=True).query("_merge == 'left_only'")
    assert len(near_misses) >= 1


def test_interest_pairs_rule_edges():
    plays = pd.DataFrame({"customer_id": [1, 1, 1, 2, 2, 2], "track_id": [9] * 6,
                          "datetime": ["2026-10-01 10:00:00", "2026-10-01 10:10:00", "2026-10-01 10:30:00",
                                       "2026-10-01 10:00:00", "2026-10-01 10:10:00", "2026-10-01 10:30:01"]})
    assert datagen.interest_pairs(plays).values.tolist() == [[1, 9]]


def test_clicks_cover_exactly_the_customers_who_saw_the_offer(medium):
    customers, clicks, events = medium["customers"], medium["clicks"], medium["events"]
    offered = set(customers.loc[customers["Level"] < 2, "CustID"])
    assert set(clicks["CustID"]) == offered
    # every click row sits on one of that customer's own plays
    joined = clicks.merge(events, left_on="EventID", right_on="event_id")
    assert len(joined) == len(clicks)
    assert (joined["CustID"] == joined["customer_id"]).all() and (joined["Localtime"] == joined["datetime"]).all()
    assert clicks.groupby("CustID")["AdClicked"].apply(lambda a: (a == OFFER_NAME).sum()).max() == 1


def test_click_label_follows_the_documented_profile(medium):
    """Model-free: the documented score, computed from the files, separates clickers."""
    customers, clicks, events = medium["customers"], medium["clicks"], medium["events"]
    offered = clicks["CustID"].unique()
    label = pd.Series(np.isin(offered, clicks.loc[clicks["AdClicked"] == OFFER_NAME, "CustID"]), index=offered)
    profile = listening_profile(events).loc[offered]
    assert profile.loc[label, "night"].mean() > profile.loc[~label, "night"].mean() + 0.05
    assert profile.loc[label, "mobile"].mean() > profile.loc[~label, "mobile"].mean() + 0.05
    young = ages_of(offered) < 35
    assert label[young].mean() > label[~young].mean()
    score = click_logit(profile, customers)
    ranks = score.rank()
    auc = (ranks[label].sum() - label.sum() * (label.sum() + 1) / 2) / (label.sum() * (~label).sum())
    assert auc > 0.95
    assert 0.25 < label.mean() < 0.5


def test_stats_recomputed_from_the_files_match_ground_truth_json(medium):
    out = medium["out"]
    written = json.loads((out / "ground_truth.json").read_text())
    again = datagen.ground_truth_stats(medium["events"], medium["customers"], medium["clicks"],
                                       read_music(out / "music.csv"))
    assert {k: v for k, v in written.items() if k not in ("generated_with", "planted")} == again


def test_default_set_ceiling_is_documented():
    """The committed figures for `make data`: a reachable ceiling, a large baseline."""
    truth = json.loads((REPO / "data" / "ground_truth.json").read_text())
    assert truth["generated_with"] == datagen.DEFAULTS
    assert truth["customers"] == 5000 and truth["tracks"] >= 1000 and truth["events"] >= 1_000_000
    offer = truth["offer"]
    assert 0.03 <= offer["bayes_error"] <= 0.07 and 0.30 <= offer["baseline_error"] <= 0.45
    assert (REPO / "data" / "GROUND_TRUTH.md").read_text() == datagen.render_ground_truth(truth)
    assert (REPO / "data" / "GROUND_TRUTH.ko.md").read_text(encoding="utf-8") == datagen.render_ground_truth_ko(truth)


def test_refuses_too_few_events(tmp_path):
    with pytest.raises(ValueError):
        datagen.generate(customers=100, events=500)
