"""The command line of the service manager: ``python -m services up`` (see services/__init__.py)."""
from __future__ import annotations

import argparse
import sys

import services
from common.config import get_settings
from services import ENGINES, ServiceError, down, external, fetch, logs, reset, status, up
from services.fetch import spark_jars
from services.system import say


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m services", description=services.__doc__.split("\n\n")[0])
    p.add_argument("command", choices=["fetch", "up", "down", "status", "logs", "reset"])
    p.add_argument("engines", nargs="*", help=f"some of: {', '.join(ENGINES)} (default: all)")
    a = p.parse_args(argv)
    try:
        if a.command == "fetch":
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
