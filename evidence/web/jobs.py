"""Long jobs (fetching works to add) run in a thread of their own while every other page keeps answering; their
page reads their progress from here and shows the result when they end."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from evidence.errors import EvidenceError

KEEP = 50  # finished jobs remembered, newest first; older ones are forgotten


@dataclass
class Job:
    id: int
    what: str
    kind: str = ""  # what its page shows of its result: 'add' or 'enrich' ('' for a job no page shows)
    total: int = 0
    done: int = 0
    current: str = ""
    result: object = None
    error: str = ""
    notes: list[str] = field(default_factory=list)
    finished: bool = False
    ended: threading.Event = field(default_factory=threading.Event, repr=False)

    def progress(self, done: int, total: int, current: str = "") -> None:
        self.done, self.total, self.current = done, total, current

    def wait(self, seconds: float) -> bool:
        """Whether the job ended within ``seconds`` (a page waits that long before it shows progress instead)."""
        return self.ended.wait(seconds)


class JobBoard:
    def __init__(self):
        self._jobs: dict[int, Job] = {}
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        self._by_purpose: dict[tuple, Job] = {}

    def start_once(self, purpose: tuple, what: str, work: Callable[[Job], object], kind: str = "") -> Job:
        """The job already started for ``purpose`` (running, or ended well), else a new one: a page reloaded while
        its job runs follows that job instead of starting another."""
        with self._lock:
            known = self._by_purpose.get(purpose)
            if known is not None and not known.error and known.id in self._jobs:
                return known
        job = self.start(what, work, kind)
        with self._lock:
            self._by_purpose = {p: j for p, j in self._by_purpose.items() if j.id in self._jobs}
            self._by_purpose[purpose] = job
        return job

    def start(self, what: str, work: Callable[[Job], object], kind: str = "") -> Job:
        """Run ``work(job)`` in a thread; its return value becomes the job's result, an EvidenceError its sentence."""
        with self._lock:
            job = Job(next(self._numbers), what, kind)
            self._jobs[job.id] = job
            for old in sorted(self._jobs)[:-KEEP]:
                if self._jobs[old].finished:
                    del self._jobs[old]

        def run() -> None:
            try:
                job.result = work(job)
            except EvidenceError as error:
                job.error = str(error)
            except Exception as error:  # noqa: BLE001 - shown as a sentence on the job's page, never lost
                job.error = f"Something went wrong: {type(error).__name__}: {error}"
            finally:
                job.finished = True
                job.ended.set()

        threading.Thread(target=run, name=f"evidence-job-{job.id}", daemon=True).start()
        return job

    def get(self, number: int) -> Job | None:
        return self._jobs.get(number)
