"""Running the CSL processor test suite's bibliography fixtures through evidence's engine (``cite.csl.format_list``).

Fixtures: ../shared/test-corpora/csl-test-suite/processor-tests/humans (citation-style-language/test-suite, commit in
its PROVENANCE.txt). A fixture gives a style, CSL-JSON items, the citations that register them and the expected
bibliography in citeproc-js's HTML. evidence's HTML is pandoc's, so the comparison maps pandoc's tags onto the
suite's (``<em>``/``<i>``, ``<strong>``/``<b>``, small caps, ``&#38;``) and drops the links pandoc adds to titles and
DOIs; nothing else is forgiven. Used by tests/test_csl_suite.py (the regression gate) and bench/csl.py (the rate).
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

from evidence.cite import csl

SUITE = Path(__file__).resolve().parents[2] / "shared" / "test-corpora" / "csl-test-suite"
FIXTURES = SUITE / "processor-tests" / "humans"
_SECTION = re.compile(r">>=+ ([A-Z-]+) =+>>\n(.*?)\n<<=+ \1 =+<<", re.DOTALL)


def bibliography_fixtures() -> list[str]:
    listed = SUITE / "bibliography_tests_all.txt"
    if not listed.exists():
        return []
    return [line.strip() for line in listed.read_text().splitlines() if line.strip()]


def sections_of(path: Path) -> dict[str, str]:
    return {name.lower(): body for name, body in _SECTION.findall(path.read_text(encoding="utf-8"))}


def cited_order(sections: dict[str, str], items: list[dict]) -> list[str]:
    """The keys in the order the fixture first cites them (all items, in input order, when it cites none)."""
    order: list[str] = []
    if "citation-items" in sections:
        groups = json.loads(sections["citation-items"])
        order = [str(item["id"]) for group in groups for item in group]
    elif "citations" in sections:
        order = [str(i["id"]) for c in json.loads(sections["citations"]) for i in c[0]["citationItems"]]
    elif "bib-entries" in sections:
        order = [str(key) for key in json.loads(sections["bib-entries"])[-1]]
    else:
        order = [str(item["id"]) for item in items]
    return list(dict.fromkeys(order))


def as_suite_html(fragment: str) -> str:
    """pandoc's HTML entry in the suite's spelling."""
    text = re.sub(r"<a [^>]*>|</a>", "", fragment)
    text = text.replace("<em>", "<i>").replace("</em>", "</i>")
    text = text.replace("<strong>", "<b>").replace("</strong>", "</b>")
    text = text.replace('<span class="smallcaps">', '<span style="font-variant:small-caps;">')
    return text.replace("&amp;", "&#38;")


def normal(html: str) -> str:
    """One line; no space beside a div's tags (the suite and pandoc place the space after an entry's number on
    either side of the tag); a span without attributes (pandoc's wrapper of a quoted group) dropped."""
    text = " ".join(html.replace("&amp;", "&#38;").split())
    text = re.sub(r"<span>(.*?)</span>", r"\1", text)
    return re.sub(r"\s*(</?div[^>]*>)\s*", r"\1", text)


def run_fixture(name: str) -> tuple[str, str]:
    """(what evidence gives, what the suite expects), both as one normalised line of HTML."""
    sections = sections_of(FIXTURES / f"{name}.txt")
    items = json.loads(sections["input"])
    for number, item in enumerate(items):
        item["id"] = str(item.get("id", number))
        item.setdefault("type", "book")
    with tempfile.TemporaryDirectory(prefix="evidence-suite-") as folder:
        path = Path(folder) / "style.csl"
        path.write_text(sections["csl"], encoding="utf-8")
        style = csl.Style(name=name, title=name, path=path, numeric=False)
        entries = csl.format_list(style, items, cited_order(sections, items))
    body = "".join(f'<div class="csl-entry">{as_suite_html(e.html)}</div>' for e in entries)
    got = f'<div class="csl-bib-body">{body}</div>'
    return normal(got), normal(sections["result"])
