"""JATS XML (Crossref's ``abstract`` field) and tagged titles to plain text.

Done with a scanner of our own on purpose: no XML parser is involved, so a DOCTYPE or external entity in a record can
never be resolved or fetched; entities are decoded from the standard HTML table only. Paragraphs are kept as blank
lines. The scanner looks at each character a bounded number of times, so hostile markup (80,000 '<', a run of
unclosed '<!--') costs time in proportion to its length, where regular expressions rescanned it from every '<'.
"""

from __future__ import annotations

import html
from collections.abc import Iterator

from evidence import markup
from evidence.controls import strip_controls

_BLOCK_TAGS = frozenset({"p", "sec", "title", "list-item", "def-item", "br"})
# JATS section titles, and the HTML headings Europe PMC writes structured abstracts with ('<h4>Background</h4>').
_HEADINGS = frozenset({"title", "h1", "h2", "h3", "h4", "h5", "h6"})
_BREAK = "\u0001"  # paragraph boundary marker while rewriting
_LEAD = "\u0002"  # a section title waiting for its paragraph


def _tokens(markup: str) -> Iterator[tuple[str, str]]:
    """('text', characters) and ('open' | 'close', lower-case tag name without namespace) in document order.

    Comments, processing instructions and the DOCTYPE (with its internal subset) are dropped; CDATA is text. A '<'
    that does not open a tag is text; an unclosed comment or tag ends the scan (what follows cannot be told apart)."""
    position, end = 0, len(markup)
    while position < end:
        start = markup.find("<", position)
        if start < 0:
            yield "text", markup[position:]
            return
        if start > position:
            yield "text", markup[position:start]
        if markup.startswith("<!--", start):
            close = markup.find("-->", start + 4)
            if close < 0:
                return
            position = close + 3
        elif markup.startswith("<![CDATA[", start):
            close = markup.find("]]>", start + 9)
            yield "cdata", markup[start + 9 : close if close >= 0 else end]
            if close < 0:
                return
            position = close + 3
        elif markup.startswith("<?", start):
            close = markup.find("?>", start + 2)
            if close < 0:
                return
            position = close + 2
        elif markup[start : start + 9].upper() == "<!DOCTYPE":
            close = markup.find(">", start)
            subset = markup.find("[", start, close if close >= 0 else end)
            if subset >= 0:  # an internal subset may hold '>' of its own: it ends at ']' then '>'
                bracket = markup.find("]", subset)
                close = markup.find(">", bracket) if bracket >= 0 else -1
            if close < 0:
                return
            position = close + 1
        elif start + 1 < end and (markup[start + 1].isalpha() or markup[start + 1] in "/!_:"):
            close = markup.find(">", start + 1)
            if close < 0:
                yield "text", markup[start:]
                return
            inside = markup[start + 1 : close]
            closing = inside.startswith("/")
            name = inside.lstrip("/!").split(None, 1)[0].rstrip("/").lower() if inside.strip("/!") else ""
            yield ("close" if closing else "open"), name.rsplit(":", 1)[-1]
            position = close + 1
        else:
            yield "text", "<"
            position = start + 1


def html_to_marked(value: str) -> str:
    """``html_to_text``, but with the title's inline markup (italic, bold, sub- and superscript, small caps) kept as
    ``evidence.markup``'s marks, so the library can store it and styles can print it."""
    if "<" not in value:
        return html_to_text(value)
    pieces = []
    for kind, piece in _tokens(value):
        if kind in ("text", "cdata"):
            pieces.append(markup.strip_marks(strip_controls(html.unescape(piece) if kind == "text" else piece)))
        elif piece in markup.HTML_TAGS:
            mark = markup.HTML_TAGS[piece]
            pieces.append(markup.opening(mark) if kind == "open" else markup.closing(mark))
    return " ".join("".join(pieces).split())


def jats_to_text(jats: str) -> str:
    """Plain text of a JATS fragment: tags dropped, entities decoded, paragraphs separated by one blank line."""
    if not jats:
        return ""
    pieces: list[str] = []
    for kind, value in _tokens(strip_controls(jats)):
        if kind == "text":
            pieces.append(strip_controls(html.unescape(value)))  # '&#27;' is an ESC too
        elif kind == "cdata":
            pieces.append(value)
        elif value in _HEADINGS and kind == "open":
            pieces.append(_BREAK)
        elif value in _HEADINGS:  # a section title such as "Background" reads best as a lead-in: "Background: ..."
            while pieces and not pieces[-1].strip(" "):
                pieces.pop()
            if pieces and pieces[-1] != _BREAK:
                pieces[-1] = pieces[-1].rstrip().rstrip(":")
                pieces.append(":" + _LEAD)
        elif value in _BLOCK_TAGS and (kind == "close" or value == "br"):
            pieces.append(_BREAK)
    text = "".join(pieces)
    paragraphs = []
    for paragraph in text.split(_BREAK):
        if paragraph.endswith(_LEAD):  # the title's paragraph follows: join them
            paragraphs.append(paragraph)
            continue
        if paragraphs and paragraphs[-1].endswith(_LEAD):
            paragraphs[-1] = paragraphs[-1][: -len(_LEAD)] + " " + paragraph
        else:
            paragraphs.append(paragraph)
    paragraphs = [" ".join(p.replace(_LEAD, " ").split()) for p in paragraphs]
    paragraphs = [p for p in paragraphs if p]
    # Drop a leading bare "Abstract" heading, which Crossref often carries.
    if paragraphs and paragraphs[0].lower() in ("abstract", "abstract:"):
        paragraphs = paragraphs[1:]
    elif paragraphs and paragraphs[0].lower().startswith("abstract: "):
        paragraphs[0] = paragraphs[0][len("abstract: ") :]
    return "\n\n".join(paragraphs)


def html_to_text(value: str) -> str:
    """Plain text of a short HTML/MathML-tagged string such as a Crossref title."""
    if "<" not in value and "&" not in value:
        return strip_controls(" ".join(value.split()))
    text = "".join(piece for kind, piece in _tokens(value) if kind in ("text", "cdata"))
    return strip_controls(" ".join(html.unescape(text).split()))
