"""The figures the notebooks state (notebooks/expected.py, and in their text) are the data's:
recomputed here with pandas from the CSV files and the generator's ground truth, for both
data sets. The notebook tests then check that the notebooks show them (tests/e2e)."""
from __future__ import annotations

import json

import nbformat
import pandas as pd
import pytest

from common.config import REPO_ROOT
from common.geo import lookup_zip
from common.schema import EVENT_COLUMNS

from expected import FIGURES, data_set_of, expect, matches   # notebooks/ is on pytest's pythonpath

FOLDERS = {"full": REPO_ROOT / "data", "sample": REPO_ROOT / "data" / "sample"}


@pytest.mark.parametrize("data_set", FOLDERS)
def test_stage1_figures_are_the_data(data_set):
    df = pd.read_csv(FOLDERS[data_set] / "tracks.csv", header=None, names=EVENT_COLUMNS,
                     dtype={"listening_zip_code": str})
    states = df["listening_zip_code"].map({z: lookup_zip(z).state for z in df["listening_zip_code"].unique()})
    by_state = states.value_counts()
    oracle = {"total": len(df), "mobile_share": round(df["ismobile"].mean(), 4),
              "peak_hour": int(pd.to_datetime(df["datetime"]).dt.hour.value_counts().idxmax()),
              "top_state": by_state.index[0], "top_state_plays": int(by_state.iloc[0]),
              "states": len(by_state), "customers": df["customer_id"].nunique()}
    assert FIGURES["01_stage1"][data_set] == pytest.approx(oracle, abs=1e-9)


def test_stage2_shares_are_the_full_datas_plays():
    plays = pd.read_csv(FOLDERS["full"] / "tracks.csv", header=None, names=EVENT_COLUMNS, usecols=[1])
    customers = pd.read_csv(FOLDERS["full"] / "cust.csv").set_index("CustID")
    level = plays["customer_id"].map(customers["Level"]).value_counts(normalize=True)
    female = (plays["customer_id"].map(customers["Gender"]) == 0).mean()
    oracle = {"free_share": round(level[0], 3), "silver_share": round(level[1], 3),
              "gold_share": round(level[2], 3), "female_share": round(female, 3)}
    assert FIGURES["02_stage2"]["full"] == pytest.approx(oracle, abs=1e-9)


@pytest.mark.parametrize("data_set", FOLDERS)
def test_stage3_data_figures_are_the_ground_truth(data_set):
    truth = json.loads((FOLDERS[data_set] / "ground_truth.json").read_text())
    plays = pd.read_csv(FOLDERS[data_set] / "tracks.csv", header=None, names=EVENT_COLUMNS, usecols=[1])
    stated = FIGURES["03_stage3"][data_set]
    assert stated["customers"] == plays["customer_id"].nunique()
    assert stated["labelled"] == truth["offer"]["offered_customers"]
    assert stated["click_rate"] == truth["offer"]["click_rate"]
    assert stated["ceiling"] == truth["offer"]["bayes_error"]


@pytest.mark.parametrize("notebook, phrases", [
    ("01_stage1", ["**1,000,000 plays**", "6,000", "**59.7%**", "**20:00**", "60.0%", "**114,910**", "790",
                   "**52**", "**5,000**", "46 and 200"]),
    ("02_stage2", ["**48.6%**", "**59.4%**", "**25.0%**", "**15.6%**", "3 points"]),
    ("03_stage3", ["**5,000 customers**", "**4,203 labelled**", "**36.6% clicked**", "200, 166 and 28.9%",
                   "**5.6%**", "**10%**", "3.8%", "**6.1%**", "**50 targets**"]),
])
def test_the_notebook_text_states_the_same_figures(notebook, phrases):
    text = "\n".join(c.source for c in nbformat.read(REPO_ROOT / "notebooks" / f"{notebook}.ipynb", 4).cells
                     if c.cell_type == "markdown")
    for phrase in phrases:
        assert phrase in text, phrase
    # and the phrases are these figures
    f = FIGURES[notebook]
    if notebook == "02_stage2":
        assert [f"{f['full'][k]:.1%}" for k in ("female_share", "free_share", "silver_share", "gold_share")] == \
            ["48.6%", "59.4%", "25.0%", "15.6%"]
    elif notebook == "01_stage1":
        assert f"{f['full']['mobile_share']:.1%}" == "59.7%" and f"{f['sample']['mobile_share']:.1%}" == "60.0%"
        assert f"{f['full']['top_state_plays']:,}" == "114,910" and f["sample"]["top_state_plays"] == 790
    else:
        assert f"{f['full']['click_rate']:.1%}" == "36.6%" and f"{f['sample']['click_rate']:.1%}" == "28.9%"
        assert f"{f['full']['ceiling']:.1%}" == "5.6%" and f"{f['sample']['error']:.1%}" == "6.1%"


def test_the_check_says_right_wrong_or_nothing_to_compare(capsys):
    assert data_set_of("01_stage1", 6_000) == "sample" and data_set_of("01_stage1", 6_001) is None
    assert expect("01_stage1", "full", "mobile_share", 0.5973) is True
    assert expect("01_stage1", "full", "mobile_share", 0.6) is False
    assert expect("01_stage1", None, "total", 7) is None
    assert expect("03_stage3", "full", "error", 0.05) is None       # no stated error for the full data
    assert matches("03_stage3", "sample", "error", 0.091) and not matches("03_stage3", "sample", "error", 0.1)
    out = capsys.readouterr().out
    assert "✔ mobile_share: 0.5973  (stated for the full data: 0.597)" in out and "✘ mobile_share: 0.6" in out
