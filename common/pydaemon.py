"""Spark's Python daemon, with the workers' libraries loaded BEFORE it forks them.

Spark starts one Python daemon per executor (``python -m pyspark.daemon``) and
forks every Python worker from it. By default the daemon has loaded little, so
each worker imports pandas, pyarrow, numpy, the clients and the zip table itself,
after the fork: about 100 MiB of its own per worker, and the streaming job keeps
five or six workers alive. get_spark (local mode) points Spark at this module
instead (``spark.python.daemon.module``): it loads all of that once
(common.pyworker.settle, which also freezes it for the garbage collector), then
runs Spark's own daemon loop. A forked worker starts with those pages shared
with the daemon and its siblings (copy-on-write), and needs no imports before its
first task.

Nothing may be printed to stdout here: the daemon's first output is the port it
tells the JVM.
"""
from __future__ import annotations

if __name__ == "__main__":
    from common.pyworker import settle

    settle()
    from pyspark.daemon import manager

    manager()
