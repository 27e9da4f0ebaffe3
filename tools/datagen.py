"""Deterministic synthetic data for the workshop (rules and figures: data/GROUND_TRUTH.md).

Writes into ``--out`` (default: settings.data_dir, i.e. data/):
  cust.csv      customers            (header; columns of schema.CUSTOMER_COLUMNS)
  music.csv     the track catalog    (header; schema.MUSIC_COLUMNS)
  tracks.csv    one line per play    (NO header, like the live file; schema.EVENT_COLUMNS),
                sorted by time, event_id increasing with time
  clicks.csv    past ad clicks       (header; schema.CLICK_COLUMNS)
  ground_truth.json and GROUND_TRUTH.md: the rules below and the figures they produced

Every random draw comes from one numpy generator seeded with ``--seed`` over a
fixed calendar window that ends on END_DATE, so the same arguments give
byte-identical files on every machine and every day.

Run:
    python -m tools.datagen                      # the default set (make data), ~10 s
    python -m tools.datagen --customers 200 --tracks 300 --events 6000 --days 7 --out data/sample
"""
from __future__ import annotations

import argparse
import json
import time
from datetime import date, datetime, timezone
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from common.click_model import CLICK_AGE_WEIGHTS, CLICK_INTERCEPT, CLICK_WEIGHTS, click_probability
from common.customers import age_band, ages_of
from common.profiles import TIME_OF_DAY, listening_profile, time_of_day_index
from common.geo import zip_table
from common.schema import (CLICK_COLUMNS, CUSTOMER_COLUMNS, EVENT_COLUMNS, LEVELS,
                           MUSIC_COLUMNS, OFFER_NAME, SIGNDATE_FORMAT)

# --- sizes and calendar --------------------------------------------------------
DEFAULTS = {"seed": 42, "customers": 5000, "tracks": 1000, "events": 1_000_000, "days": 61}
END_DATE = date(2026, 10, 31)            # last day of every window: the data never changes

# --- the ground truth (documented in GROUND_TRUTH.md, rendered from these values) ---
# Diurnal curve: relative plays per hour of day (UTC), evening peak, night trough.
HOUR_WEIGHTS = np.array([
    2.0, 1.2, 0.8, 0.6, 0.6, 1.0, 2.0, 3.5, 4.5, 4.0, 3.8, 4.0,     # 00-11
    4.5, 4.3, 4.0, 4.2, 4.8, 5.5, 6.3, 7.0, 7.3, 6.6, 5.0, 3.5,     # 12-23
])
# Each customer's shares of morning/afternoon/evening/night are drawn from a
# Dirichlet centred on the curve's own shares; lower = customers differ more.
DAYPART_CONCENTRATION = 8.0
MOBILE_BETA = (3.0, 2.0)                 # per-customer chance a play is on a phone, mean 0.6
REPLAY_BETA = (2.0, 3.0)                 # chance a play is one of the customer's favourites
FAVOURITES = 5                           # favourite tracks per customer
HOME_BETA = (8.0, 1.5)                   # chance a play happens at the home zip, mean ~0.84
POPULARITY_EXPONENT = 0.8                # track popularity ~ 1 / rank ** 0.8
LEVEL_MIX = (0.60, 0.25, 0.15)           # Free, Silver, Gold
FEMALE_SHARE = 0.5
ACTIVE_SHARE = 0.9                       # Status 1
CAMPAIGN_MIX = (0.4, 0.3, 0.2, 0.1)      # campaign 0 (none), 1, 2, 3
ACTIVITY_SIGMA = 0.7                     # plays per customer ~ lognormal
BURST_SHARE = 0.10                       # customers with repeat-listening bursts
BURST_MAX_SPAN = 29 * 60                 # a burst's first..last play, seconds (< 30 min)
NEAR_MISS_SHARE = 0.04                   # customers with 3 plays spread just over 30 min
NEAR_MISS_SPAN = (30 * 60 + 1, 40 * 60)

# The click model (P(click | offer seen) per customer) is common.click_model's.
OFFERED_LEVELS = (0, 1)                  # Free and Silver customers saw the offer; Gold did not
OTHER_ADS = ("ADV_FREE_REFERRAL", "ADV_DOUBLE_FOR_FREE", "ADV_LIFETIME_NOADS")

# Approximate 2020 census population (millions): home zips are drawn state by
# state with these weights, then uniformly among the state's zips.
STATE_POPULATION = {
    "CA": 39.5, "TX": 29.1, "FL": 21.5, "NY": 20.2, "PA": 13.0, "IL": 12.8, "OH": 11.8, "GA": 10.7,
    "NC": 10.4, "MI": 10.1, "NJ": 9.3, "VA": 8.6, "WA": 7.7, "AZ": 7.2, "MA": 7.0, "TN": 6.9,
    "IN": 6.8, "MD": 6.2, "MO": 6.2, "WI": 5.9, "CO": 5.8, "MN": 5.7, "SC": 5.1, "AL": 5.0,
    "LA": 4.7, "KY": 4.5, "OR": 4.2, "OK": 4.0, "CT": 3.6, "UT": 3.3, "PR": 3.3, "IA": 3.2,
    "NV": 3.1, "AR": 3.0, "MS": 3.0, "KS": 2.9, "NM": 2.1, "NE": 2.0, "ID": 1.8, "WV": 1.8,
    "HI": 1.5, "NH": 1.4, "ME": 1.4, "RI": 1.1, "MT": 1.1, "DE": 1.0, "SD": 0.9, "ND": 0.8,
    "AK": 0.7, "DC": 0.7, "VT": 0.6, "WY": 0.6,
}

FIRST_NAMES = ("James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William "
               "Barbara Richard Susan Joseph Jessica Thomas Sarah Carlos Karen Daniel Lisa Matthew "
               "Nancy Anthony Betty Mark Sandra Luis Ashley Steven Kimberly Andrew Emily Kevin "
               "Maria Brian Michelle Wei Priya").split()
LAST_NAMES = ("Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
              "Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson "
              "White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright "
              "Scott Torres Nguyen Hill Flores").split()
STREETS = ("Maple Oak Cedar Pine Elm Lake Hill Park Sunset River Church Mill Spring Valley Forest "
           "Meadow Highland Walnut Willow Cherry").split()
STREET_KINDS = ("St", "Ave", "Rd", "Blvd", "Ln", "Dr", "Ct", "Way")
TITLE_WORDS = (("Midnight Golden Broken Electric Silent Wild Lonely Summer Neon Velvet Hollow "
                "Burning Crystal Distant Restless").split(),
               ("Heart Highway River Dreams Fire Rain Echo Skyline Letters Shadows Horizon "
                "Garden Signal Tide Radio").split())
ARTIST_WORDS = (("The Blue Iron Velvet Northern Lucky Paper Silver Desert Crimson Atlantic "
                 "Hidden Solar Static").split(),
                ("Foxes Lanterns Pilots Sisters Machines Wolves Kings Parade Collective Orchestra "
                 "Tides Riders Echoes Satellites").split())


def generate(seed: int = DEFAULTS["seed"], customers: int = DEFAULTS["customers"],
             tracks: int = DEFAULTS["tracks"], events: int = DEFAULTS["events"],
             days: int = DEFAULTS["days"]) -> dict[str, pd.DataFrame | dict]:
    """Build the four tables in memory. Returns {'customers', 'music', 'events',
    'clicks', 'planted'}; 'planted' counts the bursts and near misses built in."""
    if events < customers * 20:
        raise ValueError("need at least 20 events per customer")
    rng = np.random.default_rng(seed)
    window_start = int(datetime(END_DATE.year, END_DATE.month, END_DATE.day, tzinfo=timezone.utc)
                       .timestamp()) - (days - 1) * 86400
    window_end = window_start + days * 86400 - 1

    cust = _customers(rng, customers)
    music = _music(rng, tracks)
    latent = _latent_habits(rng, customers, tracks)
    # phone listeners link the app more often
    cust["LinkedWithApps"] = (rng.random(customers) < 0.2 + 0.6 * latent["mobile"]).astype(int)
    plays, planted = _plays(rng, cust, latent, events, window_start, days, window_end)
    profile = listening_profile(plays)
    p_click = click_probability(profile, cust)
    clicks = _clicks(rng, cust, plays, p_click)
    return {"customers": cust, "music": music, "events": plays, "clicks": clicks, "planted": planted}


# --- customers and catalog ----------------------------------------------------------
@lru_cache(maxsize=1)
def _zips_by_state() -> dict[str, list[str]]:
    by_state: dict[str, list[str]] = {}
    for z, info in sorted(zip_table().items()):
        by_state.setdefault(info.state, []).append(z)
    return by_state


def _home_zips(rng: np.random.Generator, n: int) -> np.ndarray:
    by_state = _zips_by_state()
    states = [s for s in sorted(STATE_POPULATION) if s in by_state]
    weights = np.array([STATE_POPULATION[s] for s in states])
    picked = rng.choice(len(states), size=n, p=weights / weights.sum())
    within = rng.random(n)
    return np.array([by_state[states[s]][int(u * len(by_state[states[s]]))]
                     for s, u in zip(picked, within)])


def _customers(rng: np.random.Generator, n: int) -> pd.DataFrame:
    ids = np.arange(1, n + 1)
    zips = _home_zips(rng, n)
    table = zip_table()
    first = rng.choice(FIRST_NAMES, n)
    last = rng.choice(LAST_NAMES, n)
    number = rng.integers(1, 9999, n)
    street = rng.choice(STREETS, n)
    kind = rng.choice(STREET_KINDS, n)
    sign_days = rng.integers(0, (date(2026, 8, 31) - date(2015, 1, 1)).days, n)
    sign_dates = (np.datetime64("2015-01-01") + sign_days).astype(object)
    return pd.DataFrame({
        "CustID": ids,
        "Name": [f"{a} {b}" for a, b in zip(first, last)],
        "Gender": (rng.random(n) >= FEMALE_SHARE).astype(int),          # 0 female, 1 male
        "Address": [f"{no} {s} {k}, {table[z].city}, {table[z].state}"
                    for no, s, k, z in zip(number, street, kind, zips)],
        "zip": zips,
        "SignDate": [d.strftime(SIGNDATE_FORMAT) for d in sign_dates],
        "Status": (rng.random(n) < ACTIVE_SHARE).astype(int),
        "Level": rng.choice(3, n, p=LEVEL_MIX),
        "Campaign": rng.choice(len(CAMPAIGN_MIX), n, p=CAMPAIGN_MIX),
        "LinkedWithApps": 0,                         # set from the mobile habit in generate()
    })[CUSTOMER_COLUMNS]


def _music(rng: np.random.Generator, n: int) -> pd.DataFrame:
    a, b = TITLE_WORDS
    artists = [f"{x} {y}" for x in ARTIST_WORDS[0] for y in ARTIST_WORDS[1]]
    return pd.DataFrame({
        "TrackId": np.arange(1, n + 1),
        "Title": [f"{a[i]} {b[j]}" + (f" {k}" if k > 1 else "")
                  for i, j, k in zip(rng.integers(0, len(a), n), rng.integers(0, len(b), n),
                                     rng.integers(1, 4, n))],
        "Artist": rng.choice(artists, n),
        "Length": np.clip(rng.normal(225, 55, n), 90, 600).astype(int),
    })[MUSIC_COLUMNS]


# --- listening habits and plays ------------------------------------------------------
def _latent_habits(rng: np.random.Generator, n: int, tracks: int) -> dict[str, np.ndarray]:
    """Per-customer propensities that drive the plays (and so the click profile)."""
    parts = time_of_day_index(np.arange(24))
    part_share = np.bincount(parts, weights=HOUR_WEIGHTS, minlength=4) / HOUR_WEIGHTS.sum()
    popularity = 1.0 / np.arange(1, tracks + 1) ** POPULARITY_EXPONENT
    rank_to_track = rng.permutation(tracks) + 1          # popular tracks are not the low ids
    return {
        "daypart": rng.dirichlet(DAYPART_CONCENTRATION * part_share, n),
        "mobile": rng.beta(*MOBILE_BETA, n),
        "replay": rng.beta(*REPLAY_BETA, n),
        "home": rng.beta(*HOME_BETA, n),
        "activity": rng.lognormal(0.0, ACTIVITY_SIGMA, n),
        "popularity_cdf": np.cumsum(popularity) / popularity.sum(),
        "rank_to_track": rank_to_track,
        "favourites": rank_to_track[_draw(rng, np.cumsum(popularity) / popularity.sum(), n * FAVOURITES)]
        .reshape(n, FAVOURITES),
    }


def _draw(rng: np.random.Generator, cdf: np.ndarray, size: int) -> np.ndarray:
    """Indices drawn from the distribution with cumulative weights ``cdf``."""
    return np.minimum(np.searchsorted(cdf, rng.random(size), side="right"), len(cdf) - 1)


def _start_times(rng: np.random.Generator, who: np.ndarray, daypart: np.ndarray,
                 window_start: int, days: int) -> np.ndarray:
    """A play time (epoch seconds) for each customer index in ``who``, following
    that customer's part-of-day shares and the diurnal curve within each part."""
    part = (rng.random(len(who))[:, None] > np.cumsum(daypart[who], axis=1)).sum(axis=1)
    part = np.minimum(part, 3)
    hour_part = time_of_day_index(np.arange(24))
    hour = np.empty(len(who), dtype=np.int64)
    u = rng.random(len(who))
    for p in range(4):
        hours = np.flatnonzero(hour_part == p)
        cdf = np.cumsum(HOUR_WEIGHTS[hours]) / HOUR_WEIGHTS[hours].sum()
        mask = part == p
        hour[mask] = hours[np.minimum(np.searchsorted(cdf, u[mask], side="right"), len(hours) - 1)]
    day = rng.integers(0, days, len(who))
    return window_start + day * 86400 + hour * 3600 + rng.integers(0, 3600, len(who))


def _plays(rng, cust: pd.DataFrame, latent: dict, total: int, window_start: int, days: int,
           window_end: int) -> tuple[pd.DataFrame, dict]:
    """All plays, sorted by time: regular plays from each customer's habits, plus the
    planted bursts and near misses. Returns the plays and the planted counts."""
    n = len(cust)
    # Bursts: 1-2 per chosen customer, each 3-5 plays of one favourite within 29 minutes.
    bursts_per = np.where(rng.random(n) < BURST_SHARE, rng.integers(1, 3, n), 0)
    burst_cust = np.repeat(np.arange(n), bursts_per)
    burst_len = rng.integers(3, 6, len(burst_cust))
    near_cust = np.flatnonzero(rng.random(n) < NEAR_MISS_SHARE)

    # Plays per customer: a floor (room for the bursts) plus a lognormal share of the rest.
    planted = np.bincount(burst_cust, weights=burst_len, minlength=n).astype(np.int64)
    planted[near_cust] += 3
    floor = planted + 10
    if floor.sum() > total:
        raise ValueError("too few events for the customers and bursts")
    per_customer = floor + rng.multinomial(total - floor.sum(), latent["activity"] / latent["activity"].sum())
    regular = per_customer - planted

    who = np.repeat(np.arange(n), regular)
    t_regular = _start_times(rng, who, latent["daypart"], window_start, days)
    favourite = rng.random(len(who)) < latent["replay"][who]
    track = np.where(favourite, latent["favourites"][who, rng.integers(0, FAVOURITES, len(who))],
                     latent["rank_to_track"][_draw(rng, latent["popularity_cdf"], len(who))])

    # burst plays: gaps of 1 minute up to an equal share of BURST_MAX_SPAN
    b_start = _start_times(rng, burst_cust, latent["daypart"], window_start, days)
    b_track = latent["favourites"][burst_cust, rng.integers(0, FAVOURITES, len(burst_cust))]
    b_first = np.cumsum(burst_len) - burst_len
    b_play_of = np.repeat(np.arange(len(burst_cust)), burst_len)
    max_gap = (BURST_MAX_SPAN // (burst_len - 1))[b_play_of]
    gap = np.where(np.arange(len(b_play_of)) == b_first[b_play_of], 0,
                   rng.integers(60, max_gap + 1))
    offset = np.cumsum(gap) - np.repeat(np.cumsum(gap)[b_first], burst_len)
    span = np.repeat(np.add.reduceat(gap, b_first) if len(b_first) else gap, burst_len)
    b_times = np.minimum(b_start[b_play_of], window_end - span) + offset

    # near misses: 3 plays, first to last 30:01..40:00 apart, the middle one half way
    n_span = rng.integers(NEAR_MISS_SPAN[0], NEAR_MISS_SPAN[1] + 1, len(near_cust))
    n_start = np.minimum(_start_times(rng, near_cust, latent["daypart"], window_start, days),
                         window_end - n_span)
    n_times = np.stack([n_start, n_start + n_span // 2, n_start + n_span], axis=1).ravel()
    n_track = np.repeat(latent["favourites"][near_cust, 0], 3)

    all_cust = np.concatenate([who, burst_cust[b_play_of], np.repeat(near_cust, 3)])
    all_time = np.concatenate([t_regular, b_times, n_times])
    all_track = np.concatenate([track, b_track[b_play_of], n_track])
    mobile = (rng.random(len(all_cust)) < latent["mobile"][all_cust]).astype(np.int64)
    zips = _listening_zips(rng, cust, latent, all_cust)

    order = np.lexsort((all_track, all_cust, all_time))      # by time, then customer, then track
    stamps = np.datetime_as_string(all_time[order].astype("datetime64[s]"), unit="s")
    plays = pd.DataFrame({
        "event_id": np.arange(1, len(order) + 1),
        "customer_id": cust["CustID"].to_numpy()[all_cust[order]],
        "track_id": all_track[order],
        "datetime": pd.Series(stamps).str.replace("T", " ", regex=False),
        "ismobile": mobile[order],
        "listening_zip_code": zips[order],
    })[EVENT_COLUMNS]
    return plays, {"burst_customers": int((bursts_per > 0).sum()), "bursts": int(len(burst_cust)),
                   "burst_plays": int(burst_len.sum()), "near_miss_customers": int(len(near_cust))}


def _listening_zips(rng, cust: pd.DataFrame, latent: dict, who: np.ndarray) -> np.ndarray:
    """Most plays at the home zip; the rest at a second zip in the home state
    (work) or, one time in three, at a zip anywhere (travel)."""
    n = len(cust)
    home = cust["zip"].to_numpy()
    table, by_state = zip_table(), _zips_by_state()
    work = np.array([by_state[table[z].state][int(u * len(by_state[table[z].state]))]
                     for z, u in zip(home, rng.random(n))])
    travel = _home_zips(rng, n)
    u = rng.random(len(who))
    at_home = u < latent["home"][who]
    at_work = u < latent["home"][who] + (1 - latent["home"][who]) * 2 / 3
    return np.where(at_home, home[who], np.where(at_work, work[who], travel[who]))


# --- clicks ------------------------------------------------------------------------
def _clicks(rng, cust: pd.DataFrame, plays: pd.DataFrame, p_click: pd.Series) -> pd.DataFrame:
    """Every Free and Silver customer saw the offer; each gets 1-3 click rows, on
    real plays of theirs (EventID, Localtime): ADV_REDUCED_1DAY when they took the
    offer, other ads otherwise, so every offered customer appears in the file."""
    offered = cust.loc[cust["Level"].isin(OFFERED_LEVELS), "CustID"].to_numpy()
    clicked = rng.random(len(offered)) < p_click.loc[offered].to_numpy()
    others = np.where(clicked, rng.integers(0, 3, len(offered)), rng.integers(1, 4, len(offered)))
    rows = clicked.astype(int) + others
    who = np.repeat(offered, rows)
    nth = np.arange(len(who)) - np.repeat(np.cumsum(rows) - rows, rows)
    ad = np.where((nth == 0) & np.repeat(clicked, rows), OFFER_NAME,
                  np.array(OTHER_ADS)[rng.integers(0, len(OTHER_ADS), len(who))])
    # the click happened at the nth of `rows` equal slices of the customer's plays
    by_cust = plays.sort_values(["customer_id", "event_id"])
    first = by_cust.groupby("customer_id").cumcount().eq(0)
    start = pd.Series(np.flatnonzero(first.to_numpy()), index=by_cust["customer_id"][first].to_numpy())
    count = by_cust.groupby("customer_id").size()
    slot = ((nth + rng.random(len(who))) / np.repeat(rows, rows) * count.loc[who].to_numpy()).astype(int)
    picked = by_cust.iloc[start.loc[who].to_numpy() + slot]
    clicks = pd.DataFrame({"EventID": picked["event_id"].to_numpy(), "CustID": who, "AdClicked": ad,
                           "Localtime": picked["datetime"].to_numpy()})
    return clicks.sort_values(["EventID", "AdClicked"]).reset_index(drop=True)[CLICK_COLUMNS]


# --- the figures written beside the data ------------------------------------------------
def interest_pairs(events: pd.DataFrame, min_plays: int = 3, window_minutes: int = 30) -> pd.DataFrame:
    """(customer_id, track_id) pairs with ``min_plays`` plays whose first and last
    lie at most ``window_minutes`` apart: the stage-2 interest-list rule, as an oracle."""
    t = events[["customer_id", "track_id"]].copy()
    t["ts"] = pd.to_datetime(events["datetime"], format="%Y-%m-%d %H:%M:%S")
    t = t.sort_values(["customer_id", "track_id", "ts"])
    ahead = t.shift(-(min_plays - 1))
    same = (ahead["customer_id"] == t["customer_id"]) & (ahead["track_id"] == t["track_id"])
    hit = same & (ahead["ts"] - t["ts"] <= pd.Timedelta(minutes=window_minutes))
    return t.loc[hit, ["customer_id", "track_id"]].drop_duplicates().reset_index(drop=True)


def ground_truth_stats(events: pd.DataFrame, customers: pd.DataFrame, clicks: pd.DataFrame,
                       music: pd.DataFrame | None = None) -> dict:
    """The figures GROUND_TRUTH.md quotes, computed from the four tables (as
    written, or as ``common.readers`` reads them back)."""
    r = lambda x: round(float(x), 4)                                   # noqa: E731
    hours = events["datetime"].str.slice(11, 13).astype(int)
    hour_share = np.bincount(hours, minlength=24) / len(events)
    parts = np.bincount(time_of_day_index(hours), minlength=4) / len(events)
    play_count = events["track_id"].value_counts()
    home = customers.set_index("CustID")["zip"].loc[events["customer_id"]].to_numpy()
    interest = interest_pairs(events)

    offered = clicks["CustID"].unique()
    took = set(clicks.loc[clicks["AdClicked"] == OFFER_NAME, "CustID"])
    label = np.isin(offered, list(took))
    p = click_probability(listening_profile(events), customers).loc[offered].to_numpy()
    return {
        "customers": int(len(customers)),
        "tracks": int(len(music)) if music is not None else int(events["track_id"].nunique()),
        "events": int(len(events)),
        "first_play": events["datetime"].iloc[0], "last_play": events["datetime"].iloc[-1],
        "mobile_share": r(events["ismobile"].mean()),
        "level_mix": {LEVELS[k]: r((customers["Level"] == k).mean()) for k in LEVELS},
        "female_share": r((customers["Gender"] == 0).mean()),
        "active_share": r((customers["Status"] == 1).mean()),
        "age_band_mix": {b: r(v) for b, v in pd.Series([age_band(a) for a in ages_of(customers["CustID"])])
                         .value_counts(normalize=True).sort_index().items()},
        "hour_share": [r(x) for x in hour_share],
        "peak_hour": int(hour_share.argmax()), "trough_hour": int(hour_share.argmin()),
        "time_of_day_share": {name: r(x) for name, x in zip(TIME_OF_DAY, parts)},
        "top10_tracks_share": r(play_count.iloc[:10].sum() / len(events)),
        "home_zip_share": r((events["listening_zip_code"].to_numpy() == home).mean()),
        "interest_pairs": int(len(interest)),
        "interest_customers": int(interest["customer_id"].nunique()),
        "offer": {
            "offered_customers": int(len(offered)),
            "clicked": int(label.sum()),
            "click_rate": r(label.mean()),
            "baseline_error": r(min(label.mean(), 1 - label.mean())),
            "bayes_error": r(np.minimum(p, 1 - p).mean()),
            "bayes_rule_error_on_these_labels": r(((p > 0.5) != label).mean()),
        },
    }


def write_dataset(out: Path, seed: int = DEFAULTS["seed"], customers: int = DEFAULTS["customers"],
                  tracks: int = DEFAULTS["tracks"], events: int = DEFAULTS["events"],
                  days: int = DEFAULTS["days"]) -> dict:
    """Generate and write the four CSVs, ground_truth.json, GROUND_TRUTH.md and its Korean twin
    GROUND_TRUTH.ko.md into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    args = {"seed": seed, "customers": customers, "tracks": tracks, "events": events, "days": days}
    data = generate(**args)
    data["customers"].to_csv(out / "cust.csv", index=False)
    data["music"].to_csv(out / "music.csv", index=False)
    data["events"].to_csv(out / "tracks.csv", index=False, header=False)   # like the live file
    data["clicks"].to_csv(out / "clicks.csv", index=False)
    stats = {"generated_with": args, "planted": data["planted"],
             **ground_truth_stats(data["events"], data["customers"], data["clicks"], data["music"])}
    (out / "ground_truth.json").write_text(json.dumps(stats, indent=2) + "\n")
    (out / "GROUND_TRUTH.md").write_text(render_ground_truth(stats))
    (out / "GROUND_TRUTH.ko.md").write_text(render_ground_truth_ko(stats), encoding="utf-8")
    return stats


def render_ground_truth(s: dict) -> str:
    """GROUND_TRUTH.md: the rules (from the constants above) and the figures (its Korean twin:
    render_ground_truth_ko)."""
    g, o = s["generated_with"], s["offer"]
    curve = HOUR_WEIGHTS / HOUR_WEIGHTS.sum()
    hours = "\n".join(f"| {h:02d} | {curve[h]:.3f} | {s['hour_share'][h]:.3f} |" for h in range(24))
    ages = ", ".join(f"{k} {v:.0%}" for k, v in s["age_band_mix"].items())
    age_w = ", ".join(f"{k} {v:+g}" for k, v in CLICK_AGE_WEIGHTS.items())
    w = CLICK_WEIGHTS
    cmd = ("python -m tools.datagen" + ("" if g == DEFAULTS else
           f" --seed {g['seed']} --customers {g['customers']} --tracks {g['tracks']}"
           f" --events {g['events']} --days {g['days']} --out <dir>"))
    return f"""# Ground truth of the synthetic data

[한국어](GROUND_TRUTH.ko.md)

Generated by `tools/datagen.py` (`{cmd}`; `make data` for the default set). Same
arguments, same bytes: one numpy generator seeded with {g['seed']}, a fixed calendar window
ending on {END_DATE.isoformat()}. This file and `ground_truth.json` are written by the
generator itself; the figures below are for this set: {s['customers']:,} customers,
{s['tracks']:,} tracks, {s['events']:,} plays over {g['days']} days
({s['first_play']} .. {s['last_play']}, UTC).

## Customers (`cust.csv`)
- CustID 1..{s['customers']}. Level mix Free/Silver/Gold = {LEVEL_MIX} (drawn; here
  {s['level_mix']['Free']:.1%} / {s['level_mix']['Silver']:.1%} / {s['level_mix']['Gold']:.1%}).
- Gender 0 = female, 1 = male, {FEMALE_SHARE:.0%} female (here {s['female_share']:.1%}).
  Status 1 (active) for {ACTIVE_SHARE:.0%} (here {s['active_share']:.1%}); closed customers
  closed after the window, so they still have plays. Campaign 0-3 with shares {CAMPAIGN_MIX}.
  LinkedWithApps = 1 with probability 0.2 + 0.6 x the customer's mobile propensity.
- Age is not in the file: `common.customers.age_of(id) = 18 + floor(62 * u ** 1.8)` with
  `u = (id * 2654435761 mod 2**32) / 2**32` (Knuth's multiplicative hash). Bands: {ages}.
- Home zip: a real US zip from the `zipcodes` table: a state drawn with weights equal to its
  2020 census population (`STATE_POPULATION`), then a zip uniformly within the state.

## Catalog (`music.csv`)
{s['tracks']:,} tracks; popularity ~ 1 / rank ** {POPULARITY_EXPONENT} over a shuffled ranking, so a
few tracks dominate: the 10 most played take {s['top10_tracks_share']:.1%} of all plays.

## Plays (`tracks.csv`, no header, sorted by time, event_id = 1.. in time order)
Each customer has latent habits that drive the plays:
- activity: plays ~ a floor of 10 (plus the planted bursts) + lognormal(0, {ACTIVITY_SIGMA}) share of the rest;
- part-of-day shares ~ Dirichlet({DAYPART_CONCENTRATION} x the curve's own shares) over morning [5,12),
  afternoon [12,17), evening [17,22), night [22,5) (`common.profiles.time_of_day`);
  within a part, the hour follows the diurnal curve; the day is uniform over the window;
- mobile propensity ~ Beta{MOBILE_BETA}: each play is on a phone with that probability
  (here {s['mobile_share']:.1%} of all plays);
- replay propensity ~ Beta{REPLAY_BETA}: each play is one of {FAVOURITES} favourite tracks with that
  probability, otherwise a track drawn by popularity (this sets the distinct-track ratio);
- place: the home zip with probability ~ Beta{HOME_BETA} (here {s['home_zip_share']:.1%} of plays),
  otherwise a second zip in the home state (2/3) or a zip anywhere (1/3).

Time of day of all plays: {', '.join(f'{k} {v:.1%}' for k, v in s['time_of_day_share'].items())};
peak hour {s['peak_hour']:02d}:00, trough {s['trough_hour']:02d}:00.

| hour | curve | share of plays |
| --- | --- | --- |
{hours}

## Repeat-listening bursts (the interest list)
- {BURST_SHARE:.0%} of customers get 1-2 bursts: 3-5 plays of one favourite, gaps of 1 minute or more,
  first to last at most {BURST_MAX_SPAN // 60} minutes (here {s['planted']['bursts']} bursts for
  {s['planted']['burst_customers']} customers).
- {NEAR_MISS_SHARE:.0%} of customers get a near miss: 3 plays of one track whose first and last are
  30:01 to 40:00 apart, the middle one half way (here {s['planted']['near_miss_customers']} customers).
- By the rule "3 or more plays of one track by one customer, first and last at most 30 minutes
  apart" (`tools.datagen.interest_pairs`), the plays hold {s['interest_pairs']} (customer, track)
  pairs for {s['interest_customers']} customers: the planted bursts plus the few that heavy
  replayers produce by chance.

## Ad clicks (`clicks.csv`) and the stage-3 ceiling
- Who saw the offer: every Free and Silver customer, active or not ({o['offered_customers']:,});
  Gold customers saw no ads and are not in the file.
- Each of them gets 1-3 rows, each on one of their own plays (EventID = that play's event_id,
  Localtime = its datetime): one row `{OFFER_NAME}` when they took the offer plus 0-2 rows of
  other ads ({', '.join(OTHER_ADS)}), or 1-3 rows of other ads when they did not, so every
  offered customer appears.
- Label = the customer has a row with `AdClicked == {OFFER_NAME}`, drawn with
  P = 1 / (1 + exp(-z)),
  z = {CLICK_INTERCEPT:g} {w['night']:+g} night {w['morning']:+g} morning {w['mobile']:+g} mobile
  {w['distinct_ratio']:+g} distinct_ratio {w['silver']:+g} [Silver] {w['female']:+g} [female] + age(band),
  age(band): {age_w}.
  night/morning/mobile/distinct_ratio are the customer's shares computed from every one of
  their plays (`common.profiles.listening_profile`), so features computed the same way
  reveal P exactly, and a logistic regression on them is the right model.

| figure (offered customers) | value |
| --- | --- |
| clicked `{OFFER_NAME}` | {o['clicked']:,} ({o['click_rate']:.1%}) |
| majority-class baseline error | {o['baseline_error']:.1%} |
| **Bayes error (ceiling)**: mean of min(P, 1-P) | **{o['bayes_error']:.1%}** |
| error of the rule P > 0.5 on these labels | {o['bayes_rule_error_on_these_labels']:.1%} |

No model can expect an error below the Bayes error; a logistic regression on the stage-3
features should land within about two points of it, far below the 10% gate and below half
the baseline.
"""


def render_ground_truth_ko(s: dict) -> str:
    """GROUND_TRUTH.ko.md: the Korean twin of render_ground_truth, with the same figures, code
    spans and tables (tests/unit/test_translations.py compares the two)."""
    g, o = s["generated_with"], s["offer"]
    curve = HOUR_WEIGHTS / HOUR_WEIGHTS.sum()
    hours = "\n".join(f"| {h:02d} | {curve[h]:.3f} | {s['hour_share'][h]:.3f} |" for h in range(24))
    ages = ", ".join(f"{k} {v:.0%}" for k, v in s["age_band_mix"].items())
    age_w = ", ".join(f"{k} {v:+g}" for k, v in CLICK_AGE_WEIGHTS.items())
    parts = {"morning": "아침", "afternoon": "오후", "evening": "저녁", "night": "밤"}
    w = CLICK_WEIGHTS
    cmd = ("python -m tools.datagen" + ("" if g == DEFAULTS else
           f" --seed {g['seed']} --customers {g['customers']} --tracks {g['tracks']}"
           f" --events {g['events']} --days {g['days']} --out <dir>"))
    return f"""# 합성 데이터의 ground truth

[English](GROUND_TRUTH.md)

`tools/datagen.py`가 만듭니다(`{cmd}`. 기본 데이터는 `make data`). 인자가 같으면
바이트까지 같은 파일이 나옵니다. 시드 {g['seed']}로 초기화한 numpy 난수 생성기 하나와
{END_DATE.isoformat()}에 끝나는 고정된 달력 구간을 쓰기 때문입니다. 이 파일과 `ground_truth.json`은
generator가 직접 씁니다. 아래 수치는 이 데이터의 값입니다: 고객 {s['customers']:,}명,
곡 {s['tracks']:,}개, {g['days']}일 동안의 재생 {s['events']:,}건
({s['first_play']} .. {s['last_play']}, UTC).

## 고객 (`cust.csv`)
- CustID 1..{s['customers']}. 등급 비율 Free/Silver/Gold = {LEVEL_MIX}(추첨한 값이며, 여기서는
  {s['level_mix']['Free']:.1%} / {s['level_mix']['Silver']:.1%} / {s['level_mix']['Gold']:.1%}).
- Gender 0 = 여성, 1 = 남성, 여성 {FEMALE_SHARE:.0%}(여기서는 {s['female_share']:.1%}).
  Status 1(활성)은 {ACTIVE_SHARE:.0%}(여기서는 {s['active_share']:.1%})입니다. 해지한 고객은
  구간이 끝난 뒤에 해지했으므로 재생 기록이 있습니다. Campaign 0-3의 비율은 {CAMPAIGN_MIX}입니다.
  LinkedWithApps = 1일 확률은 0.2 + 0.6 x 그 고객의 휴대폰 성향입니다.
- 나이는 파일에 없습니다: `common.customers.age_of(id) = 18 + floor(62 * u ** 1.8)`,
  `u = (id * 2654435761 mod 2**32) / 2**32`(Knuth의 multiplicative hash)입니다. 나이대: {ages}.
- 집 zip: `zipcodes` 표의 실제 미국 zip입니다. 2020년 인구 조사의 주별 인구(`STATE_POPULATION`)를
  가중치로 주를 뽑고, 그 주 안에서 zip을 균등하게 뽑습니다.

## 곡 목록 (`music.csv`)
곡 {s['tracks']:,}개. 섞은 순위에 대해 인기도 ~ 1 / rank ** {POPULARITY_EXPONENT}이므로 몇 곡이
재생을 독차지합니다: 가장 많이 재생된 10곡이 전체 재생의 {s['top10_tracks_share']:.1%}를 차지합니다.

## 재생 (`tracks.csv`, header 없음, 시간순 정렬, event_id = 1..은 시간 순서)
고객마다 재생을 결정하는 숨은 습관이 있습니다:
- 활동량: 재생 수 ~ 최소 10건(심어 둔 반복 재생 별도) + 나머지를 lognormal(0, {ACTIVITY_SIGMA}) 비율로 나눔
- 하루 구간별 비율 ~ Dirichlet({DAYPART_CONCENTRATION} x 곡선 자체의 비율): 아침 [5,12),
  오후 [12,17), 저녁 [17,22), 밤 [22,5) (`common.profiles.time_of_day`).
  구간 안에서 시각은 하루 주기 곡선을 따르고, 날짜는 구간 전체에서 균등합니다
- 휴대폰 성향 ~ Beta{MOBILE_BETA}: 재생마다 이 확률로 휴대폰에서 재생합니다
  (여기서는 전체 재생의 {s['mobile_share']:.1%})
- 반복 청취 성향 ~ Beta{REPLAY_BETA}: 재생마다 이 확률로 즐겨 듣는 {FAVOURITES}곡 중 하나를,
  아니면 인기도에 따라 뽑은 곡을 재생합니다(이것이 distinct-track 비율을 정합니다)
- 장소: ~ Beta{HOME_BETA}의 확률로 집 zip(여기서는 재생의 {s['home_zip_share']:.1%}),
  아니면 같은 주의 두 번째 zip(2/3)이나 아무 곳의 zip(1/3)입니다.

전체 재생의 하루 구간: {', '.join(f'{parts[k]} {v:.1%}' for k, v in s['time_of_day_share'].items())}.
가장 바쁜 시각은 {s['peak_hour']:02d}:00, 가장 한가한 시각은 {s['trough_hour']:02d}:00입니다.

| 시각 | 곡선 | 재생 비율 |
| --- | --- | --- |
{hours}

## 반복 청취 구간 (관심 목록)
- 고객의 {BURST_SHARE:.0%}에게 반복 청취 구간이 1-2개 있습니다: 즐겨 듣는 곡 하나를 3-5번, 간격은
  1분 이상, 처음부터 마지막까지 최대 {BURST_MAX_SPAN // 60}분(여기서는 고객 {s['planted']['burst_customers']}명에게
  {s['planted']['bursts']}개).
- 고객의 {NEAR_MISS_SHARE:.0%}에게는 아슬아슬하게 빗나간 경우가 있습니다: 한 곡을 3번 재생했는데 처음과
  마지막이 30:01에서 40:00 떨어져 있고, 가운데 재생은 그 중간입니다(여기서는 고객 {s['planted']['near_miss_customers']}명).
- "고객 한 명이 한 곡을 3번 이상 재생했고 처음과 마지막이 30분 이내"라는 규칙
  (`tools.datagen.interest_pairs`)으로 세면 재생 기록에는 고객 {s['interest_customers']}명의 (고객, 곡) 쌍
  {s['interest_pairs']}개가 있습니다. 심어 둔 반복 청취 구간에, 많이 반복해 듣는 고객이 우연히 만든
  몇 개가 더해진 수입니다.

## 광고 클릭 (`clicks.csv`)과 3단계의 성능 한계(ceiling)
- 제안을 본 고객: 활성 여부와 관계없이 모든 Free·Silver 고객({o['offered_customers']:,}명).
  Gold 고객은 광고를 보지 않았고 파일에 없습니다.
- 그 고객마다 1-3행이 있고, 각 행은 그 고객의 재생 하나에 붙습니다(EventID = 그 재생의 event_id,
  Localtime = 그 재생의 datetime). 제안을 받아들인 고객은 `{OFFER_NAME}` 한 행과 다른 광고
  ({', '.join(OTHER_ADS)}) 0-2행을, 받아들이지 않은 고객은 다른 광고 1-3행을 가지므로
  제안을 본 고객은 모두 파일에 나옵니다.
- label = 그 고객에게 `AdClicked == {OFFER_NAME}`인 행이 있는지이며, 다음 확률로 뽑습니다:
  P = 1 / (1 + exp(-z)),
  z = {CLICK_INTERCEPT:g} {w['night']:+g} night {w['morning']:+g} morning {w['mobile']:+g} mobile
  {w['distinct_ratio']:+g} distinct_ratio {w['silver']:+g} [Silver] {w['female']:+g} [female] + age(band),
  age(band): {age_w}.
  night/morning/mobile/distinct_ratio는 그 고객의 모든 재생에서 계산한 비율입니다
  (`common.profiles.listening_profile`). 그래서 같은 방식으로 계산한 feature는 P를 정확히 드러내고,
  그 위의 logistic regression이 맞는 모델입니다.

| 수치 (제안을 본 고객) | 값 |
| --- | --- |
| `{OFFER_NAME}` 클릭 | {o['clicked']:,} ({o['click_rate']:.1%}) |
| 다수 클래스 baseline의 오류율 | {o['baseline_error']:.1%} |
| **Bayes error(성능 한계)**: min(P, 1-P)의 평균 | **{o['bayes_error']:.1%}** |
| 이 label에서 규칙 P > 0.5의 오류율 | {o['bayes_rule_error_on_these_labels']:.1%} |

어떤 모델도 기댓값으로 Bayes error보다 낮은 오류율을 낼 수 없습니다. 3단계 feature 위의 logistic
regression은 그보다 2%p 안팎 높은 곳에 떨어져야 하며, 이는 10% gate보다 훨씬 낮고 baseline의
절반보다도 낮습니다.
"""


def main(argv: list[str] | None = None) -> None:
    from common.config import get_settings

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    helps = {"seed": "random seed", "customers": "rows of cust.csv", "tracks": "rows of music.csv",
             "events": "plays in tracks.csv", "days": f"days in the window ending {END_DATE}"}
    for name, value in DEFAULTS.items():
        ap.add_argument(f"--{name}", type=int, default=value, help=f"{helps[name]} (default {value})")
    ap.add_argument("--out", type=Path, default=None, help="folder (default: settings.data_dir)")
    a = ap.parse_args(argv)
    out = a.out or get_settings().data_dir
    started = time.perf_counter()
    stats = write_dataset(out, **{k: getattr(a, k) for k in DEFAULTS})
    o = stats["offer"]
    print(f"wrote {stats['customers']:,} customers, {stats['tracks']:,} tracks, {stats['events']:,} plays, "
          f"{o['offered_customers']:,} offered customers to {out} in {time.perf_counter() - started:.1f} s")
    print(f"mobile {stats['mobile_share']:.1%}, peak hour {stats['peak_hour']}, "
          f"{stats['interest_pairs']} interest pairs, click rate {o['click_rate']:.1%}, "
          f"baseline error {o['baseline_error']:.1%}, Bayes error {o['bayes_error']:.1%}")


if __name__ == "__main__":
    main()
