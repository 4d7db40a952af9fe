"""OpenAlex's ``/works`` answer read into ``Found``.

OpenAlex does not publish abstracts as text: it gives an inverted index (each word with the positions it stands at),
from which the text is rebuilt. Many works have none (``abstract_inverted_index`` null); a work's ``ids`` carry its
PMID and PMCID as URLs.
"""

from __future__ import annotations

import json

from evidence.controls import strip_controls
from evidence.doi import find_dois
from evidence.errors import RemoteDataError
from evidence.sources.found import MAX_ABSTRACT_CHARS, Found, bounded, normal_pmcid, normal_pmid

# An inverted index claiming more positions than this is not an abstract (and would cost memory to rebuild).
MAX_POSITIONS = 10_000


def works(data: dict) -> list[Found]:
    """One ``Found`` per work of a list answer (``/works?filter=doi:...``)."""
    items = data.get("results") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise RemoteDataError("OpenAlex's answer holds no list of works.")
    return [_work(item) for item in items if isinstance(item, dict)]


def abstract_text(inverted) -> str:
    """The abstract rebuilt from OpenAlex's inverted index; '' when there is none or it is not one."""
    if not isinstance(inverted, dict):
        return ""
    placed: dict[int, str] = {}
    for word, positions in inverted.items():
        if not isinstance(word, str) or not isinstance(positions, list):
            return ""
        for position in positions:
            if not isinstance(position, int) or isinstance(position, bool) or not 0 <= position < MAX_POSITIONS:
                return ""
            placed[position] = word
    text = " ".join(placed[position] for position in sorted(placed))
    return bounded(strip_controls(" ".join(text.split())), MAX_ABSTRACT_CHARS)


def _tail(url) -> str:
    return str(url).rstrip("/").rsplit("/", 1)[-1] if isinstance(url, str) else ""


def _work(item: dict) -> Found:
    ids = item.get("ids") if isinstance(item.get("ids"), dict) else {}
    doi = next(iter(find_dois(str(item.get("doi") or ids.get("doi") or ""))), "")
    pmid = normal_pmid(_tail(ids.get("pmid")))
    return Found(
        "openalex",
        _tail(item.get("id")),
        doi=doi,
        pmid=pmid,
        pmcid=normal_pmcid(_tail(ids.get("pmcid"))),
        abstract=abstract_text(item.get("abstract_inverted_index")),
        retraction="retracted, as OpenAlex records it" if item.get("is_retracted") is True else "",
        raw=json.dumps(item, ensure_ascii=False, sort_keys=True),
    )
