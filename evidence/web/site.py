"""What every page shares: how to open the library, the token its forms carry, and the jobs running for it."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable
from pathlib import Path

from evidence.web.jobs import JobBoard

KEPT_REPORTS = 64  # reports kept between requests, oldest forgotten first


class Site:
    """One served library. Each request opens its own ``Library`` (through ``opener``), so a page never shares an
    index searcher with another page's thread, and what the store's lock protects in the CLI it protects here."""

    def __init__(self, library_path: Path, opener: Callable[..., object], offline: bool = False):
        self.library_path = Path(library_path)
        self._opener = opener
        self.offline = offline
        self.token = secrets.token_urlsafe(32)  # per server run: a page from another run cannot post here
        self.jobs = JobBoard()
        self._reports: dict[tuple, tuple] = {}
        self._lock = threading.Lock()

    def open(self, notes: list[str] | None = None, offline: bool | None = None):
        """A Library whose remarks (what the CLI prints on stderr) are collected into ``notes`` for the page."""
        sink = notes.append if notes is not None else (lambda _message: None)
        return self._opener(notify=sink, offline=self.offline if offline is None else offline)

    def report(self, name: str, text: str, style: str | None = None, offline: bool | None = None) -> tuple:
        """An article's report (with its list as HTML) and the remarks made while making it. A report made offline
        rests only on what the library holds, so it is kept while neither the article nor anything it rests on
        (``Store.state_stamp``) has changed: it reads the whole library, and the home page would otherwise pay for
        one per article on every visit. One made online is made afresh each time (a server that did not answer
        must not be remembered)."""
        notes: list[str] = []
        library = self.open(notes, offline)
        if not library.offline:
            return library.report(text, name, style=style, html=True), notes
        stamp = (hashlib.sha256(text.encode("utf-8")).hexdigest(), library.store.state_stamp())
        with self._lock:
            known = self._reports.get((name, style))
        if known is not None and known[0] == stamp:
            return known[1], list(known[2])
        report = library.report(text, name, style=style, html=True)
        with self._lock:
            self._reports[(name, style)] = (stamp, report, tuple(notes))
            while len(self._reports) > KEPT_REPORTS:
                self._reports.pop(next(iter(self._reports)))
        return report, notes

    def check_token(self, sent: str | None) -> bool:
        return bool(sent) and hmac.compare_digest(sent.encode("utf-8", "replace"), self.token.encode())
