"""A library work -> the BibTeX entry a careful BibTeX or biblatex user would write, for ``export`` and ``refs``.

The library's own file keeps every field it was given; an export is for other programs, so it is written to their
rules:

- **Case protected.** BibTeX styles and pandoc's BibTeX reader re-case titles (``plain.bst`` lower-cases them;
  pandoc turns English titles into sentence case for CSL). Every word of a title that carries a capital, but the
  first word's ordinary initial, is braced, as Better BibTeX does, so proper nouns and acronyms (``{Rayleigh-Taylor}``,
  ``{HRV}``, ``{Streptomyces}``) and the publisher's capitalisation survive: pandoc reading the export gives the list
  the CSL-JSON gives. Braces already in the value (a hand-made entry's own protection, LaTeX commands) are kept.
- **Only fields the entry type has**, in biber's default data model (BibTeX names, which biber maps: ``journal``,
  ``address``, ``school``): no ``publisher`` in an ``@article``, ``howpublished`` only where it exists.
- **One identifier per field**: the first ISSN and the first ISBN (the library keeps them all); a PMID as biblatex's
  ``eprint`` with ``eprinttype = {pubmed}`` (a PMCID the same way when there is no PMID).
- ``subtitle`` and the article number (``eid``) are kept; the language is biblatex's ``langid`` (which pandoc and
  biblatex read to leave non-English titles uncased).
"""

from __future__ import annotations

import re

from evidence.model import Work
from evidence.store.bibtex import encode_value, format_entry, strip_delimiters

# Fields every entry type has in biber's default data model (blx-dm.def: the global fields that matter here).
_EVERYWHERE = {"abstract", "annotation", "keywords", "language", "doi", "url", "shortjournal", "month", "year"}
_EVERYWHERE |= {"note", "date", "eprint", "eprinttype", "subtitle", "eid", "urldate", "options", "langid"}
# A book and a part of one: who, what, which edition and volume of which series, whose, where, which pages.
_BOOK = {"author", "editor", "title", "edition", "volume", "series", "number", "publisher", "address", "isbn", "pages"}
# Per type, the fields beyond those (BibTeX spellings; biber maps journal/address/school/key to its own).
_TYPE_FIELDS = {
    "article": {"author", "editor", "title", "journal", "volume", "number", "pages", "issn", "series"},
    "book": _BOOK | {"chapter"},
    "incollection": _BOOK | {"booktitle", "chapter"},
    "inproceedings": (_BOOK - {"edition"}) | {"booktitle", "organization"},
    "proceedings": {"editor", "title", "volume", "series", "number", "publisher", "address", "organization", "isbn"},
    "techreport": {"author", "title", "institution", "type", "number", "address", "pages", "isbn"},
    "phdthesis": {"author", "title", "school", "type", "address", "pages", "isbn"},
    "mastersthesis": {"author", "title", "school", "type", "address", "pages", "isbn"},
    "misc": {"author", "editor", "title", "howpublished", "organization", "address", "type", "publisher"},
    "unpublished": {"author", "title", "howpublished", "address"},
    "manual": {"author", "editor", "title", "organization", "address", "edition", "isbn", "publisher"},
    "booklet": {"author", "editor", "title", "howpublished", "address", "publisher"},
    "online": {"author", "editor", "title", "organization"},
}
_TYPE_FIELDS["inbook"] = _TYPE_FIELDS["incollection"]
_PROTECTED = ("title", "booktitle", "subtitle")
# biblatex reads these as lists of names or literals joined by 'and': 'Chapman and Hall/CRC' is one publisher.
_LITERAL_LISTS = ("publisher", "address", "institution", "organization", "school")
_STRAIGHT_QUOTES = re.compile(r'(?<![\\\w])"(?=\S)([^"{}]*?\S)"(?!\w)')  # '" A "' stays: no quote opens on a space
_SINGLE_QUOTES = re.compile(r"(?<![\\\w])'([^'{}]+)'(?![\w])")
# 'W. E. W.,' in a name list: a name that is all family name (BibTeX's trailing comma, which biber warns about),
# written as one braced name instead.
_TRAILING_COMMA_NAME = re.compile(r"(^\{|\sand\s)([^{},]+?),\s*(?=\}$|\s+and\s)")
_NAME_PARTICLE = re.compile(r"(?:^|\band\s+)(?:von|van|de|der|den|del|della|di|da|du|le|la)\s+[A-Z]", re.I)
_FIRST_OF_LIST = ("issn", "isbn")
# A word of a title at brace depth 0: letters, digits and the punctuation inside words; no brace, no command.
_WORD = re.compile(r"[^\s{}\\]+")


def _has_capital_to_keep(word: str, first: bool) -> bool:
    letters = [ch for ch in word if ch.isalpha()]
    if first and letters and letters[0].islower():
        return True  # 'widget, n.': sentence case would capitalise it
    if not any(ch.isupper() for ch in letters):
        return False
    if first:  # the title's own first word keeps its initial anyway: brace it only for capitals inside it
        return any(ch.isupper() for ch in letters[1:])
    return True


def _protect_word(word: str, first: bool) -> str:
    """Braces round each part of a word that carries a capital, not round its punctuation or its lower-case parts
    ('{Epidemic}:', '{IKT}-gestützte'): a style that title-cases may still capitalise the rest."""
    parts = re.split(r"([-–/])", word)
    out = []
    for index, part in enumerate(parts):
        if index % 2 == 0 and part and _has_capital_to_keep(part, first and index == 0):
            core = re.match(r"^(\W*)(.*?)(\W*)$", part)
            part = f"{core.group(1)}{{{core.group(2)}}}{core.group(3)}" if core.group(2) else part
        out.append(part)
    return "".join(out)


def protect_case(raw: str) -> str:
    """The braced value with each top-level word that carries a capital wrapped in braces (see the module)."""
    inner = strip_delimiters(raw)
    out: list[str] = []
    depth, index, first, after_stop = 0, 0, True, False
    while index < len(inner):
        char = inner[index]
        if char == "\\":  # a command or an escaped character, with its argument braces: copied as it stands
            match = re.match(r"\\(?:[A-Za-z]+|.)", inner[index:])
            out.append(match.group(0))
            index += len(match.group(0))
            first = False
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth = max(0, depth - 1)
        if depth == 0 and char not in "{}" and not char.isspace():
            match = _WORD.match(inner, index)
            word = match.group(0)
            if after_stop and word[:1].islower():
                word = f"{{{word}}}"  # '16.09. bis', 'Windows: a case': sentence case would capitalise it
            else:
                word = _protect_word(word, first)
            out.append(word)
            first = False
            after_stop = word.endswith((":", ".", "?", "!"))
            index = match.end()
            continue
        if char not in " \t\n" and depth > 0:
            first = False
        out.append(char)
        index += 1
    return "{" + "".join(out) + "}"


def _one_word_names_braced(raw: str) -> str:
    """A name of one word ('T.J.C', an organisation's acronym) braced: BibTeX would split 'T.J.C' into initials."""
    inner = strip_delimiters(raw)
    if "{" in inner:
        return raw
    names = re.split(r"\s+and\s+", inner)
    return "{" + " and ".join(f"{{{n}}}" if n and not re.search(r"[\s,]", n) and "." in n else n for n in names) + "}"


def _curly_quotes(raw: str) -> str:
    """Paired straight quotes as curly ones, which pandoc's BibTeX reader takes for quotation marks (and flips
    inside a quoted title, as it does from CSL-JSON); to BibTeX a bare " is no quotation mark at all."""
    raw = _STRAIGHT_QUOTES.sub(lambda m: f"“{m.group(1)}”", raw)
    return _SINGLE_QUOTES.sub(lambda m: f"‘{m.group(1)}’", raw)


def allowed_fields(entry_type: str) -> set[str]:
    return _EVERYWHERE | _TYPE_FIELDS.get(entry_type, _TYPE_FIELDS["misc"])


def export_entry(work: Work) -> str:
    """The entry for ``work`` (see the module), in the store's canonical layout."""
    entry_type = work.entry_type if work.entry_type in _TYPE_FIELDS else "misc"
    allowed = allowed_fields(entry_type)
    fields: dict[str, str] = {}
    for name, raw in work.fields.items():
        if name not in allowed:
            continue
        if name == "language":
            fields["langid"] = raw  # what biblatex and pandoc read for hyphenation and (non-English) title case
            continue
        if name in _FIRST_OF_LIST:
            first = re.split(r"[,;\s]+", work.get(name).strip())[0]
            if first:
                fields[name] = encode_value(name, first)
            continue
        if name in ("author", "editor"):
            raw = _one_word_names_braced(_TRAILING_COMMA_NAME.sub(lambda m: f"{m.group(1)}{{{m.group(2)}}}", raw))
        elif name in _PROTECTED:
            raw = protect_case(_curly_quotes(raw))
        elif name in _LITERAL_LISTS:
            raw = re.sub(r"\s+and\s+", " {and} ", raw)
        fields[name] = raw
    pmid, pmcid = work.get("pmid"), work.get("pmcid")
    if (pmid or pmcid) and "eprint" not in fields:
        fields["eprint"] = encode_value("pmid", pmid or pmcid)
        fields["eprinttype"] = "{pubmed}" if pmid else "{pmcid}"
    if any(_NAME_PARTICLE.search(work.get(name)) for name in ("author", "editor")):
        # 'von Gudenberg, J. W.': the particle belongs to the family name, as CSL-JSON's non-dropping particle
        fields["options"] = "{useprefix=true}"
    return format_entry(entry_type, work.key, fields)
