"""What the jobs share: callback types, a quiet default, reading the library with its problems told once, and
making a work with a fresh key."""

from __future__ import annotations

import re
from collections.abc import Callable

from evidence.keys import base_key, unique_key
from evidence.markup import strip_marks
from evidence.model import Work, parse_names
from evidence.sources.crossref_map import crossref_to_fields
from evidence.store import bibtex

Progress = Callable[[int, int, str], None]
Notify = Callable[[str], None]
_KEY_RE = re.compile(r"^[A-Za-z0-9_:.\-+/]+$")


def quiet(*_args) -> None:
    return None


def load(store, notify: Notify):
    """references.bib, with each problem in it told once (unreadable blocks are kept verbatim, never dropped)."""
    bib = store.load_bib()
    for problem in bib.problems:
        notify(problem)
    return bib


def new_work(store, entry_type: str, fields: dict[str, str], taken: set[str], wanted_key: str = "") -> Work:
    """A Work with a fresh key (the wanted one when it is valid and free), encoded for BibTeX."""
    if wanted_key and _KEY_RE.match(wanted_key) and wanted_key.lower() not in taken:
        key = wanted_key
    else:
        people = parse_names(fields.get("author", "") or fields.get("editor", ""))
        first = (people[0].literal or people[0].family) if people else ""
        title = strip_marks(fields.get("title", ""))
        key = unique_key(base_key(first, fields.get("year", ""), title), taken)
    taken.add(key.lower())
    return store.make_work(key, entry_type, bibtex.encode_fields(fields))


def work_from_crossref(store, message: dict, taken: set[str]) -> Work:
    entry_type, fields = crossref_to_fields(message)
    return new_work(store, entry_type, fields, taken)


class RecordsReadOnce:
    """The library store for one pass over an article: each stored record is read from disk once, however many of
    the pass's steps (resolving, checking, the claims' retraction status) ask for it. A record written during the
    pass replaces the one remembered. Everything else is the store's own."""

    def __init__(self, store):
        self._store = store
        self._records: dict[str, dict | None] = {}

    def read_record(self, doi: str) -> dict | None:
        if doi not in self._records:
            self._records[doi] = self._store.read_record(doi)
        return self._records[doi]

    def write_record(self, doi: str, message: dict, source: str, fetched=None) -> None:
        self._store.write_record(doi, message, source, fetched)
        self._records.pop(doi, None)

    def __getattr__(self, name: str):
        return getattr(self._store, name)


def withdrawal_of(store, work: Work) -> str:
    """What takes a library work out of the evidence: 'retracted', 'withdrawn' or 'removed' as Crossref's stored
    record says (``updated-by``; an expression of concern does not), else 'retracted' when PubMed, Europe PMC or
    OpenAlex recorded a retraction (the entry's ``retraction``); '' when it stands."""
    from evidence.sources.crossref_map import retraction_status

    record = store.read_record(work.doi) if work.doi else None
    status = retraction_status(record.get("message", {})) if record else None
    if status and status[0] != "under an expression of concern":
        return status[0]
    return "retracted" if work.get("retraction") else ""
