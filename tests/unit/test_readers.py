"""The CSV readers on the committed sample and on a crafted original-layout cust.csv."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from common.readers import iter_event_lines, read_clicks, read_customers, read_events, read_music
from common.schema import CLICK_COLUMNS, CUSTOMER_COLUMNS, EVENT_COLUMNS, MUSIC_COLUMNS, OFFER_NAME

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
TRUTH = json.loads((SAMPLE / "ground_truth.json").read_text())


def test_read_events_types_and_zips():
    events = read_events(SAMPLE / "tracks.csv")
    assert list(events.columns) == EVENT_COLUMNS and len(events) == TRUTH["events"]
    assert {c: str(t) for c, t in events.dtypes.items() if c not in ("datetime", "listening_zip_code")} == \
        {"event_id": "int64", "customer_id": "int64", "track_id": "int64", "ismobile": "int64"}
    assert events["listening_zip_code"].str.fullmatch(r"\d{5}").all()
    assert events["datetime"].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d").all()


def test_read_events_tolerates_a_header_and_short_zips(tmp_path):
    lines = (SAMPLE / "tracks.csv").read_text().splitlines()[:3]
    path = tmp_path / "with_header.csv"
    path.write_text(",".join(EVENT_COLUMNS) + "\n" + "\n".join(lines) + "\n1000001,5,6,2026-10-31 10:00:00,1,601\n")
    events = read_events(path)
    assert len(events) == 4
    assert events["event_id"].iloc[0] == int(lines[0].split(",")[0])
    assert events["listening_zip_code"].iloc[-1] == "00601"


def test_iter_event_lines_skips_header_and_blank_lines(tmp_path):
    path = tmp_path / "live.csv"
    path.write_text(",".join(EVENT_COLUMNS) + "\r\n1,2,3,2026-10-31 10:00:00,1,02134\r\n\r\n4,5,6,x,0,1\n")
    assert list(iter_event_lines(path)) == ["1,2,3,2026-10-31 10:00:00,1,02134", "4,5,6,x,0,1"]
    assert sum(1 for _ in iter_event_lines(SAMPLE / "tracks.csv")) == TRUTH["events"]


def test_read_customers_sample_is_clean():
    customers, problems = read_customers(SAMPLE / "cust.csv")
    assert problems == []
    assert list(customers.columns) == CUSTOMER_COLUMNS and len(customers) == TRUTH["customers"]
    assert customers["CustID"].is_unique and customers["zip"].str.fullmatch(r"\d{5}").all()
    assert customers["Address"].str.contains(",").any()          # quoted commas survived


ORIGINAL_LAYOUT = """\
CustID, Name, Gender, Address, zip, SignDate, Status, Level, Campaign, LinkedWithApps
10, Joshua Threadgill, 0, 10084 Easy Gate Bend, 66216, 01/13/2013, 0, 1, 1, 1
11, "Threadgill, Anna", 1, "12 Oak St, Apt 4", 2134, 02/20/2014, 1, 0, 2, 0
12, Ben Short, 1, 5 Pine Rd, 10001, 03/03/2015, 1, 2

13, Bad Gender, 7, 1 Elm St, 10001, 03/03/2015, 1, 0, 0, 0
x14, Bad Id, 0, 1 Elm St, 10001, 03/03/2015, 1, 0, 0, 0
10, Repeated Id, 0, 1 Elm St, 10001, 03/03/2015, 1, 0, 0, 0
15, Too Short, 0
16, Odd Date, 1, 1 Elm St, 94103, 2015-03-03, 1, 1, 3, 1
"""


def test_read_customers_original_layout(tmp_path):
    path = tmp_path / "cust.csv"
    path.write_text(ORIGINAL_LAYOUT)
    customers, problems = read_customers(path)
    assert customers["CustID"].tolist() == [10, 11, 12, 16]
    anna = customers.set_index("CustID").loc[11]
    assert (anna["Name"], anna["Address"], anna["zip"], anna["Level"]) == \
        ("Threadgill, Anna", "12 Oak St, Apt 4", "02134", 0)
    ben = customers.set_index("CustID").loc[12]
    assert (ben["Level"], ben["Campaign"], ben["LinkedWithApps"]) == (2, 0, 0)
    assert [(line, reason.split(":")[0]) for line, reason in problems] == [
        (3, "repaired"), (4, "repaired"), (4, "repaired"), (6, "skipped"), (7, "skipped"),
        (8, "skipped"), (9, "skipped"), (10, "repaired")]
    reasons = dict(problems)
    assert "Gender" in reasons[6] and "CustID" in reasons[7] and "repeated" in reasons[8]
    assert "Status" in reasons[9] and "SignDate" in reasons[10]


def test_read_customers_refuses_a_file_that_is_not_cust_csv(tmp_path):
    path = tmp_path / "music.csv"
    path.write_text((SAMPLE / "music.csv").read_text())
    with pytest.raises(ValueError, match="not a cust.csv"):
        read_customers(path)


def test_read_music_and_clicks():
    music = read_music(SAMPLE / "music.csv")
    assert list(music.columns) == MUSIC_COLUMNS and len(music) == TRUTH["tracks"]
    assert music["TrackId"].is_unique and (music["Length"] > 0).all()
    clicks = read_clicks(SAMPLE / "clicks.csv")
    assert list(clicks.columns) == CLICK_COLUMNS
    assert clicks["CustID"].nunique() == TRUTH["offer"]["offered_customers"]
    assert (clicks["AdClicked"] == OFFER_NAME).sum() == TRUTH["offer"]["clicked"]
