"""An article saved as a web page (a blog post, a CMS export), read as the text a reader sees.

Styles, scripts, comments and tags are blanked out before citations are looked for: otherwise CSS's ``@media`` and
``@import`` read as citations of 'media' and 'import', and an e-mail link in a script as a key. Each blanked piece
keeps its line breaks, so every line number a message gives is the line of the saved file. The scan looks at each
character a bounded number of times: an unclosed ``<script`` or ``<!--`` ends the text, it is not rescanned.
"""

from __future__ import annotations

import html
import re

_HTML_SUFFIXES = (".html", ".htm", ".xhtml")
_HIDDEN = ("script", "style", "template", "noscript")
_ATTRIBUTE_CLASS = re.compile(r"""\sclass\s*=\s*(["'])(.*?)\1""", re.I | re.S)
_ATTRIBUTE_ID = re.compile(r"""\sid\s*=\s*(["'])(.*?)\1""", re.I | re.S)
_CLAIM_ID = re.compile(r"[\w:.\-]+")


def is_web_page(text: str, name: str = "") -> bool:
    head = text.lstrip()[:100].lower()
    return name.lower().endswith(_HTML_SUFFIXES) or head.startswith(("<!doctype html", "<html"))


def _blank(piece: str) -> str:
    return "\n" * piece.count("\n")


def _claim_of(tag: str) -> str:
    """The claim id of a ``<span class="claim" id="x">`` (how pandoc writes ``[...]{.claim #x}``), or ''."""
    classes = _ATTRIBUTE_CLASS.search(tag)
    ident = _ATTRIBUTE_ID.search(tag)
    if classes and ident and "claim" in html.unescape(classes.group(2)).split():
        claim = html.unescape(ident.group(2))
        return claim if _CLAIM_ID.fullmatch(claim) else ""
    return ""


def visible_text(page: str) -> str:
    """The text of ``page`` outside markup, entities decoded, with the page's line breaks where they were; a claim's
    span is written as evidence's Markdown claim, ``[the words]{.claim #id}``."""
    lower = page.lower()
    out: list[str] = []
    spans: list[str] = []  # the claim id of each open span ('' for the others)
    position, end = 0, len(page)
    while position < end:
        start = page.find("<", position)
        if start < 0:
            out.append(html.unescape(page[position:]))
            break
        out.append(html.unescape(page[position:start]))
        if lower.startswith("<!--", start):
            close = page.find("-->", start + 4)
            stop = end if close < 0 else close + 3
        else:
            hidden = next((tag for tag in _HIDDEN if lower.startswith("<" + tag, start)), None)
            if hidden and not lower[start + 1 + len(hidden) : start + 2 + len(hidden)].isalnum():
                close = lower.find("</" + hidden, start)
                after = lower.find(">", close) if close >= 0 else -1
                stop = end if after < 0 else after + 1
            else:
                close = page.find(">", start)
                stop = end if close < 0 else close + 1
                tag = lower[start : start + 6]
                if tag.startswith("<span") and not tag[5:6].isalnum():
                    spans.append(_claim_of(page[start:stop]))
                    out.append("[" if spans[-1] else "")
                elif tag.startswith("</span"):
                    claim = spans.pop() if spans else ""
                    out.append(f"]{{.claim #{claim}}}" if claim else "")
        out.append(_blank(page[start:stop]))
        position = stop
    return "".join(out)


def readable_article(text: str, name: str = "") -> str:
    """What evidence reads of an article file: a web page's visible text, any other text as it is."""
    return visible_text(text) if is_web_page(text, name) else text
