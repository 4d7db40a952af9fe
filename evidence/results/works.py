"""What adding, importing, enriching, showing and searching works return."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class AddOutcome:
    """What happened to one DOI asked for by ``add``."""

    doi: str
    status: str  # added | present | not-found | invalid | other-agency | unreachable | bad-answer
    key: str = ""
    title: str = ""
    message: str = ""


@dataclass(frozen=True)
class WorkView:
    """One work as ``show`` gives it: every field, and the PMID, abstract and design with where each came from."""

    key: str
    type: str
    fields: dict
    raw: dict
    pmid: str = ""
    abstract: str = ""
    design: str = "unknown"
    design_source: str = "wording"
    sources: dict = field(default_factory=dict)


@dataclass(frozen=True)
class EnrichOutcome:
    """What PubMed, Europe PMC and OpenAlex added to one work: the fields filled, each with the service it came
    from ('pubmed:23121403'), and why nothing was (a service down, no record anywhere)."""

    key: str
    ident: str
    filled: tuple[tuple[str, str], ...] = ()  # (field, "service:id")
    note: str = ""


@dataclass(frozen=True)
class AddReport:
    outcomes: tuple[AddOutcome, ...]
    requests: int = 0
    rate_limited: int = 0
    enriched: tuple[EnrichOutcome, ...] = ()
    enrich_requests: int = 0

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def ok(self) -> bool:
        return all(o.status in ("added", "present") for o in self.outcomes)


@dataclass(frozen=True)
class EnrichReport:
    outcomes: tuple[EnrichOutcome, ...]
    requests: int = 0
    problems: tuple[str, ...] = ()  # one sentence per service that could not be asked

    @property
    def filled(self) -> int:
        return sum(1 for outcome in self.outcomes if outcome.filled)


@dataclass(frozen=True)
class ImportReport:
    added: tuple[str, ...]
    present: tuple[str, ...]
    skipped: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class SearchHit:
    key: str
    score: float
    first_author: str
    year: str
    title: str
    doi: str
    snippet: str
    matched_terms: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Resolution:
    """What became of one DOI asked for: its record (stored or fetched now), or why there is none."""

    doi: str
    status: str  # found | not-found | other-agency | unreachable | bad-answer | not-checked
    message: dict | None = None
    detail: str = ""
    fetched: str = ""  # when the record was fetched (ISO 8601), for a found record
    previous: dict | None = None  # the stored record this run replaced, when a stale one was fetched again
