"""Writing BibTeX entries: encode plain text as BibTeX values and lay an entry out in one canonical format.

Reading is bibtexparser's job (in store.bibfile); this module only produces text, so the format is ours and stable:
two-space indent, ``name = {value},`` one per line, fields in the order given. The same entry always gives the
same bytes.
"""

from __future__ import annotations

import re

from evidence import markup
from evidence.controls import strip_controls
from evidence.model import MONTHS

# Fields whose values are identifiers, not prose: written verbatim (no LaTeX escaping).
VERBATIM_FIELDS = frozenset({"doi", "url", "issn", "isbn", "eprint", "file", "pmid", "pmcid"})
_SPECIAL = {"&": r"\&", "%": r"\%", "#": r"\#", "$": r"\$", "_": r"\_"}
_SPECIAL_RE = re.compile(r"[&%#$_]")


def _balanced(value: str) -> bool:
    depth = 0
    for char in value:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def encode_text(value: str) -> str:
    r"""Escape plain text so LaTeX and BibTeX read it back as the same text.

    Every brace in plain text is a character, never grouping: '{}' in a title must come back as '{}'. BibTeX and
    pybtex count ``\{`` as an opening brace, so ``\{``/``\}`` are used only where they pair up; a lone brace
    is ``\textbraceleft{}`` / ``\textbraceright{}``, which every reader balances."""
    value = strip_controls(value)
    if "{" in value or "}" in value:
        paired = _balanced(value)
        value = value.replace("{", "\x00{").replace("}", "\x00}")
    value = value.replace("\\", r"\textbackslash{}") if "\\" in value else value
    if "\x00" in value:
        opening, closing = (r"\{", r"\}") if paired else (r"\textbraceleft{}", r"\textbraceright{}")
        value = value.replace("\x00{", opening).replace("\x00}", closing)
    value = _SPECIAL_RE.sub(lambda m: _SPECIAL[m.group(0)], value)
    # A bare ~ is LaTeX's non-breaking space: '~50 patients' would read back as ' 50 patients'.
    value = value.replace("~", r"\textasciitilde{}") if "~" in value else value
    return markup.to_latex(value) if markup.has_marks(value) else value  # '\textit{Streptomyces}'


def encode_names(value: str) -> str:
    """A name list (``model.format_names``' convention: braces only as grouping) as a BibTeX value's inside.

    Specials and backslashes are escaped outside and inside the grouping braces alike; a list whose braces do not
    pair up (never one this tool built) loses its braces rather than swallow the fields after it."""
    value = strip_controls(value).replace("\n", " ")
    if not _balanced(value):
        value = value.replace("{", "").replace("}", "")
    value = value.replace("\\", r"\textbackslash{}") if "\\" in value else value
    value = _SPECIAL_RE.sub(lambda m: _SPECIAL[m.group(0)], value)
    return value.replace("~", r"\textasciitilde{}") if "~" in value else value


def encode_value(name: str, value: str) -> str:
    """The raw BibTeX value (delimiters included) for one plain-text field."""
    if name == "month" and value.lower() in MONTHS:
        return value.lower()
    if name in VERBATIM_FIELDS:
        # Identifiers keep their characters; braces would break the entry, and so would a backslash before the
        # closing brace (bibtexparser reads it as an escape).
        value = strip_controls(value).replace("{", "").replace("}", "")
        value = value.replace("\\", "%5C") if name == "url" else value.rstrip("\\")
        return "{" + value + "}"
    if name in ("author", "editor"):
        return "{" + encode_names(value) + "}"
    return "{" + encode_text(value) + "}"


def encode_fields(fields: dict[str, str]) -> dict[str, str]:
    return {name: encode_value(name, value) for name, value in fields.items()}


# The order fields are written in: who, what, where, when, which part, identifiers, then the reader's own notes.
FIELD_ORDER = (
    "author",
    "editor",
    "title",
    "journal",
    "booktitle",
    "shortjournal",
    "howpublished",
    "series",
    "edition",
    "year",
    "month",
    "volume",
    "number",
    "pages",
    "publisher",
    "institution",
    "school",
    "organization",
    "address",
    "doi",
    "pmid",
    "pmcid",
    "url",
    "issn",
    "isbn",
    "language",
    "keywords",
    "abstract",
    "annotation",
    "note",
)
_RANK = {name: rank for rank, name in enumerate(FIELD_ORDER)}


def format_entry(entry_type: str, key: str, raw_fields: dict[str, str]) -> str:
    """One entry in the canonical layout (fields in FIELD_ORDER, others after in their order), no final newline."""
    lines = [f"@{entry_type}{{{key},"]
    ordered = sorted(raw_fields.items(), key=lambda item: _RANK.get(item[0], len(_RANK)))
    lines.extend(f"  {name} = {value}," for name, value in ordered)
    lines.append("}")
    return "\n".join(lines)


def strip_delimiters(raw: str) -> str:
    """The value inside ``{...}`` or ``"..."``; bare values (numbers, macros) are returned unchanged."""
    raw = raw.strip()
    if len(raw) >= 2 and ((raw[0] == "{" and raw[-1] == "}") or (raw[0] == '"' and raw[-1] == '"')):
        return raw[1:-1]
    return raw


def split_concatenation(raw: str) -> list[str]:
    """The parts of a raw value joined with ``#`` (outside braces and quotes), stripped."""
    parts, depth, quoted, current = [], 0, False, []
    for char in raw:
        if char == '"' and depth == 0:
            quoted = not quoted
        elif char == "{":
            depth += 1
        elif char == "}":
            depth = max(0, depth - 1)
        if char == "#" and depth == 0 and not quoted:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return parts


def expand_macros(raw: str, strings: dict[str, str]) -> str | None:
    """A braced value with @string macros and ``#`` joins written out, or None when ``raw`` needs no expansion.

    Used when works move to another file (import) that lacks the source file's @string blocks. ``strings`` maps
    lower-case macro names to plain values. Unknown macros are kept by returning None, so nothing is invented.
    """
    parts = split_concatenation(raw)
    if len(parts) == 1 and (not parts[0] or parts[0][0] in '{"' or parts[0].isdigit()):
        return None
    pieces = []
    for part in parts:
        if len(part) >= 2 and part[0] == "{" and part[-1] == "}":
            pieces.append(part[1:-1])
        elif len(part) >= 2 and part[0] == '"' and part[-1] == '"':
            pieces.append(part[1:-1])
        elif part.isdigit():
            pieces.append(part)
        elif part.lower() in strings:
            pieces.append(strings[part.lower()])
        else:
            return None
    return "{" + "".join(pieces) + "}"
