"""What the jobs need of the adapters they are handed: typed interfaces instead of probing objects for attributes.

``api.Library`` builds the real ones (``store.folder.Store``, ``sources.crossref.CrossrefClient``,
``index.search_index.SearchIndex``); tests may hand in others that keep the same promises.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Protocol


class Counters(Protocol):
    requests: int
    rate_limited: int


class Slots(Protocol):
    limit: int


class RecordSource(Protocol):
    """Crossref, or anything that answers like it: records by DOI, alone or in batches, and the DOI's agency."""

    base_url: str
    counters: Counters
    slots: Slots

    def work(self, doi: str) -> dict | None: ...

    def works(self, dois: list[str]) -> dict[str, dict]: ...

    def batch_size_for(self, dois: list[str]) -> int: ...

    def agency(self, doi: str) -> str | None: ...

    def search_bibliographic(self, text: str, rows: int = 5) -> list[dict]: ...


class LibraryStore(Protocol):
    """The library folder: references.bib, the records, the lock, the derived files."""

    root: Path

    @property
    def index_dir(self) -> Path: ...

    def locked(self, on_wait=None, timeout: float = 600.0) -> AbstractContextManager: ...

    def load_bib(self): ...

    def save_bib(self, bib, notify=None) -> bool: ...

    def read_record(self, doi: str) -> dict | None: ...

    def write_record(self, doi: str, message: dict, source: str, fetched: datetime | None = None) -> None: ...

    def read_answer(self, service: str, ident: str) -> dict | None: ...

    def write_answer(self, service: str, ident: str, raw: str | None, fetched: datetime | None = None) -> None: ...

    def make_work(self, key: str, entry_type: str, raw_fields: dict[str, str], strings=None): ...

    def read_claims_text(self) -> str: ...

    def read_config_text(self) -> str: ...

    def article_texts(self) -> dict[str, str]: ...

    def bib_signature(self, handle=None) -> list[int] | None: ...

    def catch_up(self): ...

    def remember_caught_up(self, caught) -> None: ...

    def remember_entries(self, bib, signature: list[int] | None) -> None: ...

    def has_entry_map(self) -> bool: ...

    def works_by_key(self, keys: list[str]): ...

    def link_supports(
        self, claim_id: str, keys: list[str], stance: str, passages, claim_text: str = ""
    ) -> list[str]: ...


class WorkIndex(Protocol):
    """The search index: brought in line with the works, then asked."""

    def sync(self, works: Iterable) -> int: ...

    def sync_changed(self, changed: list, removed: list[str] = ()) -> bool: ...

    def search(self, text: str, limit: int = 10, default_and: bool = False): ...

    def candidates(self, text: str, limit: int = 100): ...

    def analyse(self, text: str) -> list[str]: ...

    def stem(self, word: str) -> str: ...
