"""What a bibliographic database said about one work, in one shape for PubMed, Europe PMC and OpenAlex.

Each service's parser turns its answer into ``Found`` values; the enrichment decides what of it to keep. ``raw`` is
the service's own text for this one work (an XML element, a JSON object), kept in ``records/`` so a reader can see
what the tool read and a rerun asks nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# What a field longer than this is: not an abstract. Answers are bounded as a whole; this bounds each value kept.
MAX_ABSTRACT_CHARS = 20_000
MAX_FIELD_CHARS = 2_000


@dataclass(frozen=True)
class Found:
    service: str  # "pubmed", "europepmc", "openalex"
    source_id: str  # the service's own id: a PMID, "MED:23121403", "W2741809807"
    doi: str = ""  # lower case
    pmid: str = ""
    pmcid: str = ""  # "PMC2883744"
    abstract: str = ""  # plain text; structured abstracts keep their labels ("BACKGROUND: ...")
    publication_types: tuple[str, ...] = ()
    retraction: str = ""  # the notice that retracts the work, as the service cites it, when it says so
    fields: dict[str, str] = field(
        default_factory=dict
    )  # title, author, journal, year ... for a work new to the library
    raw: str = ""

    @property
    def retracted(self) -> bool:
        return bool(self.retraction) or "retracted publication" in {kind.lower() for kind in self.publication_types}


def bounded(text: str, limit: int = MAX_FIELD_CHARS) -> str:
    """``text`` cut at ``limit`` characters (on a word boundary), so one hostile record cannot bloat the library."""
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + " …"


_PUBMED_IDS_IN_TEXT = re.compile(r"\b(?:PMID:?\s*(\d{1,9})\b|(PMC\d{1,10})\b)", re.I)


def find_pubmed_ids(text: str) -> list[str]:
    """'PMID:N' and 'PMCN' identifiers in free text (a bare number is not taken for a PMID), in order, once each."""
    found: dict[str, None] = {}
    for match in _PUBMED_IDS_IN_TEXT.finditer(text):
        found.setdefault(f"PMID:{match.group(1)}" if match.group(1) else match.group(2).upper(), None)
    return list(found)


def normal_pmid(value: str) -> str:
    """A PMID as digits ('PMID: 23121403', 'pmid:23121403' -> '23121403'), or '' when it is none."""
    text = str(value).strip().lower()
    for prefix in ("pmid:", "pmid", "pubmed:"):
        if text.startswith(prefix):
            text = text[len(prefix) :].strip()
            break
    return text if text.isdigit() and 0 < len(text) <= 9 and int(text) > 0 else ""


def normal_pmcid(value: str) -> str:
    """A PMCID as 'PMC' and digits ('pmc2883744', 'PMCID: PMC2883744', '2883744' is not one), or ''."""
    text = str(value).strip().upper()
    if text.startswith("PMCID:"):
        text = text[6:].strip()
    digits = text[3:] if text.startswith("PMC") else ""
    return "PMC" + digits if digits.isdigit() and 0 < len(digits) <= 10 else ""
