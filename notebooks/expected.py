"""The figures each notebook should show, stated once, with a check the notebooks call.

The data is seeded, so every figure below is known before anything runs (see
data/GROUND_TRUTH.md). Two data sets: ``full`` (``make data``: what ``make stage1-history``
and ``make stage3-train`` read, and what stage 2 replays live) and ``sample`` (data/sample/, what the notebook tests load).
``tests/unit/test_notebook_figures.py`` recomputes every figure with pandas from the CSV
files and checks it equals what is stated here and in the notebooks' text.

    from expected import expect, data_set_of
    expect("01_stage1", data_set_of("01_stage1", total), "total", total)
"""
from __future__ import annotations

FIGURES = {
    "01_stage1": {
        "full": {"total": 1_000_000, "mobile_share": 0.597, "peak_hour": 20, "top_state": "CA",
                 "top_state_plays": 114_910, "states": 52, "customers": 5_000},
        "sample": {"total": 6_000, "mobile_share": 0.5998, "peak_hour": 20, "top_state": "CA",
                   "top_state_plays": 790, "states": 46, "customers": 200},
    },
    "02_stage2": {
        # stage 2 replays the full data's plays live: after a few thousand plays the shares of
        # plays by level and gender are close to the whole history's (within 3 points)
        "full": {"free_share": 0.594, "silver_share": 0.25, "gold_share": 0.156, "female_share": 0.486},
    },
    "03_stage3": {
        # labelled = Free and Silver customers who saw the offer in clicks.csv
        "full": {"customers": 5_000, "labelled": 4_203, "click_rate": 0.3662, "ceiling": 0.0557},
        "sample": {"customers": 200, "labelled": 166, "click_rate": 0.2892, "ceiling": 0.0384,
                   "error": 0.061, "targets": 50},
    },
}
# how far a computed figure may be from the stated one (shares are stated rounded;
# the model's error may move by one test customer of 33 on another Spark build)
TOLERANCE = {"mobile_share": 0.0005, "click_rate": 0.00005, "ceiling": 0.0, "error": 0.031,
             "free_share": 0.03, "silver_share": 0.03, "gold_share": 0.03, "female_share": 0.03}
LIVE_MIN_PLAYS = 2_000     # fewer live plays than this: shares too noisy to compare


def data_set_of(notebook: str, total: int, key: str = "total") -> str | None:
    """'full' or 'sample' when ``total`` is that data set's figure, else None (live plays added)."""
    for name, figures in FIGURES[notebook].items():
        if figures.get(key) == total:
            return name
    return None


def matches(notebook: str, data_set: str, name: str, value) -> bool:
    stated = FIGURES[notebook][data_set][name]
    if isinstance(stated, float):
        return abs(float(value) - stated) <= TOLERANCE.get(name, 0.0) + 1e-12
    return value == stated


def expect(notebook: str, data_set: str | None, name: str, value) -> bool | None:
    """Print the figure next to the stated one; return whether they match (None: no stated figure)."""
    if data_set is None:
        print(f"  {name}: {value}  (no stated figure: the data is not one of the two data sets)")
        return None
    if name not in FIGURES[notebook][data_set]:
        print(f"  {name}: {value}  (no stated figure for the {data_set} data)")
        return None
    ok = matches(notebook, data_set, name, value)
    stated = FIGURES[notebook][data_set][name]
    print(f"{'✔' if ok else '✘'} {name}: {value}  (stated for the {data_set} data: {stated})")
    return ok
