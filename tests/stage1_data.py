"""Small deterministic listening logs for the stage-1 tests (independent of data/)."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from common.geo import zip_table

# one line of each kind the shipper must reject, and the reason it must give
BAD_LINES: list[tuple[bytes, str]] = [
    (b"900001,12,3,2024-03-01 10:00:00,1", "wrong_column_count"),
    (b"900002,12,3,2024-03-01 10:00:00,1,10001,extra", "wrong_column_count"),
    (b"900003,12,3,2024-13-45 10:00:00,1,10001", "bad_datetime"),
    (b"900004,twelve,3,2024-03-01 10:00:00,1,10001", "bad_customer_id"),
    (b"abc,12,3,2024-03-01 10:00:00,1,10001", "bad_event_id"),
    (b"", "empty_line"),
    (b"   ", "empty_line"),
    (b"900005,12,3,2024-03-01 10:00:00,1,1\xe9\xff01", "not_utf8"),
    (b"900006,12,3,2024-03-01 10:00:00,7,10001", "bad_ismobile"),
]


def track_lines(n: int, seed: int = 7, start: datetime = datetime(2024, 3, 1, 6, 0, 0),
                hours: int = 30, first_id: int = 1) -> list[bytes]:
    """``n`` well-formed plays over ``hours`` hours, real zips, ~60 % mobile, sorted by time."""
    rng = random.Random(seed)
    zips = sorted(zip_table())[::997][:40]          # 40 real zips from across the country
    times = sorted(start + timedelta(seconds=rng.randrange(hours * 3600)) for _ in range(n))
    return [
        b"%d,%d,%d,%s,%d,%s" % (first_id + i, rng.randint(1, 60), rng.randint(1, 50),
                                t.strftime("%Y-%m-%d %H:%M:%S").encode(), rng.random() < 0.6,
                                rng.choice(zips).encode())
        for i, t in enumerate(times)
    ]


def write_lines(path, lines: list[bytes]) -> None:
    with open(path, "ab") as f:
        f.write(b"".join(line + b"\n" for line in lines))
