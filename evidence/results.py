"""What the jobs return: frozen dataclasses the command line renders and the Python API hands back as they are."""

from __future__ import annotations

from dataclasses import dataclass, field


def no_problem(problems) -> bool:
    """Whether none of ``problems`` is a problem (notes do not count): the ``ok`` of every result that lists them."""
    return not any(p.severity == "problem" for p in problems)


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
class Problem:
    """Something wrong in an article or a reference, with where it is; ``severity`` 'problem' makes the exit code 1."""

    message: str
    line: int | None = None
    key: str = ""
    severity: str = "problem"  # problem | note
    file: str = ""  # which file ``line`` is in, when it is not the article itself


@dataclass(frozen=True)
class PublishResult:
    style: str
    style_title: str
    format: str  # docx, html, md or pdf
    keys: tuple[str, ...]  # the works cited, in order of first citation
    replaced_list: bool  # a hand-typed list stood under the References heading (kept in a comment)
    problems: tuple[Problem, ...] = ()
    output: str = ""  # the file written

    @property
    def ok(self) -> bool:
        return no_problem(self.problems)


@dataclass(frozen=True)
class RefsResult:
    style: str
    style_title: str
    format: str
    keys: tuple[str, ...]  # the works listed, in the list's order
    entries: tuple[str, ...]  # one formatted entry per work (text, html or markdown fragment)
    output: str  # the whole list as it would be written
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return no_problem(self.problems)


@dataclass(frozen=True)
class SupportView:
    """One work's place in a claim, as ``claims`` shows it."""

    key: str
    stance: str
    passage: str = ""
    locator: str = ""
    note: str = ""
    design: str = "unknown"
    title: str = ""
    first_author: str = ""
    year: str = ""
    doi: str = ""
    retracted: str = ""  # '' or 'retracted' / 'withdrawn' / ...
    in_library: bool = True
    # Whether the work says the passage: 'exact' or 'close' (shown as a quote), 'not found' (in the field the
    # locator names: a paraphrase, with a warning), 'unverifiable' (a locator in the full text: a paraphrase).
    passage_found: str = ""

    @property
    def quoted(self) -> bool:
        return self.passage_found in ("exact", "close")


@dataclass(frozen=True)
class ClaimView:
    id: str
    text: str
    line: int | None  # in the article, when it makes the claim
    supports: tuple[SupportView, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClaimsReport:
    article: str
    claims: tuple[ClaimView, ...]
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return no_problem(self.problems)


@dataclass(frozen=True)
class Suggestion:
    """A work that may support a claim, with the sentences that say so (query terms marked ``**like this**``)."""

    key: str
    score: float
    first_author: str
    year: str
    title: str
    doi: str
    passage: str
    matched_terms: tuple[str, ...] = ()
    design: str = "unknown"
    passage_source: str = ""  # where the passage's sentences come from: abstract, note, title (comma-separated)
    passage_by: str = "words"  # how its first sentence was chosen: words, or meaning (closest to the claim)
    stance_hint: str = ""  # "contradicts" when the passage appears to say the opposite of the claim
    stance_cue: str = ""  # the words that made it appear so, for the reader to judge


@dataclass(frozen=True)
class Resolution:
    """What became of one DOI asked for: its record (stored or fetched now), or why there is none."""

    doi: str
    status: str  # found | not-found | other-agency | unreachable | bad-answer | not-checked
    message: dict | None = None
    detail: str = ""
    fetched: str = ""  # when the record was fetched (ISO 8601), for a found record
    previous: dict | None = None  # the stored record this run replaced, when a stale one was fetched again


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


@dataclass(frozen=True)
class Report:
    article: str
    claims: ClaimsReport
    checks: tuple[CheckItem, ...]
    references: RefsResult
    offline: bool = False
    oldest_record: str = ""
    html_entries: tuple[str, ...] = ()  # the list as HTML fragments, when the report was asked for a page

    @property
    def problems(self) -> tuple[Problem, ...]:
        found = list(self.claims.problems) + list(self.references.problems)
        for check in self.checks:
            if check.status in ("mismatch", "retracted", "not-found", "invalid"):
                what = check.key or check.doi or check.cited[:60]
                found.append(Problem(f"{what}: " + "; ".join(check.details or (check.status,)), check.line, check.key))
        return tuple(p for p in found if p.severity == "problem")

    @property
    def unchecked(self) -> tuple[CheckItem, ...]:
        return tuple(check for check in self.checks if not check.checked)

    @property
    def weak_claims(self) -> tuple[ClaimView, ...]:
        return tuple(
            claim for claim in self.claims.claims if any(w.startswith("rests only on") for w in claim.warnings)
        )

    @property
    def verdict(self) -> str:
        """'problems', 'not checked', 'weak evidence' or 'ready'; ready only when every reference was checked
        against a record and passed, and every claim is backed by more than narrative reviews."""
        if self.problems:
            return "problems"
        if self.unchecked or not self.checks:
            return "not checked"
        if self.weak_claims:
            return "weak evidence"
        return "ready"

    @property
    def verdict_line(self) -> str:
        """The verdict with what it rests on, in the words the terminal and the HTML banner both use."""
        verdict = self.verdict
        if verdict == "problems":
            count = len(self.problems)
            return f"problems ({count} {'problem' if count == 1 else 'problems'})"
        if verdict == "not checked":
            if not self.checks:
                return "not checked (the article cites no references)"
            reasons: dict[str, int] = {}
            for check in self.unchecked:
                reasons[_unchecked_reason(check)] = reasons.get(_unchecked_reason(check), 0) + 1
            why = "; ".join(f"{n} of {len(self.checks)} references {reason}" for reason, n in reasons.items())
            return f"not checked ({why})"
        if verdict == "weak evidence":
            count = len(self.weak_claims)
            return f"weak evidence ({count} {'claim rests' if count == 1 else 'claims rest'} only on weak designs)"
        return f"ready (all {len(self.checks)} references checked, every claim backed)"

    @property
    def ok(self) -> bool:
        return not self.problems


def _unchecked_reason(check: CheckItem) -> str:
    if check.status == "not-checked" and not check.doi:
        return "have no DOI and match no work"
    if check.status == "not-checked":
        return "have no stored record"
    return f"could not be checked ({check.status})"
