"""Inline markup of titles (italic species names, sub- and superscripts, bold, small caps) between the formats.

Crossref titles carry it as HTML (``<i>Streptomyces</i>``, ``H<sub>2</sub>O``), the library stores it as LaTeX
(``\\textit{Streptomyces}``), CSL-JSON wants CSL's HTML-like tags and plain text wants none. In between, a value
holds it as pairs of private-use characters (no bibliographic text holds them: they are removed from what comes in),
so text and markup never mix: the text is escaped for its format, then the marks become that format's tags.
"""

from __future__ import annotations

import re

# mark name -> (opening character, closing character, CSL tag, LaTeX command)
_MARKS = {
    "i": ("\ue010", "\ue011", "i", "textit"),
    "b": ("\ue012", "\ue013", "b", "textbf"),
    "sub": ("\ue014", "\ue015", "sub", "textsubscript"),
    "sup": ("\ue016", "\ue017", "sup", "textsuperscript"),
    "sc": ("\ue018", "\ue019", "sc", "textsc"),
}
# HTML tag names (Crossref's, JATS') -> mark
HTML_TAGS = {"i": "i", "em": "i", "italic": "i", "b": "b", "strong": "b", "bold": "b", "sub": "sub", "sup": "sup"}
HTML_TAGS |= {"sc": "sc", "small-caps": "sc"}
LATEX_COMMANDS = {command: name for name, (_o, _c, _t, command) in _MARKS.items()} | {"emph": "i"}
_ALL = "".join(o + c for o, c, _t, _l in _MARKS.values())
_STRIP = str.maketrans("", "", _ALL)
_PAIR = re.compile("|".join(f"{o}([^{_ALL}]*){c}" for o, c, _t, _l in _MARKS.values()))


def opening(name: str) -> str:
    return _MARKS[name][0]


def closing(name: str) -> str:
    return _MARKS[name][1]


def strip_marks(text: str) -> str:
    return text.translate(_STRIP)


def has_marks(text: str) -> bool:
    return any(ch in _ALL for ch in text)


def _convert(text: str, wrap) -> str:
    """Innermost pairs first, until none is left; a mark without its partner is dropped."""
    while True:
        replaced = _PAIR.sub(lambda m: wrap(_name_of(m.group(0)[0]), m.group(m.lastindex or 0)), text)
        if replaced == text:
            return strip_marks(replaced)
        text = replaced


def _name_of(mark: str) -> str:
    return next(name for name, (o, _c, _t, _l) in _MARKS.items() if o == mark)


def to_csl(text: str) -> str:
    """CSL-JSON's HTML-like markup (``<i>``, ``<b>``, ``<sub>``, ``<sup>``, ``<sc>``)."""
    return _convert(text, lambda name, inner: f"<{_MARKS[name][2]}>{inner}</{_MARKS[name][2]}>")


def to_latex(text: str) -> str:
    """LaTeX commands (``\\textit{...}``); the text between marks must already be escaped for LaTeX."""
    return _convert(text, lambda name, inner: f"\\{_MARKS[name][3]}{{{inner}}}")
