"""common.pyworker.settle: what a Spark Python worker loads once, then hides from
the full gc.collect() Spark's worker loop runs after every task. Run in a fresh
interpreter, so the test process's own garbage collector is left alone."""
from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import gc, json, sys
from common.pyworker import settle
import common.geo
settle()
frozen = gc.get_freeze_count()
settle()                                     # a second call changes nothing
again = gc.get_freeze_count()

class Node:
    pass
a, b = Node(), Node()
a.other, b.other = b, a                      # a task's cycle, made after settle()
del a, b
print(json.dumps({"frozen": frozen, "again": again, "pandas": "pandas" in sys.modules,
                  "zips": common.geo.zip_table.cache_info().currsize, "collected": gc.collect()}))
"""


def test_settle_freezes_the_loaded_modules_once_and_later_garbage_is_still_collected():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["pandas"] and got["zips"] == 1            # loaded before the freeze
    assert got["frozen"] > 10_000                        # the modules' objects: no longer walked
    assert got["again"] == got["frozen"]                 # once per process
    assert got["collected"] >= 2                         # a cycle made afterwards is still freed
