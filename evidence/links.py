"""Which links may leave the tool: a DOI only when it is a DOI, a web address only when it is http(s).

Metadata is hostile input. A work's URL may say ``javascript:``, a DOI field may hold a quote that ends an
``href``; every HTML page, reference list and CSL-JSON export takes its links from here, so nothing else is linked.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from evidence.doi import is_doi, normalize_doi

_WEB = re.compile(r"https?://[^\s\"'<>\\^`{|}\x00-\x1f\x7f]+", re.IGNORECASE)
# Characters a DOI link keeps as they are; the rest (the '<' and '>' of old SICI DOIs, quotes) is percent-encoded.
_DOI_SAFE = "/:;()._-+,=[]"


def doi_link(doi: str) -> str:
    """``https://doi.org/…`` for a DOI (percent-encoded where it must be), or '' when ``doi`` is not one."""
    if not doi or not is_doi(doi) or any(c.isspace() or not c.isprintable() for c in doi):
        return ""
    return "https://doi.org/" + quote(
        normalize_doi(doi) if doi.lower().startswith(("doi:", "http")) else doi, _DOI_SAFE
    )


def web_link(url: str) -> str:
    """``url`` when it is an http(s) address with nothing that could end an attribute, else ''."""
    url = (url or "").strip()
    return url if _WEB.fullmatch(url) else ""
