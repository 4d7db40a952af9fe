"""Which links may leave the tool: a DOI only when it is a DOI, a web address only when it is http(s).

Metadata is hostile input. A work's URL may say ``javascript:``, a DOI field may hold a quote that ends an
``href``; every HTML page, reference list and CSL-JSON export takes its links from here, so nothing else is linked.
"""

from __future__ import annotations

import re

from evidence.doi import doi_url, is_doi, normalize_doi

_WEB = re.compile(r"https?://[^\s\"'<>\\^`{|}\x00-\x1f\x7f]+", re.IGNORECASE)


def doi_link(doi: str) -> str:
    """``https://doi.org/…`` for a DOI (percent-encoded where it must be), or '' when ``doi`` is not one."""
    # every separator but the ASCII space is unprintable, so this refuses all whitespace and control characters
    if not doi or not is_doi(doi) or " " in doi or not doi.isprintable():
        return ""
    return doi_url(normalize_doi(doi) if doi.lower().startswith(("doi:", "http")) else doi)


def web_link(url: str) -> str:
    """``url`` when it is an http(s) address with nothing that could end an attribute, else ''."""
    url = (url or "").strip()
    return url if _WEB.fullmatch(url) else ""
