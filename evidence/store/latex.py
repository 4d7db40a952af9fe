"""BibTeX values as plain text: LaTeX escapes decoded, macros resolved, name lists kept as lists.

Values this tool writes decode without pylatexenc (which costs milliseconds a value); anything else goes through it,
taught the two brace macros the writer (``store.bibtex``) uses for a lone brace.
"""

from __future__ import annotations

import functools
import re

from evidence import markup
from evidence.model import MONTHS, split_names
from evidence.store import bibtex

_VERBATIM = bibtex.VERBATIM_FIELDS


# The escapes this tool's own writer produces (bibtex.encode_text); escaped braces become private-use placeholders
# so that the brace stripping of plain values leaves them alone.
_SIMPLE_ESCAPE = re.compile(r"\\text(?:backslash|asciitilde|braceleft|braceright)\{\}|\\[&%#$_{}]")
_ESCAPED = {
    "\\textbackslash{}": "\\",
    "\\textasciitilde{}": "\ue002",
    "\\textbraceleft{}": "\ue000",
    "\\textbraceright{}": "\ue001",
    "\\{": "\ue000",
    "\\}": "\ue001",
}


def _plain(value: str) -> str:
    text = value.replace("{", "").replace("}", "").replace("\ue000", "{").replace("\ue001", "}")
    text = text.replace("---", "\u2014").replace("--", "\u2013").replace("~", " ").replace("\ue002", "~")
    return " ".join(text.split()) if "\n\n" not in text else _keep_paragraphs(text)


def latex_to_text(value: str) -> str:
    """Plain text of a BibTeX value. Values without LaTeX commands other than escaped specials (nearly all, and
    every value this tool writes) skip pylatexenc, which costs milliseconds per value, tens on a long abstract."""
    if "\\" not in value:
        return _plain(value)
    if "\\" not in _SIMPLE_ESCAPE.sub("", value):
        return _plain(_SIMPLE_ESCAPE.sub(lambda m: _ESCAPED.get(m.group(0), m.group(0)[-1]), value))
    from pylatexenc.latexwalker import LatexWalkerError

    try:
        text = latex_converter().latex_to_text(value)
    except (LatexWalkerError, ValueError, IndexError, KeyError):  # pylatexenc's errors on odd input: the raw text
        text = value.replace("{", "").replace("}", "")
    return " ".join(text.split()) if "\n\n" not in text else _keep_paragraphs(text)


@functools.cache
def latex_converter():
    """pylatexenc's converter, taught the two brace macros this tool's writer uses for a lone brace."""
    from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

    context = get_default_latex_context_db()
    context.add_context_category(
        "evidence", prepend=True, macros=[MacroTextSpec("textbraceleft", "{"), MacroTextSpec("textbraceright", "}")]
    )
    return LatexNodes2Text(latex_context=context, math_mode="verbatim", strict_latex_spaces=False)


def _keep_paragraphs(text: str) -> str:
    return "\n\n".join(" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip())


def _names_to_text(raw: str) -> str:
    """Decode a name list but keep the braces that group: an organisation as one name, a part that holds a comma or
    ' and ' ('{Smith, Jr}') as one part, so ``parse_names`` reads the text as the same people."""
    return " and ".join(_name_to_text(name) for name in split_names(raw))


def _name_to_text(name: str) -> str:
    if name.startswith("{") and name.endswith("}") and _outer_group_end(name, 0) == len(name) - 1:
        return "{" + latex_to_text(name[1:-1]).replace("{", "").replace("}", "") + "}"
    if "{" not in name or not re.search(r"\{[^{}]*(?:,|\s[Aa][Nn][Dd]\s)[^{}]*\}", name):
        return latex_to_text(name)  # no group that holds a comma or ' and ': nothing to keep
    pieces, position = [], 0
    while position < len(name):
        start = name.find("{", position)
        while start > 0 and name[start - 1] == "\\":  # an escaped brace, not a group
            start = name.find("{", start + 1)
        if start < 0:
            rest = name[position:]
            pieces.append((" " if rest.startswith(" ") else "") + latex_to_text(rest))
            break
        end = _outer_group_end(name, start)
        if start > position:
            outside = name[position:start]
            pieces.append(latex_to_text(outside) + (" " if outside.endswith(" ") else ""))
        inner = latex_to_text(name[start + 1 : end]).replace("{", "").replace("}", "")
        pieces.append("{" + inner + "}" if "," in inner or " and " in f" {inner.lower()} " else inner)
        position = end + 1
    return " ".join("".join(pieces).split())


_MARKUP_COMMAND = re.compile(r"\\(" + "|".join(markup.LATEX_COMMANDS) + r")\s*\{")


def latex_to_marked(value: str) -> str:
    """``latex_to_text``, but with ``\\textit{...}`` and the other inline markup commands kept as
    ``evidence.markup``'s marks (for CSL-JSON, where styles can print them); '' when the value has none."""
    if "\\" not in value or not _MARKUP_COMMAND.search(value):
        return ""
    pieces, position = [], 0
    for found in _MARKUP_COMMAND.finditer(value):
        if found.start() < position:
            continue  # inside a group already taken: handled with it
        end = _outer_group_end(value, found.end() - 1)
        mark = markup.LATEX_COMMANDS[found.group(1)]
        inner = latex_to_marked(value[found.end() : end]) or _decoded(value[found.end() : end])
        pieces.append(_decoded(value[position : found.start()]))
        pieces.append(f"{markup.opening(mark)}{inner}{markup.closing(mark)}")
        position = end + 1
    pieces.append(_decoded(value[position:]))
    return " ".join("".join(pieces).split())


def marked_fields(work) -> dict[str, str]:
    """A work's title and subtitle with their inline markup as marks, for those that have any."""
    found = {}
    for name in ("title", "subtitle"):
        raw = work.fields.get(name, "")
        marked = latex_to_marked(bibtex.strip_delimiters(raw.strip())) if raw else ""
        if marked:
            found[name] = marked
    return found


def _decoded(piece: str) -> str:
    """One piece decoded, with the spaces at its edges that decoding trims (they part it from the next piece)."""
    text = latex_to_text(piece)
    if not text:
        return " " if piece[:1].isspace() else ""
    return (" " if piece[:1].isspace() else "") + text + (" " if piece[-1:].isspace() else "")


def _outer_group_end(text: str, start: int) -> int:
    """Index of the brace closing the group opened at ``start`` (escaped braces ignored), or the last index."""
    depth, position = 0, start
    while position < len(text):
        char = text[position]
        if char == "\\":
            position += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return position
        position += 1
    return len(text) - 1


def decode_fields(raw_fields: dict[str, str], strings: dict[str, str] | None = None) -> dict[str, str]:
    """Plain-text values for a raw field mapping (macros resolved, months as numbers)."""
    strings = strings or {}
    text = {}
    for name, raw in raw_fields.items():
        value = raw.strip()
        if value and value[0] not in '{"':
            lowered = value.lower()
            if name == "month" and lowered[:3] in MONTHS:
                text[name] = str(MONTHS.index(lowered[:3]) + 1)
                continue
            value = strings.get(lowered, value) if not value.isdigit() else value
        value = bibtex.strip_delimiters(value)
        if name in _VERBATIM:
            text[name] = value.replace("{", "").replace("}", "").strip()
        elif name in ("author", "editor"):
            text[name] = _names_to_text(value)
        else:
            text[name] = latex_to_text(value)
    if "doi" in text:
        text["doi"] = _clean_doi_field(text["doi"])
    return text


def _clean_doi_field(value: str) -> str:
    value = value.strip()
    for prefix in ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:"):
        if value.lower().startswith(prefix):
            value = value[len(prefix) :]
    return value  # as written: Work.doi compares without case, lists show the publisher's spelling
