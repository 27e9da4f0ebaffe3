"""notebooks/01_stage1.ipynb runs top to bottom against an index this test loads with the
sample data set (through the shipper's --history mode, plus one bad line), its answers match
pandas on the CSV, and every figure the notebook states for the sample data is the one it shows."""
from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest

from common.clients import es_client
from common.config import REPO_ROOT, Settings
from common.geo import lookup_zip
from common.schema import EVENT_COLUMNS
from tests.notebooks import run_notebook_and_korean
from tests.stage1_data import BAD_LINES, write_lines

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


def test_notebook_answers_match_the_oracle(engines, unique, tmp_path, monkeypatch):
    index, deadletter = f"t_{unique}", f"t_dl_{unique}"
    source = tmp_path / "tracks.csv"
    sample = (REPO_ROOT / "data" / "sample" / "tracks.csv").read_bytes().splitlines()
    write_lines(source, sample + [BAD_LINES[2][0]])
    env = {**os.environ, "INDEX_STAGE1": index, "INDEX_DEADLETTER": deadletter,
           "RUNTIME_DIR": str(tmp_path / "runtime"),
           "STAGE1_NOTEBOOK_RESULTS": str(tmp_path / "answers.json")}
    es = es_client(Settings(index_stage1=index))
    try:
        load = subprocess.run([sys.executable, "00.stage1/shipper.py", "--history", "--source", str(source)],
                              cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert load.returncode == 0, load.stdout + load.stderr
        assert "shipped 6001 events, rejected 1, indexed 6000" in load.stdout
        # history mode turned refresh off for the load; it must be back on
        index_settings = es.indices.get_settings(index=index)[index]["settings"]["index"]
        assert index_settings["refresh_interval"] == "1s"

        answers = run_notebook_and_korean("01_stage1.ipynb", {key: env[key] for key in (
            "INDEX_STAGE1", "INDEX_DEADLETTER", "RUNTIME_DIR", "STAGE1_NOTEBOOK_RESULTS")},
            tmp_path / "answers.json", monkeypatch)
    finally:
        for name in (index, deadletter):
            es.options(ignore_status=404).indices.delete(index=name)
            es.options(ignore_status=404).indices.delete_index_template(name=name)

    # the oracle, from the CSV alone
    df = pd.read_csv(source, header=None, names=EVENT_COLUMNS, dtype={"listening_zip_code": str})
    df = df[pd.to_datetime(df["datetime"], errors="coerce").notna()].copy()
    df["ismobile"] = df["ismobile"].astype(int)
    df["state"] = [lookup_zip(z).state for z in df["listening_zip_code"]]
    df["dt"] = pd.to_datetime(df["datetime"])
    assert answers["index"] == index and answers["total"] == len(df) == 6000
    # the figures stated in the notebook (notebooks/expected.py) for the sample data, all shown
    assert answers["data_set"] == "sample"
    assert answers["checks"] == {name: True for name in answers["checks"]} and len(answers["checks"]) == 7
    assert answers["overall_mobile_share"] == pytest.approx(df["ismobile"].mean(), abs=1e-9)

    hourly = df.groupby(df["dt"].dt.floor("h")).agg(plays=("event_id", "size"), mobile=("ismobile", "mean"))
    assert {h["hour"]: h["plays"] for h in answers["hourly"]} == \
        {t.strftime("%Y-%m-%d %H:00:00"): n for t, n in hourly["plays"].items()}
    for h in answers["hourly"]:
        assert h["mobile_share"] == pytest.approx(hourly.loc[pd.Timestamp(h["hour"]), "mobile"], abs=1e-9)

    state_plays = df["state"].value_counts()
    for row in answers["top_states"]:
        assert row["plays"] == state_plays[row["state"]]
    assert [r["plays"] for r in answers["top_states"]] == sorted(state_plays, reverse=True)[:10]
    zip_plays = df["listening_zip_code"].value_counts()
    assert [r["plays"] for r in answers["top_zips"]] == sorted(zip_plays, reverse=True)[:10]

    customers = df.groupby("state")["customer_id"].nunique()
    assert {r["state"]: r["customers"] for r in answers["customers_per_state"]} == customers.to_dict()

    latest = df.groupby("customer_id")["dt"].max().sort_values(ascending=False)
    shown = pd.DataFrame(answers["latest_plays"])
    # the ten customers with the newest plays (ties broken by Elasticsearch; compare the times)
    newest = shown.groupby("customer_id")["datetime"].max()
    assert sorted(pd.to_datetime(newest), reverse=True) == list(latest.iloc[:10])
    for row in shown.itertuples():
        played = df[(df["customer_id"] == row.customer_id) & (df["track_id"] == row.track_id)]
        assert pd.Timestamp(row.datetime) in set(played["dt"])   # a real play of that track
