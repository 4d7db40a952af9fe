"""Progress bars on stderr: shown in a terminal for long runs, silent in pipes, CI logs and --json runs."""

from __future__ import annotations

import sys

from evidence.cli.settings import note
from evidence.render import text as render


class Progress:
    """A progress bar on stderr for long runs in a terminal; silent in pipes, CI logs and --json runs."""

    def __init__(self, total: int, label: str, enabled: bool = True):
        self.total, self.label = total, label
        self.enabled = enabled and total > 3 and sys.stderr.isatty()
        self._bar = None

    def __enter__(self):
        if not self.enabled:
            return lambda done, total, item: None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._bar = Progress(
            TextColumn(self.label),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=render.console(stderr=True),
            transient=True,
        )
        self._bar.start()
        task = self._bar.add_task(self.label, total=self.total)
        return lambda done, total, item: self._bar.update(task, completed=done, total=total)

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()


class ProgressOnceKnown:
    """For work whose size is known only once it starts (embedding the works a library lacks vectors for): a note
    and a bar on the first report, nothing when there was nothing to do."""

    def __init__(self, label: str, enabled: bool = True, first_note: str = ""):
        self.label, self.enabled = label, enabled
        self.first_note = first_note
        self._bar: Progress | None = None
        self._update = None

    def __enter__(self):
        def report(done: int, total: int) -> None:
            if self._bar is None:
                if self.first_note:
                    note(self.first_note.format(total=total))
                self._bar = Progress(total, self.label, enabled=self.enabled)
                self._update = self._bar.__enter__()
            self._update(done, total, "")

        return report

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
