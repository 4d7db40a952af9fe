"""What to take from PubMed, Europe PMC and OpenAlex for a work, and how to say where it came from.

Pure decisions, no I/O: which works a service is asked about, which of its answers is the work's, and which fields
are filled. A field the entry already has is never replaced (the user's value, or the publisher's abstract from
Crossref, stays); each filled field gets a ``<field>-source`` beside it naming the service, its id and the day.
"""

from __future__ import annotations

import json

from evidence.sources import europepmc_json, openalex_json, pubmed_xml
from evidence.sources.found import Found

SERVICE_NAMES = {"pubmed": "PubMed", "europepmc": "Europe PMC", "openalex": "OpenAlex"}
# What each service can give; a work lacking none of these is not asked about (a missing PMCID alone asks nothing:
# most articles are not in PMC).
GIVES = {
    "pubmed": ("abstract", "pmid", "publication-types"),
    "europepmc": ("abstract", "pmid", "publication-types"),
    "openalex": ("abstract", "pmid"),
}
FILLED = ("abstract", "pmid", "pmcid", "publication-types", "retraction")


def ident_of(text: dict[str, str]) -> str:
    """The identifier a work is asked about and its answers are stored under: its DOI, else 'pmid:N'."""
    doi = text.get("doi", "").strip().lower()
    if doi:
        return doi
    pmid = text.get("pmid", "").strip()
    return f"pmid:{pmid}" if pmid.isdigit() else ""


def lacking(text: dict[str, str], service: str) -> bool:
    """Whether ``service`` could give the work something it does not have."""
    return any(not text.get(name, "").strip() for name in GIVES[service])


def from_stored(service: str, raw: str) -> Found | None:
    """The ``Found`` a stored answer holds (it was stored as the service sent it)."""
    if service == "pubmed":
        found = pubmed_xml.articles(f"<PubmedArticleSet>{raw}</PubmedArticleSet>")
    elif service == "europepmc":
        found = europepmc_json.results({"resultList": {"result": [json.loads(raw)]}})
    else:
        found = openalex_json.works({"results": [json.loads(raw)]})
    return found[0] if found else None


def match(ident: str, answers: list[Found]) -> Found | None:
    """The answer that is the work's: the same DOI (or PMID); of several, the MEDLINE record (Europe PMC also
    lists a preprint or an agency copy under the same DOI)."""
    if ident.startswith("pmid:"):
        same = [found for found in answers if found.pmid == ident[5:]]
    else:
        same = [found for found in answers if found.doi and found.doi == ident]
    same.sort(key=lambda found: (not found.source_id.startswith("MED:"), not found.pmid))
    return same[0] if same else None


def filled_fields(text: dict[str, str], found: Found, day: str) -> dict[str, str]:
    """The plain-text fields ``found`` adds to a work with fields ``text``, each with its ``-source``."""
    values = {
        "abstract": found.abstract,
        "pmid": found.pmid,
        "pmcid": found.pmcid,
        "publication-types": "; ".join(found.publication_types),
        "retraction": found.retraction or ("Retracted Publication" if found.retracted else ""),
    }
    added: dict[str, str] = {}
    source = f"{found.service}:{found.source_id}, {day}"
    for name in FILLED:
        if values[name] and not text.get(name, "").strip():
            added[name] = values[name]
            added[f"{name}-source"] = source
    return added
