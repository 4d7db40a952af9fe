"""An article saved as a web page (a blog post, a CMS export), read as the text a reader sees.

Styles, scripts, comments and tags are blanked out before citations are looked for: otherwise CSS's ``@media`` and
``@import`` read as citations of 'media' and 'import', and an e-mail link in a script as a key. Each blanked piece
keeps its line breaks, so every line number a message gives is the line of the saved file. The scan looks at each
character a bounded number of times: an unclosed ``<script`` or ``<!--`` ends the text, it is not rescanned.
"""

from __future__ import annotations

import html

_HTML_SUFFIXES = (".html", ".htm", ".xhtml")
_HIDDEN = ("script", "style", "template", "noscript")


def is_web_page(text: str, name: str = "") -> bool:
    head = text.lstrip()[:100].lower()
    return name.lower().endswith(_HTML_SUFFIXES) or head.startswith(("<!doctype html", "<html"))


def _blank(piece: str) -> str:
    return "\n" * piece.count("\n")


def visible_text(page: str) -> str:
    """The text of ``page`` outside markup, entities decoded, with the page's line breaks where they were."""
    lower = page.lower()
    out: list[str] = []
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
        out.append(_blank(page[start:stop]))
        position = stop
    return "".join(out)


def readable_article(text: str, name: str = "") -> str:
    """What evidence reads of an article file: a web page's visible text, any other text as it is."""
    return visible_text(text) if is_web_page(text, name) else text
