"""`evidence publish`: the article with its citations and list formatted by a style, as Word, HTML or Markdown.

Word output is read back with python-docx (a reader that is not pandoc); LibreOffice converts it to PDF where it is
installed. Crossref is the loopback fake (tests/fakeserver.py).
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from evidence.cite import pandoc


def _paragraphs(path) -> list[str]:
    import docx

    return [p.text for p in docx.Document(str(path)).paragraphs]


def test_publish_to_word_numbers_vancouver_citations_and_lists_the_works_under_references(run, seed, tmp_path):
    out = tmp_path / "nerve-pain.docx"
    result = run("--library", seed, "publish", seed / "articles" / "nerve-pain.md", "--style", "vancouver", "-o", out)
    assert result.exit_code == 0, result.stderr
    text = _paragraphs(out)
    body = "\n".join(text[: text.index("References")])
    assert "still scarce (1)." in body and "(2,3)" in body and "(5)" in body and "@" not in body
    entries = text[text.index("References") + 1 :]
    assert [e.split(".")[0] for e in entries] == ["1", "2", "3", "4", "5"]
    assert entries[0].startswith("1. \tMehta S.") and entries[4].startswith("5. \tHamvas")
    assert "parasympathetic tone" in body  # the article's own words are all there


def test_publish_in_apa_gives_author_date_citations_and_a_sorted_list_in_html(run, seed, tmp_path):
    out = tmp_path / "page.html"
    result = run("--library", seed, "publish", seed / "articles" / "nerve-pain.md", "--to", "html", "-o", out, "--json")
    assert result.exit_code == 0 and result.json()["style"] == "apa" and result.json()["output"] == str(out)
    page = re.sub(r"\s+", " ", re.sub(r"<a\s[^>]*>|</a>", "", out.read_text()))
    assert "(Mehta, 2013)" in page and "(Hamvas et al., 2023)" in page
    listed = re.findall(r'id="ref-([a-z0-9]+)"', page)
    assert listed == sorted(listed)  # author-date: by author, not by citation


def test_publish_replaces_a_hand_typed_list_keeping_it_in_a_comment(run, seed, tmp_path):
    article = tmp_path / "draft.md"
    article.write_text(
        "Scarce evidence [@mehta2013neuropathic].\n\n## References\n\n1. Mehta S. Typed by hand. 2013.\n"
    )
    result = run("--library", seed, "publish", article, "--to", "md", "-o", tmp_path / "out.md", "--json")
    assert result.exit_code == 0 and result.json()["replaced_list"] is True
    assert article.read_text().startswith("Scarce evidence [@mehta2013neuropathic]")  # the source is untouched
    out = run("--library", seed, "publish", article, "--to", "md", "-o", tmp_path / "out.md")
    assert "replaced" in out.stderr
    written = (tmp_path / "out.md").read_text()
    visible = re.sub(r"<!--.*?-->", "", written, flags=re.S)
    assert "Typed by hand" not in visible and "Typed by hand" in written  # kept in a comment, not printed
    assert visible.count("Mehta S") == 0 and visible.count("Mehta, S.") == 1  # APA's entry, once
    docx_out = tmp_path / "draft.docx"
    assert run("--library", seed, "publish", article, "-o", docx_out).exit_code == 0
    assert not any("Typed by hand" in p for p in _paragraphs(docx_out))


def test_publish_marks_a_retracted_work_and_fetches_a_doi_citation(run, library, crossref, tmp_path):
    doi = "10.1038/srep16696"
    crossref.records[doi] = dict(
        crossref.records[doi],
        **{"updated-by": [{"DOI": "10.1038/retraction", "type": "retraction", "source": "publisher"}]},
    )
    article = tmp_path / "a.md"
    article.write_text(f"Oligomers [@doi:{doi}].\n")
    out = tmp_path / "a.docx"
    result = run("--library", library, "publish", article, "--style", "vancouver", "-o", out)
    assert result.exit_code == 0, result.stderr
    text = _paragraphs(out)
    assert "Oligomers (1)." in text
    (entry,) = [p for p in text if "Tosatto" in p]
    assert "[Retracted]" in entry


def test_publish_reads_a_word_article_with_typed_citations(run, seed, tmp_path):
    markdown = (seed / "articles" / "nerve-pain.md").read_text()
    source = tmp_path / "draft.docx"
    source.write_bytes(pandoc.run(["--from=markdown", "--to=docx", "--output=-"], markdown.encode()))
    out = tmp_path / "published.docx"
    result = run("--library", seed, "publish", source, "--style", "ieee", "-o", out, "--json")
    assert result.exit_code == 0, result.stderr
    assert len(result.json()["keys"]) == 5
    body = "\n".join(_paragraphs(out))
    assert "still scarce [1]." in body and "[@" not in body


def test_publish_refuses_to_overwrite_its_source_and_says_what_a_pdf_needs(run, seed, tmp_path):
    article = tmp_path / "a.md"
    article.write_text("Text [@mehta2013neuropathic].\n")
    same = run("--library", seed, "publish", article, "--to", "md")
    assert same.exit_code == 2 and "overwrite" in same.stderr and article.read_text().startswith("Text [@")
    if not any(shutil.which(e) for e in ("pdflatex", "xelatex", "lualatex", "tectonic", "typst", "weasyprint")):
        pdf = run("--library", seed, "publish", article, "--to", "pdf")
        assert pdf.exit_code == 2 and "PDF engine" in pdf.stderr


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice is not installed")
def test_a_published_word_file_converts_to_pdf_in_libreoffice(run, seed, tmp_path):
    out = tmp_path / "nerve-pain.docx"
    assert (
        run("--library", seed, "publish", seed / "articles" / "nerve-pain.md", "-s", "vancouver", "-o", out).exit_code
        == 0
    )
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(out)],
        check=True,
        capture_output=True,
        timeout=180,
    )
    assert (tmp_path / "nerve-pain.pdf").read_bytes().startswith(b"%PDF")


def test_publish_refuses_an_article_that_is_not_utf8_in_a_sentence(run, seed, tmp_path):
    article = tmp_path / "latin1.md"
    article.write_bytes("Caf\u00e9 [@mehta2013neuropathic].\n".encode("latin-1"))
    result = run("--library", seed, "publish", article, "-o", tmp_path / "out.docx")
    assert result.exit_code == 3 and "is not UTF-8" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out.docx").exists()
