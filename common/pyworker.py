"""Once per Spark Python worker: load what every task needs, then hide it from the garbage collector.

Spark's Python worker runs a full ``gc.collect()`` after EVERY task (the loop in
``pyspark/daemon.py``). A full collection walks every object the process holds:
once pandas, pyarrow, the Elasticsearch and Redis clients and the zip table are
loaded, that is ~125,000 objects and ~90 ms of CPU on a 2-core laptop, after each
task, although none of them is ever garbage. At 1,000 plays/s the job runs several
tasks a second, and py-spy showed two thirds of the workers' time in that call.

``gc.freeze()`` (Python 3.7+) moves every object alive now into a generation the
collector no longer walks; they are still freed normally when nothing refers to
them. So each entry point that Spark calls on a worker (the enrichment's
``mapInArrow``, the stateful queries' ``mapInPandas`` and state functions, their
writers) calls ``settle()`` first: the first call in a process loads the modules
and the zip table, collects once and freezes; later calls return at once. What a
task allocates afterwards is collected as before.
"""
from __future__ import annotations

import gc
import os

_settled_in: int | None = None          # the pid that settled (a forked child settles again)


def settle() -> None:
    """Load the worker's long-lived modules and tables, then freeze them (once per process)."""
    global _settled_in
    if _settled_in == os.getpid():
        return
    _settled_in = os.getpid()
    import elasticsearch.helpers  # noqa: F401  (imported for what it loads)
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow  # noqa: F401
    import redis  # noqa: F401

    import common.events  # noqa: F401
    import common.sinks  # noqa: F401
    from common.geo import zip_table

    zip_table()
    gc.collect()            # what is garbage now goes first: frozen garbage would never be freed
    gc.freeze()
