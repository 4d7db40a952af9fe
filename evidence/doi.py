"""DOI recognition and normalisation.

Practitioners paste DOIs in every form (``doi:``, ``https://doi.org/``, ``dx.doi.org``, upper case, followed by a
full stop or a closing bracket). The library keys records by one canonical spelling: lower-case, no prefix, no
trailing punctuation. DOIs are case-insensitive by definition (DOI Handbook 2.4), so lower-casing loses nothing.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

from evidence.errors import InvalidDOIError

# The registrant code is "10." plus digits (and dotted sub-codes); the suffix is any printable run.
_PREFIXES = re.compile(
    r"^(?:(?:https?://)?(?:dx\.|www\.)?doi\.org/|doi:\s*|info:doi/|urn:doi:)",
    re.IGNORECASE,
)
_DOI_CORE = re.compile(r"^10\.\d{4,9}(?:\.\d+)*/\S+$")
# In running text a DOI ends at whitespace, quotes or angle brackets. It never starts inside a run of digits and
# dots: without that, text such as '10.1010.1010...' would be rescanned from every '10', in quadratic time.
_DOI_IN_TEXT = re.compile(r"(?<![\d.])10\.\d{4,9}+(?:\.\d+)*+/[^\s\"'<>\]{}|\\^`]+", re.IGNORECASE)
_TRAILING = ".,;:!?*'\"”’»>"
_LEADING = "([{<'\"“‘«"


def _strip_unbalanced(doi: str) -> str:
    """Drop trailing punctuation and closing brackets that have no opening partner inside the DOI.

    ``10.1016/S2095-4964(17)60378-9`` keeps its brackets; ``(see 10.1000/xyz).`` loses the final ``).``.
    """
    while doi:
        last = doi[-1]
        if last in _TRAILING:
            doi = doi[:-1]
            continue
        for close, open_ in ((")", "("), ("]", "["), ("}", "{")):
            if last == close and doi.count(close) > doi.count(open_):
                doi = doi[:-1]
                break
        else:
            return doi
    return doi


def normalize_doi(text: str) -> str:
    """Return the canonical form of one DOI written in any common way, or raise InvalidDOIError."""
    candidate = text.strip().lstrip(_LEADING).strip()
    candidate = _PREFIXES.sub("", candidate).strip()
    if "%" in candidate:
        candidate = unquote(candidate)
    candidate = _strip_unbalanced(candidate)
    if not _DOI_CORE.match(candidate):
        raise InvalidDOIError(f"'{text.strip()}' is not a DOI (a DOI looks like 10.1234/abc).")
    return candidate.lower()


def is_doi(text: str) -> bool:
    """True when ``text`` is a DOI in some written form."""
    try:
        normalize_doi(text)
    except InvalidDOIError:
        return False
    return True


def find_dois(text: str) -> list[str]:
    """All distinct DOIs in free text, normalised, in order of first appearance."""
    seen: dict[str, None] = {}
    for match in _DOI_IN_TEXT.finditer(text):
        doi = _strip_unbalanced(match.group(0)).lower()
        if _DOI_CORE.match(doi):
            seen.setdefault(doi, None)
    return list(seen)


# Characters a DOI link keeps as they are; the rest (the '<' and '>' of old SICI DOIs, quotes) is percent-encoded.
_LINK_SAFE = "/:;()._-+,=[]"


def doi_url(doi: str) -> str:
    """The resolvable https link for a canonical DOI, percent-encoded where a link must be."""
    return "https://doi.org/" + quote(doi, _LINK_SAFE)
