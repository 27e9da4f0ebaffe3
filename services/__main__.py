"""The command line of the service manager: ``python -m services up`` (see services/__init__.py)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import services
from common.config import get_settings
from services import ENGINES, ServiceError, down, external, fetch, logs, reset, status, up
from services.fetch import spark_jars
from services.system import say


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m services", description=services.__doc__.split("\n\n")[0])
    p.add_argument("command", choices=["fetch", "up", "down", "status", "logs", "reset",
                                       "cluster-up", "cluster-down", "cluster-status"])
    p.add_argument("engines", nargs="*", help=f"some of: {', '.join(ENGINES)} (default: all); "
                                              "cluster-*: some of spark, kafka, elasticsearch")
    p.add_argument("--worker-dir", action="append", type=Path,
                   help="cluster-up: a worker's working directory, once per worker (default .runtime/spark-cluster/worker-N)")
    a = p.parse_args(argv)
    try:
        if a.command.startswith("cluster-"):
            # the Spark standalone cluster (services/spark_cluster.py), three Kafka brokers and
            # three Elasticsearch nodes (services/multinode.py)
            from services import multinode, spark_cluster
            chosen = [{"es": "elasticsearch"}.get(n, n) for n in a.engines] or ["spark", *multinode.ENGINES]
            unknown = set(chosen) - {"spark", *multinode.ENGINES}
            if unknown:
                raise ServiceError(f"unknown cluster {', '.join(sorted(unknown))}: choose from spark, kafka, elasticsearch")
            others = [n for n in multinode.ENGINES if n in chosen]
            if a.command == "cluster-up":
                if others:
                    fetch()
                    multinode.up(others)
                if "spark" in chosen:
                    spark_cluster.up(worker_dirs=a.worker_dir)
            elif a.command == "cluster-down":
                if "spark" in chosen:
                    spark_cluster.down()
                if others:
                    multinode.down(others)
            else:
                spark_cluster.status()
                multinode.status()
        elif a.command == "fetch":
            fetch()
        elif a.command == "up":
            if external(get_settings()):
                say("==> checking the external engines (ENGINES=external: nothing is started)")
                spark_jars(get_settings())    # stage 2's Spark job runs here and needs the Kafka connector
            else:
                say("==> starting the engines (data and logs under .runtime/)")
                fetch()
            up(a.engines)
        elif a.command == "down":
            down(a.engines)
        elif a.command == "status":
            status()
        elif a.command == "logs":
            logs()
        elif a.command == "reset":
            reset()
    except ServiceError as e:
        print(f"ERROR: {e}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
