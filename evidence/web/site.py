"""What every page shares: how to open the library, the token its forms carry, and the jobs running for it."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable
from pathlib import Path

from evidence.web.jobs import JobBoard

KEPT_ANSWERS = 64  # answers kept between requests (``Site.kept``), the oldest forgotten first


class Site:
    """One served library. Each request opens its own ``Library`` (through ``opener``), so a page never shares an
    index searcher with another page's thread, and what the store's lock protects in the CLI it protects here."""

    def __init__(self, library_path: Path, opener: Callable[..., object], offline: bool = False):
        self.library_path = Path(library_path)
        self._opener = opener
        self.offline = offline
        self.token = secrets.token_urlsafe(32)  # per server run: a page from another run cannot post here
        self.jobs = JobBoard()
        self._kept: dict[tuple, tuple] = {}
        self._lock = threading.Lock()

    def open(self, notes: list[str] | None = None, offline: bool | None = None):
        """A Library whose remarks (what the CLI prints on stderr) are collected into ``notes`` for the page."""
        sink = notes.append if notes is not None else (lambda _message: None)
        return self._opener(notify=sink, offline=self.offline if offline is None else offline)

    def report(self, name: str, text: str, style: str | None = None, offline: bool | None = None) -> tuple:
        """An article's report (with its list as HTML) and the remarks made while making it. A report made offline
        rests only on what the library holds, so it is kept (``kept``): it reads the whole library, and the home
        page would otherwise pay for one per article on every visit. One made online is made afresh each time (a
        server that did not answer must not be remembered)."""
        notes: list[str] = []
        library = self.open(notes, offline)
        if not library.offline:
            return library.report(text, name, style=style, html=True), notes
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()

        def make():
            return library.report(text, name, style=style, html=True), tuple(notes)

        report, said = self.kept(library, ("report", name, style, digest), make)
        return report, list(said)

    def suggestions(self, claim_text: str, limit: int):
        """The job finding the works that may support a claim: the first time, the library's works are embedded
        for meaning-based ranking, which takes minutes in a large library, so it runs apart from the page, which
        shows its progress. One job per claim text and state of the library."""
        stamp = self.open().store.state_stamp()

        def find(job):
            library = self.open(job.notes)
            return library.suggest(claim_text, limit=limit, progress=lambda done, total: job.progress(done, total))

        return self.jobs.start_once(("suggest", claim_text, limit, stamp), "Finding works for the claim", find)

    def kept(self, library, what: tuple, make: Callable[[], object]):
        """``make()``'s answer for ``what``, made again only when the library changed (``Store.state_stamp``) since
        it was last made: for answers that read the whole library and depend on nothing else."""
        stamp = library.store.state_stamp()  # taken first: a change while making the answer makes it again next time
        with self._lock:
            known = self._kept.get(what)
        if known is not None and known[0] == stamp:
            return known[1]
        answer = make()
        with self._lock:
            self._kept[what] = (stamp, answer)
            while len(self._kept) > KEPT_ANSWERS:
                self._kept.pop(next(iter(self._kept)))
        return answer

    def check_token(self, sent: str | None) -> bool:
        return bool(sent) and hmac.compare_digest(sent.encode("utf-8", "replace"), self.token.encode())
