"""Study design: what kind of evidence a work is, and who said so.

Where the record carries PubMed's publication types (indexers at the NLM read the article to assign them), they
decide; otherwise the design is read from the work's own wording, and the answer says which of the two it came from,
so a reader can weigh a guess differently from an indexer's label.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

DESIGNS = (
    "systematic review or meta-analysis",
    "randomised trial",
    "other clinical study",
    "narrative review",
    "position paper or guideline",
    "experimental or animal work",
    "editorial or comment",
    "unknown",
)
WEAK_DESIGNS = frozenset(
    {"narrative review", "position paper or guideline", "experimental or animal work", "editorial or comment"}
)

# PubMed publication types (https://www.nlm.nih.gov/mesh/pubtypes.html) by the design they name, strongest first:
# a work typed both 'Review' and 'Systematic Review' is a systematic review. Types that say nothing of the design
# ('Journal Article', 'Research Support, ...', 'English Abstract') are not listed, so they leave the choice to the
# wording.
_TYPE_DESIGNS = (
    ("systematic review or meta-analysis", {"meta-analysis", "systematic review", "network meta-analysis"}),
    (
        "randomised trial",
        {"randomized controlled trial", "randomized controlled trial, veterinary", "equivalence trial"},
    ),
    (
        "position paper or guideline",
        {
            "practice guideline",
            "guideline",
            "consensus development conference",
            "consensus development conference, nih",
        },
    ),
    (
        "other clinical study",
        {
            "clinical trial",
            "clinical trial, phase i",
            "clinical trial, phase ii",
            "clinical trial, phase iii",
            "clinical trial, phase iv",
            "controlled clinical trial",
            "pragmatic clinical trial",
            "adaptive clinical trial",
            "clinical study",
            "observational study",
            "observational study, veterinary",
            "case reports",
            "comparative study",
            "multicenter study",
            "twin study",
            "validation study",
            "evaluation study",
        },
    ),
    ("narrative review", {"review", "scoping review", "systematic review protocol"}),
    ("editorial or comment", {"editorial", "comment", "letter", "news", "newspaper article", "personal narrative"}),
)
PUBLICATION_TYPES_FIELD = "publication-types"


@dataclass(frozen=True)
class Design:
    """A work's study design and where it was read: 'publication types' (the record's own) or 'wording' (the
    tool's reading of the title, note, keywords and abstract)."""

    name: str
    source: str


def split_types(value: str) -> list[str]:
    """The publication types of a ``publication-types`` field ('Meta-Analysis; Systematic Review')."""
    return [part.strip() for part in value.split(";") if part.strip()]


def design_from_types(types: list[str]) -> str | None:
    """The design PubMed's publication types name, or None when they name none."""
    lowered = {kind.lower() for kind in types}
    for design, names in _TYPE_DESIGNS:
        if lowered & names:
            return design
    return None


def design_of(work) -> Design:
    """The design of a library work: its publication types where they decide, else its wording."""
    typed = design_from_types(split_types(work.get(PUBLICATION_TYPES_FIELD)))
    if typed is not None:
        return Design(typed, "publication types")
    name = classify_design(
        work.title, work.get("abstract"), work.get("annotation"), work.get("keywords"), work.entry_type
    )
    return Design(name, "wording")


_NEGATED = re.compile(
    r"\b(?:not|neither|nor|rather than|instead of)\s+(?:an?\s+|the\s+)?[\w\s,-]{0,40}?"
    r"(?:review|meta-analys[ie]s|trials?|guidelines?)\b",
    re.I,
)
_RULES = (
    (
        "position paper or guideline",
        r"\b(?:white paper|position (?:paper|statement)|guidelines?|consensus"
        r" statement|practice recommendation|expert opinion)\b",
    ),
    (
        "systematic review or meta-analysis",
        r"\b(?:systematic(?:al)? review|meta-analys[ie]s|meta analys[ie]s|"
        r"umbrella review|pooled analysis)\b",
    ),
    (
        "randomised trial",
        r"\b(?:randomi[sz]ed (?:controlled |clinical |sham-controlled |placebo-controlled )?"
        r"(?:trial|study)|\brct\b)",
    ),
    (
        "narrative review",
        r"\b(?:narrative review|literature review|review of|a review|this review|overview of"
        r"|review article|we review|scoping review|mini-review)\b",
    ),
    (
        "experimental or animal work",
        r"\b(?:mice|mouse|rats?|rodents?|in vitro|animal model|cell cultures?|"
        r"beagles|dogs|laboratory study|knockout)\b",
    ),
    (
        "other clinical study",
        r"\b(?:cohort|case series|case report|cross-sectional|observational|"
        r"patients|participants|pilot study|clinical study|retrospective|prospective)\b",
    ),
)


_COMPILED = tuple((design, re.compile(pattern, re.I)) for design, pattern in _RULES)


@functools.lru_cache(maxsize=10_000)  # a work's design is asked for again whenever it is suggested or cited
def classify_design(
    title: str, abstract: str = "", annotation: str = "", keywords: str = "", entry_type: str = ""
) -> str:
    """The study design a reader would name from the work's own description; 'unknown' rather than a guess.

    The title and the practitioner's annotation and keywords speak first (they name the design most plainly), then
    the abstract. Negated mentions ('not a systematic review') do not count.
    """
    for text in (" ".join((title, annotation, keywords)), abstract):
        cleaned = _NEGATED.sub(" ", text or "")
        for design, pattern in _COMPILED:
            if pattern.search(cleaned):
                return design
    return "unknown"
