"""`evidence refs`: reference lists in any CSL style, from the citations in an article."""

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence.cite import csl
from evidence.cite.article import parse_article
from evidence.cite.refs import insert_list

DATA = Path(__file__).parent / "data"
GOLDEN = DATA / "golden"
SCIENCE = "10.1126/science.169.3946.635"


def science_message() -> dict:
    """Crossref's CSL for the golden work, turned back into the shape of a /works message."""
    item = json.loads((DATA / "csl" / "science.169.3946.635.csl.json").read_text())
    message = dict(item)
    message["title"] = [item["title"]]
    message["container-title"] = [item["container-title"]]
    message["short-container-title"] = [message.pop("container-title-short")]
    return message


def test_the_seed_article_in_apa_matches_the_reviewed_golden_list(run, seed):
    result = run("--library", seed, "refs", seed / "articles" / "nerve-pain.md", "--style", "apa")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (GOLDEN / "nerve-pain.apa.txt").read_text()
    assert "only part of the author list is known" in result.stderr  # Mehta 2013: a note, not a failure


def test_the_seed_article_in_vancouver_is_numbered_in_order_of_citation(run, seed):
    result = run("--library", seed, "refs", seed / "articles" / "nerve-pain.md", "--style", "vancouver")
    assert result.stdout == (GOLDEN / "nerve-pain.vancouver.txt").read_text()
    entries = result.stdout.strip().split("\n\n")
    assert [e.split(".")[0] for e in entries] == ["1", "2", "3", "4", "5"]
    assert entries[0].startswith("1. Mehta S.") and entries[1].startswith("2. Yang Y")
    assert "2023 Oct 24;17:1253438" in entries[1]


def test_a_doi_citation_is_fetched_and_matches_crossrefs_own_apa(run, library, crossref, tmp_path):
    crossref.records[SCIENCE] = science_message()
    article = tmp_path / "water.md"
    article.write_text(f"Water is odd [@doi:{SCIENCE}].\n")
    result = run("--library", library, "refs", article, "--style", "apa")
    assert result.exit_code == 0, result.stderr
    # Crossref's own APA (content negotiation) drops the record's subtitle; APA 7 prints it after a colon, as
    # pandoc does from biblatex's title and subtitle: otherwise the two agree character for character.
    subtitle = ": " + science_message()["subtitle"][0].rstrip(".")
    assert result.stdout.replace(subtitle, "") == (GOLDEN / "science.169.3946.635.crossref-apa.txt").read_text()
    assert subtitle in result.stdout


def test_an_unknown_key_is_reported_with_its_line_and_the_rest_is_listed(run, seed, tmp_path):
    article = tmp_path / "draft.md"
    article.write_text("First [@hamvas2023acupuncture].\n\nThen [@nobody1999; @yang2023application].\n")
    result = run("--library", seed, "refs", article, "--style", "vancouver", "--json")
    assert result.exit_code == 1
    report = result.json()
    assert report["keys"] == ["hamvas2023acupuncture", "yang2023application"]
    problem = next(p for p in report["problems"] if p["key"] == "nobody1999")
    assert problem["line"] == 3 and problem["severity"] == "problem"
    assert "draft.md:3: no work with the key 'nobody1999'" in result.stderr


def test_a_work_missing_what_the_style_needs_is_reported(run, library, tmp_path):
    (library / "references.bib").write_text("@article{bare2020, title = {Just a title}, year = {2020}}\n")
    article = tmp_path / "a.md"
    article.write_text("See @bare2020.\n")
    result = run("--library", library, "refs", article, "--json")
    assert result.exit_code == 1
    messages = [p["message"] for p in result.json()["problems"]]
    assert any("no author" in m for m in messages) and any("no journal" in m for m in messages)


def test_insert_writes_under_the_heading_and_replaces_only_its_own_list(run, seed):
    path = seed / "articles" / "nerve-pain.md"
    original = path.read_text()
    assert run("--library", seed, "refs", path, "--insert", "--style", "vancouver").exit_code == 0
    once = path.read_text()
    assert once.startswith(original.rstrip("\n"))
    assert "<!-- evidence:references -->\n1. Mehta S." in once
    assert run("--library", seed, "refs", path, "--insert", "--style", "apa").exit_code == 0
    twice = path.read_text()
    assert twice.count("<!-- evidence:references -->") == 1
    assert "1. Mehta" not in twice and "Dorsher, P. T., & McIntosh, P. M. (2011)." in twice
    assert twice.split("<!-- evidence:references -->")[0] == once.split("<!-- evidence:references -->")[0]


def test_insert_creates_a_references_heading_when_there_is_none():
    text = "# Title\n\nA claim [@a].\n"
    result, replaced = insert_list(text, "1. A list.\n")
    assert not replaced
    assert result == (
        "# Title\n\nA claim [@a].\n\n## References\n\n<!-- evidence:references -->\n1. A list.\n"
        "<!-- /evidence:references -->\n"
    )
    assert insert_list(result, "2. New.\n")[0].count("References") == 1


def test_the_engine_escapes_markup_expands_ranges_and_survives_an_empty_date():
    items = [
        {
            "id": "x",
            "type": "article-journal",
            "title": "A <script>alert(1)</script> & co",
            "volume": "3",
            "author": [{"family": "Doe", "given": "J"}],
            "page": "1-10",
            "container-title": "J",
            "issued": {"date-parts": [[2017, 11]]},
        },
        {
            "id": "y",
            "type": "article-journal",
            "title": "No date",
            "author": [{"family": "Roe", "given": "J"}],
            "issued": {"date-parts": [[]]},
            "container-title": "J",
        },
    ]
    entries = csl.format_list(csl.resolve_style("vancouver"), items, ["x", "y"])
    assert [e.key for e in entries] == ["x", "y"]
    assert "2017 Nov;3:1–10." in entries[0].text  # not '2017Nov', not '1–0'
    assert entries[0].text.startswith("1. Doe J.")  # a space after the number
    assert entries[1].text.startswith("2. Roe J. No date.")  # an empty date does not crash
    html_entries = [e.html for e in csl.format_list(csl.resolve_style("apa"), items, ["x", "y"])]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in "".join(html_entries)
    assert "<script>" not in "".join(html_entries)


def test_the_lancet_sets_the_number_apart_from_the_first_author(run, seed):
    result = run("--library", seed, "refs", seed / "articles" / "nerve-pain.md", "--style", "the-lancet")
    assert result.stdout.startswith("1 Mehta S.")


def test_the_list_sorts_by_the_languages_alphabet_not_by_code_point():
    items = [
        {"id": key, "type": "book", "title": "T", "author": [{"family": family, "given": "A"}]}
        for key, family in (("z", "Zonta"), ("o", "Órfão"), ("a", "Abel"), ("e", "Émile"))
    ]
    entries = csl.format_list(csl.resolve_style("apa"), items, ["z", "o", "a", "e"])
    assert [e.key for e in entries] == ["a", "e", "o", "z"]


def _pandoc_list(article: Path, csl_json: Path, style: Path, count: int) -> str:
    """pandoc itself, run on the article with the library's CSL-JSON: the last ``count`` paragraphs of its plain
    text are the reference list."""
    from evidence.cite import pandoc

    out = pandoc.run(
        ["--citeproc", f"--bibliography={csl_json}", f"--csl={style}", "--to=plain", "--wrap=none", str(article)]
    ).decode("utf-8")
    return "\n\n".join(out.strip().split("\n\n")[-count:]) + "\n"


@pytest.mark.parametrize("style", ["apa", "vancouver", "ieee", "chicago"])
def test_the_seed_list_is_byte_identical_to_pandocs_own(run, seed, tmp_path, style):
    article = seed / "articles" / "nerve-pain.md"
    exported = tmp_path / "library.json"
    exported.write_text(run("--library", seed, "export", "--format", "csl-json").stdout)
    ours = run("--library", seed, "refs", article, "--style", style)
    assert ours.exit_code == 0, ours.stderr
    assert ours.stdout == _pandoc_list(article, exported, csl.resolve_style(style).path, 5)


def test_html_and_markdown_output_keep_titles_inert_and_link_dois(run, seed, tmp_path):
    (seed / "references.bib").write_text(
        (seed / "references.bib").read_text().replace("modulating HRV", "modulating <script>HRV</script>")
    )
    path = seed / "articles" / "nerve-pain.md"
    page = run("--library", seed, "refs", path, "--format", "html").stdout
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert '<a href="https://doi.org/10.3389/fncel.2023.1253438">' in page
    markdown = run("--library", seed, "refs", path, "--format", "markdown").stdout
    assert "<script>" not in markdown and "*Complementary Therapies in Medicine*" in markdown


def test_bibtex_and_csl_json_formats_hold_the_cited_works(run, seed):
    path = seed / "articles" / "nerve-pain.md"
    bib = run("--library", seed, "refs", path, "--format", "bibtex").stdout
    assert bib.count("@article{") == 5
    items = json.loads(run("--library", seed, "refs", path, "--format", "csl-json").stdout)
    by_id = {item["id"]: item for item in items}
    assert by_id["yang2023application"]["issued"] == {"date-parts": [[2023, 10, 24]]}
    assert by_id["yang2023application"]["number"] == "1253438" and "page" not in by_id["yang2023application"]
    assert by_id["fan2017acupuncture"]["page"] == "411-425"


def test_the_library_default_style_comes_from_evidence_toml(run, seed):
    (seed / "evidence.toml").write_text('[refs]\nstyle = "vancouver"\n')
    out = run("--library", seed, "refs", seed / "articles" / "nerve-pain.md").stdout
    assert out.startswith("1. Mehta S.")
    (seed / "evidence.toml").write_text("[refs\n")
    result = run("--library", seed, "refs", seed / "articles" / "nerve-pain.md")
    assert result.exit_code == 3 and "evidence.toml is not valid TOML" in result.stderr


def test_styles_are_found_by_alias_name_or_title(run):
    assert csl.resolve_style("vancouver").name == "nlm-citation-sequence"
    assert csl.resolve_style("AMA").name == "american-medical-association"
    listed = run("styles", "vancouver", "--json").json()["styles"]
    assert listed[0]["name"] == "nlm-citation-sequence" and len(listed) > 5
    with pytest.raises(Exception, match="no citation style called 'vancover'"):
        csl.resolve_style("vancover")


def test_pandoc_citation_forms_are_all_read():
    article = parse_article(
        "As @smith2020 says [see @a, p. 4; -@b] and [@doi:10.1016/S2095-4964(17)60378-9].\n"
        "Mail me@example.org; `@code` is not a citation.\n"
        "Bare https://doi.org/10.1093/ecam/nep010.\n"
    )
    assert [c.key for c in article.cites] == ["smith2020", "a", "b", "doi:10.1016/S2095-4964(17)60378-9"]
    assert article.cites[1].locator == "p. 4"
    assert article.bare_dois == (("10.1093/ecam/nep010", 3),)
    assert article.cited_in_order()[-1] == "doi:10.1093/ecam/nep010"


_ARTICLE_PIECES = st.sampled_from(
    [
        "[@",
        "@",
        "]",
        "[",
        "{.claim #",
        "}",
        "#",
        "## References\n",
        "References\n",
        "\n",
        " ",
        "; ",
        ", p. 4",
        "doi:",
        "10.1000/",
        "https://doi.org/",
        "(",
        ")",
        "<!-- evidence:references -->",
        "1. ",
        "[3] ",
        "et al.",
        "(2020). ",
        "Smith, J.",
        "\u00e9",
        "\x00",
        "\t",
        "`",
        "*",
        "--",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), st.lists(_ARTICLE_PIECES, max_size=40).map("".join)))
def test_reading_an_article_never_raises_on_any_text(text):
    from evidence.check.refparse import parse_reference, reference_section

    parse_article(text)
    for line, entry in reference_section(text):
        parse_reference(entry, line)
    parse_reference(text)


def test_a_retracted_work_is_marked_in_every_list_and_check_reads_the_marked_list(run, library, crossref, tmp_path):
    doi = "10.1038/srep16696"
    crossref.records[doi] = dict(
        crossref.records[doi],
        **{"updated-by": [{"DOI": "10.1038/retraction", "type": "retraction", "source": "publisher"}]},
    )
    assert run("--library", library, "add", doi, "10.1002/jor.1100150407").exit_code == 0
    article = tmp_path / "a.md"
    article.write_text("Oligomers [@tosatto2015single]. Dogs [@lieber1997growth].\n")
    for style in ("apa", "vancouver"):
        result = run("--library", library, "--offline", "refs", article, "--style", style)
        assert result.exit_code == 0, result.stderr
        lines = [line for line in result.stdout.splitlines() if line.strip()]
        assert [("Tosatto" in line, line.endswith("[Retracted]")) for line in lines if "Tosatto" in line] == [
            (True, True)
        ]
        assert not any(line.endswith("[Retracted]") for line in lines if "Lieber" in line)
    html = run("--library", library, "--offline", "refs", article, "--format", "html").stdout
    assert '<span class="retracted">[Retracted]</span>' in html
    assert run("--library", library, "--offline", "refs", article, "--insert").exit_code == 0
    checked = run("--library", library, "--offline", "check", article, "--json").json()
    statuses = sorted(item["status"] for item in checked["references"])
    assert statuses == ["ok", "retracted"], checked
    (library / "evidence.toml").write_text("[refs]\nmark_retracted = false\n")
    assert "[Retracted]" not in run("--library", library, "--offline", "refs", article).stdout


def test_a_subtitle_is_kept_in_every_list_and_in_csl_json_and_check_accepts_it(run, library, tmp_path):
    (library / "references.bib").write_text(
        "@article{smith2020pain,\n  author = {Smith, Anna},\n  title = {Nerve pain},\n"
        "  subtitle = {What helps and what does not},\n  journal = {Pain Reports},\n  year = {2020},\n"
        "  volume = {5},\n  pages = {1--9},\n}\n\n"
        "@article{jones2021why,\n  author = {Jones, Bo},\n  title = {Why does it hurt?},\n  subtitle = {A primer},\n"
        "  journal = {Pain Reports},\n  year = {2021},\n}\n"
    )
    article = tmp_path / "a.md"
    article.write_text("Pain [@smith2020pain; @jones2021why].\n")
    listing = run("--library", library, "--offline", "refs", article, "--style", "apa").stdout
    assert "Nerve pain: What helps and what does not" in listing and "Why does it hurt? A primer" in listing
    exported = json.loads(run("--library", library, "export", "--format", "csl-json").stdout)
    assert [item["title"] for item in exported] == [
        "Nerve pain: What helps and what does not",
        "Why does it hurt? A primer",
    ]
    assert run("--library", library, "--offline", "refs", article, "--insert").exit_code == 0
    checked = run("--library", library, "--offline", "check", article, "--json").json()
    assert all(not item["problems"] for item in checked["references"]), checked


def test_the_lancet_sets_its_number_apart_and_check_reads_the_list(run, seed, tmp_path):
    article = tmp_path / "a.md"
    article.write_text((seed / "articles" / "nerve-pain.md").read_text())
    result = run("--library", seed, "--offline", "refs", article, "--style", "the-lancet")
    entries = [line for line in result.stdout.splitlines() if line.strip()]
    assert entries[0].startswith("1 Mehta S. ") and entries[1].startswith("2 Yang Y, ")
    from evidence.check.refparse import parse_reference

    assert [parse_reference(entry).first_author for entry in entries[:2]] == ["Mehta", "Yang"]
    assert run("--library", seed, "--offline", "refs", article, "--style", "the-lancet", "--insert").exit_code == 0
    checked = run("--library", seed, "--offline", "check", article, "--json").json()
    assert [item["key"] for item in checked["references"]][:2] == ["mehta2013neuropathic", "yang2023application"]


def test_insert_replaces_a_hand_typed_list_keeps_it_in_a_comment_and_check_reads_only_the_new_one(run, seed, tmp_path):
    markdown = (seed / "articles" / "nerve-pain.md").read_text()
    head = markdown.split("## References")[0] if "## References" in markdown else markdown
    article = tmp_path / "typed.md"
    article.write_text(
        head + "## References\n\n1. Wrong A. A list typed by hand --> and cut short. Pain Rep. 2019;4:1-9.\n"
        "2. Another B. Typed too. 2018.\n\n## Acknowledgements\n\nThanks.\n"
    )
    result = run("--library", seed, "--offline", "refs", article, "--style", "vancouver", "--insert")
    assert result.exit_code == 0, result.stderr
    assert "hand-typed list under the References heading was replaced" in result.stderr
    text = article.read_text()
    assert text.count("Wrong A. A list typed by hand") == 1 and "<!-- evidence: the hand-typed list" in text
    assert text.index("Wrong A.") < text.index("<!-- evidence:references -->")
    assert text.rstrip().endswith("## Acknowledgements\n\nThanks.")
    checked = run("--library", seed, "--offline", "check", article, "--json").json()
    assert "Wrong" not in json.dumps(checked) and "Another" not in json.dumps(checked)
    again = run("--library", seed, "--offline", "refs", article, "--style", "vancouver", "--insert")
    assert "hand-typed" not in again.stderr and article.read_text().count("Wrong A.") == 1


def test_a_journals_dependent_style_formats_with_its_parent_and_its_own_locale(run, seed, tmp_path):
    nature_medicine = csl.resolve_style("Nature Medicine")  # the journal's name, as a practitioner types it
    assert (nature_medicine.name, nature_medicine.path.name, nature_medicine.locale) == (
        "nature-medicine",
        "nature.csl",
        "en-GB",
    )
    article = seed / "articles" / "nerve-pain.md"
    exported = tmp_path / "library.json"
    exported.write_text(run("--library", seed, "export", "--format", "csl-json").stdout)
    ours = run("--library", seed, "refs", article, "--style", "nature-medicine").stdout
    from evidence.cite import pandoc

    theirs = pandoc.run(
        [
            "--citeproc",
            f"--bibliography={exported}",
            f"--csl={nature_medicine.path}",
            "--metadata=lang:en-GB",
            "--to=plain",
            "--wrap=none",
            str(article),
        ]
    ).decode()
    assert ours == "\n\n".join(theirs.strip().split("\n\n")[-5:]) + "\n"
    dependent_file = csl.styles_dir() / "dependent" / "journal-of-clinical-pathology.csl"
    copied = tmp_path / "jcp.csl"
    copied.write_bytes(dependent_file.read_bytes())  # a dependent .csl handed in as a file resolves to its parent too
    assert csl.resolve_style(str(copied)).path == csl.resolve_style("journal of clinical pathology").path
    listed = run("styles", "clinical", "pathology", "--json").json()["styles"]
    assert "journal-of-clinical-pathology" in [s["name"] for s in listed]


def test_a_list_begun_and_cancelled_leaves_no_pandoc_running_and_no_files(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # TMPDIR read again
    item = {"id": "a", "type": "book", "title": "A book", "issued": {"date-parts": [[2020]]}}
    pending = csl.start_list(csl.resolve_style("apa"), [item], ["a"], ("text",))
    running = pending._running._process
    pending.cancel()
    assert running.poll() is not None
    assert list(tmp_path.iterdir()) == []
    done = csl.start_list(csl.resolve_style("apa"), [item], ["a"], ("text",))
    assert [entry.key for entry in done.entries()] == ["a"]
    assert list(tmp_path.iterdir()) == []


def test_a_list_drawn_from_the_library_alone_never_loads_the_http_stack(seed):
    """`refs` online on an article whose works are all in the library: the Crossref client (and requests with it)
    is built only when a cited DOI must be fetched, so the command does not pay for an HTTP stack it never uses."""
    import subprocess
    import sys

    article = seed / "articles" / "nerve-pain.md"
    probe = (
        "import sys\n"
        "from evidence.cli.main import main\n"
        f"sys.argv = ['evidence', '--library', {str(seed)!r}, 'refs', {str(article)!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('LOADED' if 'requests' in sys.modules else 'NOT LOADED', file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert "Hamvas" in done.stdout, done.stderr
    assert done.stderr.strip().endswith("NOT LOADED"), done.stderr
