"""Europe PMC's ``/search`` answer (``resultType=core``) read into ``Found``.

Europe PMC carries MEDLINE's abstracts and publication types for PubMed records (source MED), preprints (PPR) and
its own full-text records (PMC), with abstracts in light HTML (``<h4>Background</h4><p>...``), and marks
retractions both as the publication type 'Retracted Publication' and as a 'Retraction in' correction.
"""

from __future__ import annotations

import json

from evidence.controls import strip_controls
from evidence.doi import find_dois
from evidence.errors import RemoteDataError
from evidence.sources.found import MAX_ABSTRACT_CHARS, Found, bounded, normal_pmcid, normal_pmid
from evidence.sources.jats import html_to_text, jats_to_text


def results(data: dict) -> list[Found]:
    """One ``Found`` per result of a search answer."""
    listing = data.get("resultList") if isinstance(data, dict) else None
    items = listing.get("result") if isinstance(listing, dict) else None
    if not isinstance(items, list):
        raise RemoteDataError("Europe PMC's answer holds no list of results.")
    return [_result(item) for item in items if isinstance(item, dict)]


def _str(value) -> str:
    return strip_controls(" ".join(str(value).split())) if isinstance(value, str | int) else ""


def _list(container, key: str) -> list:
    value = container.get(key) if isinstance(container, dict) else None
    return value if isinstance(value, list) else []


def _retraction(item: dict) -> str:
    for correction in _list(item.get("commentCorrectionList"), "commentCorrection"):
        if isinstance(correction, dict) and str(correction.get("type", "")).lower() == "retraction in":
            return bounded(_str(correction.get("reference")) or "a retraction notice")
    return ""


def _result(item: dict) -> Found:
    source, ident = _str(item.get("source")), _str(item.get("id"))
    doi = next(iter(find_dois(_str(item.get("doi")))), "")
    types = tuple(dict.fromkeys(_str(t) for t in _list(item.get("pubTypeList"), "pubType") if _str(t)))
    abstract = item.get("abstractText")
    journal = item.get("journalInfo") if isinstance(item.get("journalInfo"), dict) else {}
    title_of = journal.get("journal") if isinstance(journal.get("journal"), dict) else {}
    fields = {
        "title": bounded(html_to_text(_str(item.get("title"))).rstrip(".")),
        "journal": bounded(_str(title_of.get("title"))),
        "year": _str(item.get("pubYear")),
        "volume": _str(journal.get("volume")),
        "number": _str(journal.get("issue")),
        "pages": _str(item.get("pageInfo")).replace("-", "--", 1),
        "doi": doi,
    }
    return Found(
        "europepmc",
        f"{source}:{ident}" if source and ident else ident,
        doi=doi,
        pmid=normal_pmid(_str(item.get("pmid"))),
        pmcid=normal_pmcid(_str(item.get("pmcid"))),
        abstract=bounded(jats_to_text(abstract), MAX_ABSTRACT_CHARS) if isinstance(abstract, str) else "",
        publication_types=types,
        retraction=_retraction(item),
        fields={name: value for name, value in fields.items() if value},
        raw=json.dumps(item, ensure_ascii=False, sort_keys=True),
    )
