"""Crafted stage-3 feature tables for the training tests (independent of data/)."""
from __future__ import annotations

import numpy as np

FEATURES_DDL = ("customer_id INT, morning DOUBLE, afternoon DOUBLE, evening DOUBLE, night DOUBLE, "
                "mobile DOUBLE, distinct_ratio DOUBLE, plays DOUBLE, level STRING, gender STRING, "
                "age_band STRING, campaign STRING, label DOUBLE")


def crafted_features(spark, n: int, seed: int, rule: str):
    """n customers with random profiles, labelled by ``rule``:
    'night' (clicks iff night share > 0.3: learnable), 'day' (the opposite),
    'rare' (5% random clicks: nothing to learn, and a baseline already under 10% error)."""
    rng = np.random.default_rng(seed)
    shares = rng.dirichlet([2, 2, 2, 2], n)
    night = shares[:, 3]
    label = {"night": night > 0.3, "day": night <= 0.3, "rare": rng.random(n) < 0.05}[rule]
    rows = [(i + 1, *map(float, shares[i]), float(rng.random()), float(rng.random()), float(rng.integers(20, 400)),
             ["Free", "Silver", "Gold"][i % 3], ["female", "male"][i % 2], "25-34", str(i % 4), float(label[i]))
            for i in range(n)]
    return spark.createDataFrame(rows, FEATURES_DDL)
