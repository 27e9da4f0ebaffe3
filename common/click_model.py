"""The true click model: how likely a customer is to take the SMS offer.

The generator (tools.datagen) draws the past clicks in data/clicks.csv from it,
and stage 3's simulated customers (stage3.outcomes) draw the outcome of each
new offer from it, so the ground truth is one definition:

    P(click ADV_REDUCED_1DAY | offer seen) = 1 / (1 + exp(-z))
    z = CLICK_INTERCEPT + sum(weight * feature)

over the customer's listening profile (common.profiles.listening_profile) and
attributes (Silver, female, age band from the id). The model is hidden from
the learner's model on purpose: stage 3 has to rediscover it from the clicks.

    from common.click_model import click_probability
    click_probability(listening_profile(events), customers)   # Series per customer_id
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from common.customers import age_band, ages_of

CLICK_INTERCEPT = -10.5
CLICK_WEIGHTS = {"night": 40.0, "morning": -25.0, "mobile": 22.0, "distinct_ratio": -14.0,
                 "silver": 3.0, "female": 1.0}
CLICK_AGE_WEIGHTS = {"18-24": 4.0, "25-34": 2.0, "35-44": 0.0, "45-54": -2.0, "55-64": -4.0, "65+": -5.0}


def click_logit(profile: pd.DataFrame, customers: pd.DataFrame) -> pd.Series:
    """z for each customer in ``profile`` (indexed by customer_id).

    ``customers`` has the cust.csv columns CustID, Level (1 = Silver) and Gender (0 = female)."""
    attrs = customers.set_index("CustID").loc[profile.index]
    bands = [age_band(a) for a in ages_of(profile.index.to_numpy())]
    w = CLICK_WEIGHTS
    z = (CLICK_INTERCEPT + w["night"] * profile["night"] + w["morning"] * profile["morning"]
         + w["mobile"] * profile["mobile"] + w["distinct_ratio"] * profile["distinct_ratio"]
         + w["silver"] * (attrs["Level"] == 1).to_numpy() + w["female"] * (attrs["Gender"] == 0).to_numpy()
         + np.array([CLICK_AGE_WEIGHTS[b] for b in bands]))
    return z.rename("click_logit")


def click_probability(profile: pd.DataFrame, customers: pd.DataFrame) -> pd.Series:
    """The true P(click ADV_REDUCED_1DAY | offer seen), per customer_id."""
    return sigmoid(click_logit(profile, customers)).rename("p_click")


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))
