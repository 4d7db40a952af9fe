"""What every page shares: how to open the library, the token its forms carry, and the jobs running for it."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from pathlib import Path

from evidence.web.jobs import JobBoard


class Site:
    """One served library. Each request opens its own ``Library`` (through ``opener``), so a page never shares an
    index searcher with another page's thread, and what the store's lock protects in the CLI it protects here."""

    def __init__(self, library_path: Path, opener: Callable[..., object], offline: bool = False):
        self.library_path = Path(library_path)
        self._opener = opener
        self.offline = offline
        self.token = secrets.token_urlsafe(32)  # per server run: a page from another run cannot post here
        self.jobs = JobBoard()

    def open(self, notes: list[str] | None = None, offline: bool | None = None):
        """A Library whose remarks (what the CLI prints on stderr) are collected into ``notes`` for the page."""
        sink = notes.append if notes is not None else (lambda _message: None)
        return self._opener(notify=sink, offline=self.offline if offline is None else offline)

    def check_token(self, sent: str | None) -> bool:
        return bool(sent) and hmac.compare_digest(sent.encode("utf-8", "replace"), self.token.encode())
