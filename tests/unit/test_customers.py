"""Derived customer attributes, one-row parsing, and the time-of-day rules."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from common.customers import (Customer, age_band, age_of, ages_of, gender_label, level_label,
                              parse_customer)
from common.profiles import listening_profile, time_of_day


def _age_by_hand(cust_id: int) -> int:
    # the formula documented in data/GROUND_TRUTH.md, in plain Python
    u = (cust_id * 2654435761) % 2**32 / 2**32
    return 18 + math.floor(62 * u ** 1.8)


def test_age_follows_the_documented_formula_for_every_id():
    ids = range(1, 20001)
    assert list(ages_of(list(ids))) == [_age_by_hand(i) for i in ids]
    assert age_of(4242) == _age_by_hand(4242) == age_of(4242)


def test_ages_are_adult_and_skewed_young():
    ages = pd.Series(ages_of(range(1, 20001)))
    assert ages.min() == 18 and ages.max() == 79
    assert 30 <= ages.median() <= 42
    assert (ages < 35).mean() > (ages >= 55).mean()


@pytest.mark.parametrize("age, band", [(17, "<18"), (18, "18-24"), (24, "18-24"), (25, "25-34"),
                                       (44, "35-44"), (45, "45-54"), (64, "55-64"), (65, "65+"),
                                       (99, "65+")])
def test_age_band_boundaries(age, band):
    assert age_band(age) == band


def test_labels():
    assert (gender_label(0), gender_label(1), gender_label(5)) == ("female", "male", "unknown")
    assert [level_label(x) for x in (0, 1, 2)] == ["Free", "Silver", "Gold"]


def _row(**changes):
    row = {"CustID": "10", "Name": "Joshua Threadgill", "Gender": "0", "Address": "10084 Easy Gate Bend",
           "zip": "66216", "SignDate": "01/13/2013", "Status": "0", "Level": "1", "Campaign": "1",
           "LinkedWithApps": "1"}
    row.update(changes)
    return row


def test_a_clean_row_parses_without_notes():
    customer, notes = parse_customer(_row())
    assert notes == []
    assert customer == Customer(10, "Joshua Threadgill", 0, "10084 Easy Gate Bend", "66216",
                                "01/13/2013", 0, 1, 1, 1)
    assert customer.age == _age_by_hand(10)


def test_customer_id_zero_is_valid_as_in_the_original_demo():
    customer, _ = parse_customer(_row(CustID="0"))
    assert customer.cust_id == 0
    with pytest.raises(ValueError, match="non-negative"):
        parse_customer(_row(CustID="-1"))


def test_repairs_are_reported():
    customer, notes = parse_customer(_row(zip=" 601 ", Campaign=None, LinkedWithApps=""))
    assert (customer.zip, customer.campaign, customer.linked_with_apps) == ("00601", 0, 0)
    assert len(notes) == 3 and any("zip" in n for n in notes)


@pytest.mark.parametrize("changes, word", [({"CustID": "x1"}, "CustID"), ({"CustID": "-3"}, "CustID"),
                                           ({"Gender": "2"}, "Gender"), ({"Level": ""}, "Level"),
                                           ({"Status": "open"}, "Status")])
def test_unusable_rows_raise_with_the_reason(changes, word):
    with pytest.raises(ValueError, match=word):
        parse_customer(_row(**changes))


@pytest.mark.parametrize("hour, part", [(0, "night"), (4, "night"), (5, "morning"), (11, "morning"),
                                        (12, "afternoon"), (16, "afternoon"), (17, "evening"),
                                        (21, "evening"), (22, "night"), (23, "night")])
def test_time_of_day_boundaries(hour, part):
    assert time_of_day(hour) == part


def test_time_of_day_rejects_impossible_hours():
    with pytest.raises(ValueError):
        time_of_day(24)


def test_listening_profile_counts_every_play():
    plays = pd.DataFrame({
        "event_id": [1, 2, 3, 4, 5],
        "customer_id": [7, 7, 7, 7, 8],
        "track_id": [100, 100, 101, 102, 100],
        "datetime": ["2026-09-01 04:59:59", "2026-09-01 05:00:00", "2026-09-01 21:59:00",
                     "2026-09-01 22:00:00", "2026-09-01 12:00:00"],
        "ismobile": [1, 0, 1, 1, 0],
        "listening_zip_code": ["10001"] * 5,
    })
    profile = listening_profile(plays)
    assert profile.loc[7].to_dict() == {"morning": 0.25, "afternoon": 0.0, "evening": 0.25, "night": 0.5,
                                        "mobile": 0.75, "distinct_ratio": 0.75, "plays": 4}
    assert profile.loc[8, "afternoon"] == 1.0
    # same answer from a datetime64 column
    timed = plays.assign(datetime=pd.to_datetime(plays["datetime"]))
    pd.testing.assert_frame_equal(listening_profile(timed), profile)
