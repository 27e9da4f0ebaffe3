"""stage2.import_customers against the real Redis (isolated key prefix)."""
from __future__ import annotations

import pytest

from common.config import Settings
from common.customers import age_band, age_of
from stage2 import import_customers as importer

pytestmark = pytest.mark.integration


HEADER = "CustID,Name,Gender,Address,zip,SignDate,Status,Level,Campaign,LinkedWithApps\n"
ROWS = (
    "10001,Ann Lee,0,1 Main St,02134,01/15/2014,1,1,2,1\n"
    "10002,Bob Ray,1,2 Oak Ave,601,02/20/2015,0,0,1,0\n"        # zip lost its leading zeros
    "abc,Broken Id,1,3 Elm St,10001,03/01/2016,1,2,1,1\n"       # bad: CustID not a number
    "10003,Cid Moe,1,4 Pine Rd,10001,03/01/2016,1,7,1,1\n"      # bad: Level 7
    "10004,Dee Fox,0,5 Ash Ln,94103,04/04/2016,1,2\n"           # original demo: trailing fields missing
)


@pytest.fixture
def isolated(engines, unique):
    from common.clients import redis_client

    s = Settings(redis_customer_prefix=f"t_{unique}:customer:")
    r = redis_client(s)
    yield s, r
    keys = list(r.scan_iter(f"t_{unique}:*"))
    if keys:
        r.delete(*keys)


@pytest.mark.parametrize("header", [HEADER, ""], ids=["with-header", "original-no-header"])
def test_import_writes_hashes_and_reports_bad_rows(isolated, tmp_path, header):
    s, r = isolated
    path = tmp_path / "cust.csv"
    path.write_text(header + ROWS)

    summary = importer.import_customers(path, r, s, batch=2)

    assert summary.imported == 3
    assert [reason.split(" ")[0] for _, reason in summary.rejected] == ["CustID", "Level"]
    assert [line for line, _ in summary.rejected] == ([4, 5] if header else [3, 4])
    ann = r.hgetall(f"{s.redis_customer_prefix}10001")
    assert ann == {"name": "Ann Lee", "gender": "female", "age": str(age_of(10001)),
                   "age_band": age_band(age_of(10001)), "level": "Silver", "level_code": "1",
                   "campaign": "2", "zip": "02134", "linked_with_apps": "1", "status": "1"}
    assert r.hget(f"{s.redis_customer_prefix}10002", "zip") == "00601"
    assert r.hget(f"{s.redis_customer_prefix}10004", "level") == "Gold"
    assert not r.exists(f"{s.redis_customer_prefix}10003")


def test_import_is_idempotent(isolated, tmp_path):
    s, r = isolated
    path = tmp_path / "cust.csv"
    path.write_text(HEADER + ROWS)
    importer.import_customers(path, r, s)
    importer.import_customers(path, r, s)
    assert len(list(r.scan_iter(f"{s.redis_customer_prefix}*"))) == 3


def test_a_file_whose_ids_start_at_zero_imports_every_row(isolated, tmp_path):
    """The original MapR demo's cust.csv starts at CustID 0."""
    s, r = isolated
    path = tmp_path / "cust.csv"
    path.write_text(HEADER + "".join(f"{i},Name {i},{i % 2},{i} Main St,10001,01/15/2014,1,{i % 3},0,1\n"
                                     for i in range(5)))
    summary = importer.import_customers(path, r, s)
    assert (summary.imported, summary.rejected) == (5, [])
    assert r.hget(f"{s.redis_customer_prefix}0", "name") == "Name 0"


def test_a_repeated_id_keeps_the_first_row_as_every_reader_does(isolated, tmp_path):
    s, r = isolated
    path = tmp_path / "cust.csv"
    path.write_text(HEADER + ROWS.splitlines(keepends=True)[0] + "10001,Second Ann,1,9 Main St,02134,01/15/2014,1,0,0,0\n")
    summary = importer.import_customers(path, r, s)
    assert summary.imported == 1 and "repeated" in summary.rejected[0][1]
    assert r.hget(f"{s.redis_customer_prefix}10001", "name") == "Ann Lee"
