"""What checking references against the records of their DOIs returns."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class MismatchedField:
    """One field on which a reference and the record of its DOI disagree (``check --json``'s ``problems``)."""

    field: str
    cited: str
    found: str


@dataclass(frozen=True)
class CheckItem:
    """One reference checked: against the record of its DOI, or of the DOI found for it."""

    doi: str
    # ok | mismatch | retracted | not-found | other-agency | unreachable | bad-answer | not-checked | invalid
    status: str
    line: int | None = None
    cited: str = ""  # the reference as written (a .bib entry's key, a library work's key)
    problems: tuple[MismatchedField, ...] = ()
    warnings: tuple[str, ...] = ()  # notes and reasons, as sentences
    agree: tuple[str, ...] = ()
    suggested_doi: str = ""
    suggestion_agrees: tuple[str, ...] = ()
    key: str = ""  # the library work it is, when known
    matched_by: str = ""  # doi | library (first author, year, title) | bibliographic (Crossref's search)
    record_fetched: str = ""  # when the record it was checked against was fetched

    @property
    def details(self) -> tuple[str, ...]:
        """Everything said about the reference, as sentences: the mismatches first."""
        return tuple(_mismatch_sentence(p) for p in self.problems) + self.warnings

    @property
    def checked(self) -> bool:
        """Compared with a record (or known to be registered elsewhere), not merely looked at."""
        return self.status in ("ok", "mismatch", "retracted", "other-agency")


def _mismatch_sentence(problem: MismatchedField) -> str:
    if problem.field == "title":
        return f"title differs from the record's '{problem.found}'"
    label = "first page or article number" if problem.field == "pages" else problem.field
    return f"{label} is {problem.found} in the record, {problem.cited} here"


PASSING = ("ok", "other-agency")


@dataclass(frozen=True)
class CheckReport:
    source: str
    references: tuple[CheckItem, ...] = ()
    summary: dict[str, int] = field(default_factory=dict)
    offline: bool = False
    oldest_record: str = ""  # the fetch date of the oldest stored record relied on
    newest_record: str = ""

    @classmethod
    def of(cls, source: str, items, offline: bool = False) -> CheckReport:
        items = tuple(items)
        summary: dict[str, int] = {}
        for item in items:
            summary[item.status] = summary.get(item.status, 0) + 1
        dates = sorted(item.record_fetched[:10] for item in items if item.record_fetched)
        return cls(source, items, summary, offline, dates[0] if dates else "", dates[-1] if dates else "")

    @property
    def ok(self) -> bool:
        return all(item.status in PASSING for item in self.references)

    def count(self, status: str) -> int:
        return self.summary.get(status, 0)
