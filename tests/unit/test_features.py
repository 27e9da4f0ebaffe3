"""Stage-3 features (Spark) against an oracle computed with pandas on a small
crafted history, through the same CSV readers the training uses. The history
puts plays on every time-of-day boundary (04:59, 05:00, 11:59, 12:00, 16:59,
17:00, 21:59, 22:00) and counts every play, not only the last one."""
from __future__ import annotations

import pandas as pd
import pytest

from stage3 import features as stage3_features


# customer, track, datetime, ismobile
PLAYS = [
    (1, 10, "2026-03-02 04:59:59", 1), (1, 10, "2026-03-02 05:00:00", 1), (1, 11, "2026-03-02 11:59:59", 0),
    (1, 12, "2026-03-02 12:00:00", 0), (1, 10, "2026-03-02 21:59:59", 1), (1, 13, "2026-03-02 22:00:00", 1),
    (2, 20, "2026-03-02 16:59:59", 0), (2, 20, "2026-03-02 17:00:00", 0), (2, 20, "2026-03-03 00:00:00", 1),
    (3, 30, "2026-03-04 23:59:59", 1),
    (4, 40, "2026-03-04 08:00:00", 0), (4, 41, "2026-03-04 08:30:00", 0), (4, 42, "2026-03-05 13:00:00", 1),
    (4, 40, "2026-03-05 19:00:00", 0),
    (9, 90, "2026-03-05 19:00:00", 0),   # not in cust.csv: no attributes, no row
]
CUSTOMERS = pd.DataFrame({
    "CustID": [1, 2, 3, 4, 5], "Name": ["A", "B", "C", "D", "E"], "Gender": [0, 1, 0, 1, 0],
    "Address": ["x"] * 5, "zip": ["10001"] * 5, "SignDate": ["01/02/2024"] * 5, "Status": [1] * 5,
    "Level": [0, 1, 2, 0, 1], "Campaign": [1, 0, 2, 3, 1], "LinkedWithApps": [1, 0, 1, 0, 1],
})
CLICKS = pd.DataFrame({
    "EventID": [1, 7, 8, 11], "CustID": [1, 2, 2, 4],
    "AdClicked": ["ADV_REDUCED_1DAY", "ADV_FREE_REFERRAL", "ADV_LIFETIME_NOADS", "ADV_DOUBLE_FOR_FREE"],
    "Localtime": ["2026-03-02 04:59:59"] * 4,
})


def oracle_bucket(hour: int) -> str:
    # written out here on purpose, independent of common.profiles
    if 5 <= hour < 12:
        return "morning"
    if 12 <= hour < 17:
        return "afternoon"
    if 17 <= hour < 22:
        return "evening"
    return "night"


def oracle(plays: pd.DataFrame) -> pd.DataFrame:
    plays = plays[plays.customer_id.isin(CUSTOMERS.CustID)].copy()
    plays["bucket"] = plays.datetime.str[11:13].astype(int).map(oracle_bucket)
    g = plays.groupby("customer_id")
    out = pd.crosstab(plays.customer_id, plays.bucket, normalize="index")
    out = out.reindex(columns=["morning", "afternoon", "evening", "night"], fill_value=0.0)
    out["mobile"] = g.ismobile.mean()
    out["distinct_ratio"] = g.track_id.nunique() / g.size()
    out["plays"] = g.size().astype(float)
    return out.sort_index()


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    from common.config import Settings
    from common.spark import get_spark

    s = Settings(runtime_dir=tmp_path_factory.mktemp("rt"))
    session = get_spark("test-stage3-features", s, kafka=False)
    yield session
    session.stop()   # later tests may need a session with other settings (Kafka jars)


@pytest.fixture
def data_dir(tmp_path):
    plays = pd.DataFrame(PLAYS, columns=["customer_id", "track_id", "datetime", "ismobile"])
    plays.insert(0, "event_id", range(1, len(plays) + 1))
    plays["listening_zip_code"] = "10001"
    plays.to_csv(tmp_path / "tracks.csv", index=False, header=False)   # no header, like the generator
    CUSTOMERS.to_csv(tmp_path / "cust.csv", index=False)
    CLICKS.to_csv(tmp_path / "clicks.csv", index=False)
    return tmp_path


def test_features_match_the_pandas_oracle(spark, data_dir):
    from common.config import Settings

    feats, labelled, window = stage3_features.build_features(spark, Settings(data_dir=data_dir))
    got = feats.toPandas().set_index("customer_id").sort_index()
    want = oracle(pd.DataFrame(PLAYS, columns=["customer_id", "track_id", "datetime", "ismobile"]))
    cols = ["morning", "afternoon", "evening", "night", "mobile", "distinct_ratio", "plays"]
    pd.testing.assert_frame_equal(got[cols], want[cols], check_names=False, check_index_type=False)

    # customer 1 by hand: 04:59 and 22:00 are night, 05:00 and 11:59 morning,
    # 12:00 afternoon, 21:59 evening; every one of the 6 plays counts
    c1 = got.loc[1]
    assert (c1.morning, c1.afternoon, c1.evening, c1.night) == (2 / 6, 1 / 6, 1 / 6, 2 / 6)
    assert got.loc[2, "evening"] == 1 / 3 and got.loc[2, "night"] == 1 / 3   # 17:00 evening, 00:00 night
    assert 9 not in got.index and 5 not in got.index    # unknown customer; no plays
    assert got.loc[1, ["level", "gender", "campaign"]].tolist() == ["Free", "female", "1"]
    assert got.loc[3, "level"] == "Gold"

    assert window["plays"] == len(PLAYS) and window["customers"] == 4
    assert window["first_play"] == "2026-03-02 04:59:59" and window["last_play"] == "2026-03-05 19:00:00"


def test_labels_only_for_customers_who_saw_the_offer(spark, data_dir):
    from common.config import Settings

    _, labelled, _ = stage3_features.build_features(spark, Settings(data_dir=data_dir))
    labels = dict(labelled.select("customer_id", "label").toPandas().values.tolist())
    # 1 clicked the offer; 2 and 4 saw it and clicked other ads; 3 (Gold) never saw it
    assert labels == {1: 1.0, 2: 0.0, 4: 0.0}


def test_outputs_are_written_as_parquet_and_libsvm(spark, data_dir, tmp_path):
    from common.config import Settings

    feats, labelled, _ = stage3_features.build_features(spark, Settings(data_dir=data_dir))
    stage3_features.write_outputs(feats, labelled, tmp_path / "out")
    back = pd.read_parquet(tmp_path / "out" / "features.parquet")
    assert sorted(back.customer_id) == [1, 2, 3, 4]
    assert back.set_index("customer_id").label.isna().to_dict() == {1: False, 2: False, 3: True, 4: False}
    lines = "".join(p.read_text() for p in (tmp_path / "out" / "labelled.libsvm").glob("part-*")).split("\n")
    lines = [ln for ln in lines if ln]
    assert sorted(ln.split()[0] for ln in lines) == ["0.0", "0.0", "1.0"]
    assert all(":" in ln.split()[1] for ln in lines)     # index:value pairs
