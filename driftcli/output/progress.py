"""Reading progress on stderr, drawn when stderr is a terminal (the inputs report it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text

from driftcli.output.texts import shown

if TYPE_CHECKING:
    from rich.console import Console


class ProgressBar:
    """Reading progress on stderr (rows, size, rate), shown once a read takes a moment.

    Short reads show nothing: the bar appears only after half a second, and
    disappears when done. Used only when stderr is a terminal.
    """

    DELAY = 0.5

    def __init__(self, console: Console | None = None) -> None:
        """`console`: where to draw; stderr's by default."""
        import time

        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self._clock = time.monotonic
        self._started = self._clock()
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(bar_width=24),
            TaskProgressColumn(),
            TextColumn("{task.fields[rows]:>11,} rows  {task.fields[rate]}"),
            TimeElapsedColumn(),
            console=console or Console(stderr=True),
            transient=True,
        )
        self._tasks: dict[str, Any] = {}
        self._shown = False

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._shown:
            self._progress.stop()

    def update(self, name: str, rows: int, done: int, total: int | None) -> None:
        elapsed = self._clock() - self._started
        if not self._shown:
            if elapsed < self.DELAY:
                return
            self._progress.start()
            self._shown = True
        rate = f"{rows / elapsed:,.0f} rows/s" if elapsed > 0 else ""
        if name not in self._tasks:
            self._tasks[name] = self._progress.add_task(
                Text(shown(name)).plain, total=total, rows=0, rate=""
            )
        self._progress.update(self._tasks[name], completed=done, total=total, rows=rows, rate=rate)
