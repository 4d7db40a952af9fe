"""JATS XML (Crossref's ``abstract`` field) to plain text.

Done with regular expressions on purpose: no XML parser is involved, so a DOCTYPE or external entity in a record can
never be resolved or fetched; entities are decoded from the standard HTML table only. Paragraphs are kept as blank
lines.
"""

from __future__ import annotations

import html
import re

_DOCTYPE = re.compile(r"<!DOCTYPE[^>\[]*(\[.*?\])?\s*>", re.IGNORECASE | re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->|<\?.*?\?>", re.DOTALL)
_CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.DOTALL)
_BLOCK_END = re.compile(r"</(?:jats:)?(?:p|sec|title|list-item|def-item)\s*>|<br\s*/?>", re.IGNORECASE)
_LABEL_TITLE = re.compile(r"<(?:jats:)?title[^>]*>(.*?)</(?:jats:)?title\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_BREAK = "\u0001"  # paragraph boundary marker while rewriting
_LEAD = "\u0002"  # a section title waiting for its paragraph


def jats_to_text(jats: str) -> str:
    """Plain text of a JATS fragment: tags dropped, entities decoded, paragraphs separated by one blank line."""
    if not jats:
        return ""
    text = _DOCTYPE.sub("", jats)
    text = _COMMENT.sub("", text)
    text = _CDATA.sub(lambda m: html.escape(m.group(1)), text)
    text = " ".join(text.split())  # line breaks inside the XML are layout, not structure
    # A section title such as "Background" reads best as a lead-in: "Background: ...".
    text = _LABEL_TITLE.sub(lambda m: _BREAK + m.group(1).strip().rstrip(":") + ":" + _LEAD, text)
    text = _BLOCK_END.sub(_BREAK, text)
    text = _TAG.sub("", text)
    text = html.unescape(text)
    text = re.sub(_LEAD + r"\s*" + _BREAK + r"+", " ", text).replace(_LEAD, " ")
    paragraphs = [" ".join(p.split()) for p in text.split(_BREAK)]
    paragraphs = [p for p in paragraphs if p]
    # Drop a leading bare "Abstract" heading, which Crossref often carries.
    if paragraphs and paragraphs[0].lower() in ("abstract", "abstract:"):
        paragraphs = paragraphs[1:]
    elif paragraphs and paragraphs[0].lower().startswith("abstract: "):
        paragraphs[0] = paragraphs[0][len("abstract: ") :]
    return "\n\n".join(paragraphs)


def html_to_text(value: str) -> str:
    """Plain text of a short HTML/MathML-tagged string such as a Crossref title."""
    return " ".join(html.unescape(_TAG.sub("", value)).split())
