"""The claim ledger (``claims.toml``) and study designs: pure parsing and classification, no disk.

Ledger layout, one table per claim id (the ``#id`` of the article's ``[...]{.claim #id}`` span)::

    [claims.nerve-repair]
    text = "Acupuncture supports the repair and regrowth of damaged nerves."

    [[claims.nerve-repair.support]]
    key = "yang2023application"      # citation key in references.bib
    stance = "supports"              # supports | contradicts | background (CiTO)
    passage = "..."                  # what the work says that bears on the claim
    locator = "abstract"             # where it says it
    note = "..."                     # optional caveat
    design = "narrative review"      # optional: overrides the design read from the record
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass

from evidence.claims.design import DESIGNS
from evidence.errors import BadInputError
from evidence.model import STANCES


@dataclass(frozen=True)
class Support:
    key: str
    stance: str = "supports"
    passage: str = ""
    locator: str = ""
    note: str = ""
    design: str = ""


@dataclass(frozen=True)
class Claim:
    id: str
    text: str
    supports: tuple[Support, ...] = ()
    line: int | None = None  # where its table starts in claims.toml


def _line_of_table(text: str, claim_id: str) -> int | None:
    pattern = re.compile(rf'^\s*\[\s*claims\s*\.\s*(?:"{re.escape(claim_id)}"|{re.escape(claim_id)})\s*\]', re.M)
    match = pattern.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else None


def parse_ledger(text: str, source: str = "claims.toml") -> dict[str, Claim]:
    """Claims by id. A ledger that is not valid TOML, or has a support without a key or with an unknown stance, is
    refused with the line to look at."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise BadInputError(f"{source} is not valid TOML: {error}.") from None
    table = data.get("claims", {})
    if not isinstance(table, dict):
        raise BadInputError(f"{source}: 'claims' must be a table of claims, one per id.")
    claims = {}
    for claim_id, body in table.items():
        line = _line_of_table(text, claim_id)
        where = f"{source} line {line}" if line else source
        if not isinstance(body, dict):
            raise BadInputError(f"{where}: claim '{claim_id}' must be a table with 'text' and 'support'.")
        supports = []
        raw_supports = body.get("support", [])
        if isinstance(raw_supports, dict):
            raw_supports = [raw_supports]
        for raw in raw_supports:
            if not isinstance(raw, dict) or not str(raw.get("key", "")).strip():
                raise BadInputError(f"{where}: a support of claim '{claim_id}' has no citation key.")
            stance = str(raw.get("stance", "supports")).strip().lower()
            if stance not in STANCES:
                raise BadInputError(
                    f"{where}: claim '{claim_id}' gives the stance '{stance}'; use one of {', '.join(STANCES)}."
                )
            design = str(raw.get("design", "")).strip().lower()
            if design and design not in DESIGNS:
                raise BadInputError(f"{where}: unknown design '{design}'; use one of {', '.join(DESIGNS)}.")
            supports.append(
                Support(
                    key=str(raw["key"]).strip(),
                    stance=stance,
                    passage=str(raw.get("passage", "")).strip(),
                    locator=str(raw.get("locator", "")).strip(),
                    note=str(raw.get("note", "")).strip(),
                    design=design,
                )
            )
        claims[claim_id] = Claim(claim_id, str(body.get("text", "")).strip(), tuple(supports), line)
    return claims


# ---------------------------------------------------------------------------------------------------------------------
# Is the passage what the work says?

_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "‚": "'", "–": "-", "—": "-", "‐": "-"})


def _comparable(text: str) -> str:
    import unicodedata

    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).lower()
    return " ".join(text.replace("**", "").split()).strip(" .;,:")


# Which field of a work a locator names, and what the reader calls it.
LOCATED_FIELDS = {"abstract": ("abstract", "abstract"), "note": ("annotation", "note"), "title": ("title", "title")}


def passage_field(locator: str) -> tuple[str, str] | None:
    """(work field, name) for a locator that names a part of the record ('abstract, results' -> the abstract); None
    for a locator the tool cannot read (a page of the full text)."""
    first = re.split(r"[\s,;:]+", locator.strip().lower(), maxsplit=1)[0] if locator.strip() else ""
    return LOCATED_FIELDS.get("note" if first in ("annotation", "notes") else first)


def find_passage(passage: str, text: str) -> str:
    """'exact' when ``text`` says ``passage`` (whitespace, quotes, dashes and case aside), 'close' when a stretch of
    it nearly does (90% alike: a changed word or two), '' when it does not."""
    import difflib

    wanted, source = _comparable(passage), _comparable(text)
    if not wanted or not source:
        return ""
    if wanted in source:
        return "exact"
    words, size = source.split(), len(wanted.split())
    if size < 4 or len(words) < size - 2:
        return ""
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(wanted)
    for width in (size, size - 1, size + 1, size - 2, size + 2):
        for start in range(0, max(1, len(words) - width + 1)):
            matcher.set_seq1(" ".join(words[start : start + width]))
            if matcher.real_quick_ratio() >= 0.9 and matcher.quick_ratio() >= 0.9 and matcher.ratio() >= 0.9:
                return "close"
    return ""
