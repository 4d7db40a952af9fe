"""What the claims of an article, and the works suggested for one, look like to the reader."""

from __future__ import annotations

from dataclasses import dataclass

from evidence.results.problems import Problem, no_problem


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
