"""stderr output for humans: logs and progress, rich on a terminal, plain lines elsewhere.

stdout is reserved for a command's result (a path, or JSON with --json) so that stages compose in
shell pipelines; everything here goes to stderr.
"""

from __future__ import annotations

import os
import time

from rich.console import Console

stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def log(message: str) -> None:
    stderr.print(message, markup=False)


def debug_requested() -> bool:
    """EVOLM_DEBUG set (to anything but 0): tracebacks and diagnostics on stderr (`--debug` too)."""
    return os.environ.get("EVOLM_DEBUG", "") not in ("", "0")


def _human(value: float) -> str:
    from evolm.units import format_count

    return format_count(value, precision=1)


def format_duration(seconds: float) -> str:
    """45s, 2m05s, 3h07m: progress lines, ETAs and the study plan's estimates."""
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


class Progress:
    """A progress display for one long loop: rate, ETA and extra fields (loss, lr, ...).

    A rich bar on a terminal; on a pipe or file (CI, logs) a plain line at most every `interval`
    seconds and one at the end, so logs stay readable.
    """

    def __init__(self, description: str, total: float | None, unit: str = "items", interval: float = 5.0,
                 initial: float = 0):
        """`initial`: what was done before this process started (a resumed run's steps): counted as done,
        not in the rate and ETA (a run resumed at step 900 of 1,000 showed 878 steps/s and ETA 0s)."""
        self.description, self.total, self.unit, self.interval = description, total, unit, interval
        self.done = self.initial = initial
        self.fields: dict[str, str] = {}
        self._start = self._last = time.monotonic()
        self._rich = None
        self._task = None

    def __enter__(self) -> "Progress":
        if stderr.is_terminal:
            from rich.progress import BarColumn, Progress as RichProgress, TextColumn, TimeRemainingColumn

            self._rich = RichProgress(
                TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[status]}"),
                TimeRemainingColumn(), console=stderr, transient=False,
            )
            self._rich.__enter__()
            self._task = self._rich.add_task(self.description, total=self.total, completed=self.initial, status="")
        return self

    def update(self, advance: float = 0, **fields) -> None:
        self.done += advance
        self.fields.update({k: str(v) for k, v in fields.items()})
        if self._rich is not None:
            self._rich.update(self._task, completed=self.done, status=self.status())
        elif time.monotonic() - self._last >= self.interval:
            self._last = time.monotonic()
            log(self.line())

    def status(self) -> str:
        elapsed = max(time.monotonic() - self._start, 1e-9)
        parts = [f"{_human(self.done)}" + (f"/{_human(self.total)}" if self.total else "") + f" {self.unit}",
                 f"{_human((self.done - self.initial) / elapsed)} {self.unit}/s"]
        parts += [f"{key} {value}" for key, value in self.fields.items()]
        return "  ".join(parts)

    def line(self) -> str:
        elapsed = time.monotonic() - self._start
        eta = ""
        if self.total and self.done > self.initial:
            eta = f"  ETA {format_duration(elapsed * (self.total - self.done) / (self.done - self.initial))}"
        return f"{self.description}: {self.status()}{eta}  elapsed {format_duration(elapsed)}"

    def __exit__(self, *exc) -> None:
        if self._rich is not None:
            self._rich.__exit__(*exc)
        elif exc[0] is None and self.done > self.initial:
            log(self.line())

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._start
