"""A progress line for long-running scripts: a rich bar in a terminal, a plain
status line every few seconds when the output is a pipe or a log (the stage
runner, CI), so logs stay readable.

    with ProgressLine("shipping", total=2000) as progress:
        progress.advance(100, rejected=3)
"""
from __future__ import annotations

import time

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn,
                           TextColumn, TimeElapsedColumn)


class ProgressLine:
    def __init__(self, description: str, total: int | None = None, every: float = 5.0,
                 console: Console | None = None):
        self.console = console or Console()
        self.description, self.total, self.every = description, total, every
        self.count, self.fields = 0, {}
        self.started = self._last_print = time.monotonic()
        self._bar: Progress | None = None

    @property
    def rate(self) -> float:
        return self.count / max(time.monotonic() - self.started, 1e-9)

    def _extra(self) -> str:
        return "  ".join(f"{k}={v}" for k, v in self.fields.items())

    def __enter__(self):
        if self.console.is_terminal:
            self._bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TaskProgressColumn(),
                                 TextColumn("{task.fields[rate]:>8.0f}/s {task.fields[extra]}"),
                                 TimeElapsedColumn(), console=self.console)
            self._bar.start()
            self._task = self._bar.add_task(self.description, total=self.total, rate=0.0, extra="")
        return self

    def advance(self, n: int = 1, **fields) -> None:
        self.count += n
        self.fields.update(fields)
        if self._bar is not None:
            self._bar.update(self._task, advance=n, rate=self.rate, extra=self._extra())
        elif time.monotonic() - self._last_print >= self.every:
            self._print()

    def _print(self) -> None:
        self._last_print = time.monotonic()
        of = f"/{self.total}" if self.total else ""
        print(f"{self.description}: {self.count}{of} ({self.rate:.0f}/s) {self._extra()}", flush=True)

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.stop()
        else:
            self._print()
