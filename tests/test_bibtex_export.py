"""`evidence export` (BibTeX) and `refs --format bibtex`: entries a BibTeX or biblatex user would write.

Titles brace-protected so no style re-cases them, only the fields biber's data model gives the entry type, one ISSN
and ISBN per field, and pandoc reading the export gives the list it gives from the CSL-JSON export. Material: the
real Crossref records of tests/data/roundtrip/ and tests/data/crossref/ (PROVENANCE.txt in each).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_trust import _library_of, records

from evidence.cite import csl, pandoc
from evidence.store.bibfile import parse_bibtex
from evidence.store.bibtex_export import allowed_fields, protect_case

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize(
    ("stored", "exported"),
    [
        ("{Instability of Rayleigh-Taylor flows}", "{Instability of {Rayleigh}-{Taylor} flows}"),
        ("{HRV and mRNA in Streptomyces}", "{{HRV} and {mRNA} in {Streptomyces}}"),
        ("{Acupuncture increases parasympathetic tone}", "{Acupuncture increases parasympathetic tone}"),
        ("{widget, n.}", "{{widget}, n.}"),
        ("{Pain relief: a review}", "{Pain relief: {a} review}"),
        ("{Museum vom 16.09. bis 16.12.2007}", "{Museum vom 16.09. {bis} 16.12.2007}"),
        ("{The {LaTeX} way and \\textit{E. coli}}", "{The {LaTeX} way and \\textit{E. coli}}"),
        ("{Costs of the Opioid Epidemic: Evidence}", "{Costs of the {Opioid} {Epidemic}: {Evidence}}"),
    ],
)
def test_a_title_keeps_every_capital_it_was_given_and_its_own_braces(stored, exported):
    assert protect_case(stored) == exported


def _unquoted(text: str) -> str:
    return text.translate(str.maketrans("“”‘’", "\"\"''"))


@pytest.fixture(scope="module")
def works_library(tmp_path_factory):
    return _library_of(tmp_path_factory.mktemp("export"), records() + records(DATA / "crossref"))


def test_the_export_holds_only_fields_the_entry_type_has_and_one_identifier_per_field(run, works_library):
    library, keys = works_library
    stored = {w.key: w for w in parse_bibtex((library / "references.bib").read_text()).works}
    exported = parse_bibtex(run("--library", library, "export").stdout).works
    assert sorted(w.key for w in exported) == sorted(keys)
    assert any("," in w.get("issn") for w in stored.values())  # the records do carry print and electronic ISSNs
    for work in exported:
        assert set(work.fields) <= allowed_fields(work.entry_type), work.key
        assert "," not in work.get("issn") and "," not in work.get("isbn")
        original = stored[work.key]
        assert _unquoted(work.title) == _unquoted(original.title), work.key  # quotes become curly ones
        assert _unquoted(work.get("subtitle")) == _unquoted(original.get("subtitle"))
        assert work.get("eid") == original.get("eid")
    assert any(w.get("publisher") for w in stored.values() if w.entry_type == "article")  # dropped from @article


@pytest.mark.parametrize("style", ["apa", "vancouver", "ieee", "chicago"])
def test_pandoc_reads_the_bibtex_export_as_it_reads_the_csl_json(run, works_library, tmp_path, style):
    """Identical entries, but for the two things pandoc's BibTeX reader cannot take: an article number (it has no
    ``eid``: the export also gives it as ``pages``, so the number is printed, though not as 'Article N') and a
    @misc's ``howpublished`` (read as a publisher, not a container). And in a style that title-cases (Chicago), a
    lower-case word after a colon: the export braces it, because pandoc's reader would otherwise capitalise it in
    every other style ('Motif, the basics: an overview'), so Chicago cannot capitalise it either."""
    library, keys = works_library
    works = {w.key: w for w in parse_bibtex((library / "references.bib").read_text()).works}
    bib, json_file, article = tmp_path / "x.bib", tmp_path / "x.json", tmp_path / "a.md"
    bib.write_text(run("--library", library, "export").stdout)
    json_file.write_text(run("--library", library, "export", "--format", "csl-json").stdout)
    args = ["--citeproc", f"--csl={csl.resolve_style(style).path}", "--to=plain", "--wrap=none", str(article)]
    differ = []
    for key in keys:  # one work at a time, so a difference in one cannot shift the order of the others
        article.write_text(f"[@{key}]\n")
        from_bib = pandoc.run([*args, f"--bibliography={bib}"]).decode().split("\n\n")[-1]
        from_json = pandoc.run([*args, f"--bibliography={json_file}"]).decode().split("\n\n")[-1]
        if from_bib != from_json:
            differ.append(key)
    explained = {
        k
        for k in differ
        if works[k].get("eid")
        or works[k].entry_type == "misc"
        or (style == "chicago" and re.search(r"[:.?!]\s+[a-z]", works[k].title))
    }
    assert set(differ) == explained, [k for k in differ if k not in explained]
    assert len(differ) <= 8


def test_a_crossref_title_keeps_its_italics_in_the_library_the_csl_json_the_bibtex_and_the_list(run, library, tmp_path):
    record = DATA / "crossref" / "10.1136_jclinpath-2020-206745.json"
    assert run("--library", library, "--offline", "import", record).exit_code == 0
    stored = (library / "references.bib").read_text()
    assert "detecting \\textit{KRAS} / \\textit{NRAS}" in stored
    (item,) = __import__("json").loads(run("--library", library, "export", "--format", "csl-json").stdout)
    assert "detecting <i>KRAS</i> / <i>NRAS</i>" in item["title"]
    assert "\\textit{KRAS}" in run("--library", library, "export").stdout
    article = tmp_path / "a.md"
    article.write_text(f"A panel [@{item['id']}].\n")
    assert "<em>KRAS</em>" in run("--library", library, "refs", article, "--format", "html").stdout
    plain = run("--library", library, "refs", article, "--style", "vancouver").stdout
    assert "detecting KRAS / NRAS" in plain
    hit = run("--library", library, "search", "KRAS", "--json").json()["hits"][0]
    assert "KRAS / NRAS" in hit["title"]  # search and show see the text, not the markup
