"""Regression gate: the CSL processor test suite's bibliography fixtures that citeproc-py 0.11.1 passes must still
pass with evidence's fixes to citeproc-py applied (date delimiters, page ranges).

Fixtures: ../shared/test-corpora/csl-test-suite/ (citation-style-language/test-suite, processor-tests/humans). The
list of fixtures citeproc-py passes unpatched is bibliography_tests_citeproc_py_passes.txt there. The runner follows
citeproc-py's own tests/citeproc-test.py: same registration of citations, same sorting, same comparison.
"""

import io
import json
import re
import warnings
from pathlib import Path

import pytest

from evidence.cite.csl import _patch_citeproc

SUITE = Path(__file__).resolve().parents[2] / "shared" / "test-corpora" / "csl-test-suite"
FIXTURES = SUITE / "processor-tests" / "humans"
PASSING = SUITE / "bibliography_tests_citeproc_py_passes.txt"
_SECTION = re.compile(r">>=+ ([A-Z-]+) =+>>\n(.*?)\n<<=+ \1 =+<<", re.DOTALL)

pytestmark = pytest.mark.skipif(not PASSING.exists(), reason="../shared/test-corpora is not beside the checkout")


# These two fail under this runner with or without evidence's fixes (checked unpatched, 2026-11-28): their locale
# terms and leading-article sorting depend on details of citeproc-py's own harness that this runner does not copy.
RUNNER_DIFFERS = {"label_EditorTranslator1", "sort_LeadingA"}


def names():
    if not PASSING.exists():
        return []
    return [n for n in (line.strip() for line in PASSING.read_text().splitlines()) if n and n not in RUNNER_DIFFERS]


def run_fixture(path: Path) -> tuple[list[str], list[str]]:
    from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
    from citeproc.source import Locator
    from citeproc.source.json import CiteProcJSON

    sections = {name.lower(): body for name, body in _SECTION.findall(path.read_text(encoding="utf-8"))}
    data = json.loads(sections["input"])
    for number, item in enumerate(data):
        item.setdefault("id", number)
        item.setdefault("type", "book")

    def item_of(raw: dict) -> CitationItem:
        options = {}
        key = ""
        for name, value in raw.items():
            if name == "id":
                key = str(value)
            elif name == "locator":
                options["locator"] = Locator(raw.get("label", "page"), value)
            elif name != "label":
                options[name.replace("-", "_")] = value
        return CitationItem(key, **options)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        style = CitationStylesStyle(io.BytesIO(sections["csl"].encode("utf-8")), validate=False)
        bibliography = CitationStylesBibliography(style, CiteProcJSON(data), formatter.html)
        if "citation-items" in sections:
            citations = [Citation([item_of(i) for i in group]) for group in json.loads(sections["citation-items"])]
        elif "citations" in sections:
            citations = [
                Citation([item_of(i) for i in c[0]["citationItems"]]) for c in json.loads(sections["citations"])
            ]
        elif "bib-entries" in sections:
            citations = [Citation([item_of({"id": e}) for e in json.loads(sections["bib-entries"])[-1]])]
        else:
            citations = [Citation([item_of({"id": item["id"]}) for item in data])]
        for citation in citations:
            bibliography.register(citation)
        if style.has_bibliography():
            bibliography.sort()
        lines = ['<div class="csl-bib-body">']
        lines += [f'  <div class="csl-entry">{entry}</div>' for entry in bibliography.bibliography()]
        lines.append("</div>")
    got = [line.replace("&amp;", "&#38;") for chunk in lines for line in chunk.split("\n")]
    return got, sections["result"].splitlines()


@pytest.mark.parametrize("name", names())
def test_citeproc_fixture_still_passes_with_our_fixes(name):
    _patch_citeproc()
    got, expected = run_fixture(FIXTURES / f"{name}.txt")
    assert got == expected
