"""Every verdict true: what refs writes check accepts, nothing imported is lost, hostile metadata stays harmless.

One test per finding of the trust review (issue 17), each named for the behaviour it proves. Crossref is the fake
on 127.0.0.1 (tests/fakeserver.py); the twenty real records of tests/data/roundtrip/ (PROVENANCE.txt there) are the
material for the reference-list round trips.
"""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import bibtexparser
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pybtex.database import parse_string as pybtex_parse

from evidence.store import bibtex
from evidence.store.bibfile import parse_bibtex

ROUNDTRIP = Path(__file__).parent / "data" / "roundtrip"
ALIASES = ["apa", "vancouver", "ama", "harvard", "ieee", "chicago", "nature", "mla"]


def records(folder: Path = ROUNDTRIP) -> list[dict]:
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.json"))]


def _library_of(root: Path, messages: list[dict]) -> tuple[Path, list[str]]:
    """A library of these Crossref records (imported as Crossref JSON, so each record is stored) and their keys."""
    from evidence.cli.main import main

    lines = root / "works.jsonl"
    lines.write_text("\n".join(json.dumps(message) for message in messages), encoding="utf-8")
    library = root / "lib"
    for args in (["init", library], ["--library", library, "--offline", "import", lines]):
        try:
            main([str(a) for a in args])
        except SystemExit as done:
            assert done.code in (0, None)
    keys = [block.work.key for block in parse_bibtex((library / "references.bib").read_text()).blocks if block.work]
    assert len(keys) == len(messages)
    return library, keys


@pytest.fixture(scope="module")
def twenty(tmp_path_factory):
    """The twenty real journal articles of tests/data/roundtrip/, built once for the module."""
    return _library_of(tmp_path_factory.mktemp("twenty"), records())


def _article(tmp_path: Path, keys: list[str]) -> Path:
    article = tmp_path / "article.md"
    article.write_text("# Draft\n\n" + " ".join(f"A finding [@{k}]." for k in keys) + "\n\n## References\n\n")
    return article


def _statuses(result) -> dict[str, int]:
    return result.json()["summary"]


# ---------------------------------------------------------------------------------------------------------------------
# 1. What the tool writes, the tool accepts


@pytest.mark.parametrize("alias", ALIASES)
def test_a_list_inserted_by_refs_in_every_style_checks_with_no_mismatch(run, twenty, tmp_path, alias):
    library, keys = twenty
    article = _article(tmp_path, keys)
    assert run("--library", library, "--offline", "refs", article, "--style", alias, "--insert").exit_code == 0
    result = run("--library", library, "--offline", "check", article, "--json")
    assert _statuses(result) == {"ok": 20}, [r for r in result.json()["references"] if r["status"] != "ok"]
    assert result.exit_code == 0


@pytest.mark.parametrize("alias", ALIASES)
@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_a_list_printed_by_refs_in_every_style_and_format_checks_with_no_mismatch(run, twenty, tmp_path, alias, fmt):
    library, keys = twenty
    article = _article(tmp_path, keys)
    printed = run("--library", library, "--offline", "refs", article, "--style", alias, "--format", fmt)
    assert printed.exit_code == 0
    article.write_text(article.read_text() + printed.stdout)
    result = run("--library", library, "--offline", "check", article, "--json")
    assert _statuses(result) == {"ok": 20}, [r for r in result.json()["references"] if r["status"] != "ok"]


def test_chapters_proceedings_reports_and_datasets_round_trip_in_every_style_too(run, tmp_path):
    """The other kinds of work a practitioner cites, from tests/data/crossref/ (an anonymous book chapter, a
    conference paper, a report, a CRAN package, a preprint, articles): listed and checked in every alias."""
    messages = records(Path(__file__).parent / "data" / "crossref")
    library, keys = _library_of(tmp_path, messages)
    for alias in ALIASES:
        for fmt in ("markdown", "text"):
            article = _article(tmp_path, keys)
            printed = run("--library", library, "--offline", "refs", article, "--style", alias, "--format", fmt)
            article.write_text(article.read_text() + printed.stdout)
            result = run("--library", library, "--offline", "check", article, "--json")
            bad = [r for r in result.json()["references"] if r["status"] != "ok"]
            assert _statuses(result) == {"ok": len(keys)}, (alias, fmt, bad)


def test_the_bibtex_export_checks_with_no_mismatch_and_names_each_entry_by_key(run, twenty, tmp_path):
    library, keys = twenty
    exported = tmp_path / "export.bib"
    assert run("--library", library, "export", "-o", exported).exit_code == 0
    result = run("--library", library, "--offline", "check", exported, "--json")
    assert _statuses(result) == {"ok": 20}
    assert sorted(item["key"] for item in result.json()["references"]) == sorted(keys)
    shown = run("--library", library, "--offline", "check", exported).stdout
    assert all(key in shown for key in keys)


def test_a_cited_article_number_agrees_with_a_record_that_also_has_pages():
    from evidence.check.compare import compare_reference
    from evidence.check.refparse import parse_reference

    message = next(m for m in records() if m["DOI"].lower() == "10.1017/s0269964801153015")
    assert message["page"] == "295-310" and message["article-number"] == "S0269964801153015"
    for written in (
        "Kawanishi K, Takahashi Y. Performance analysis. Prob Eng Inf Sci. 2001;15(3):S0269964801153015.",
        "Kawanishi K, Takahashi Y. Performance analysis. Prob Eng Inf Sci. 2001;15(3):295-310.",
    ):
        comparison = compare_reference(parse_reference(written), message)
        assert comparison.status == "ok" and "pages" in comparison.agree, written
    wrong = compare_reference(
        parse_reference("Kawanishi K. Performance analysis. Prob Eng Inf Sci. 2001;15(3):296."), message
    )
    assert [p.field for p in wrong.problems] == ["pages"]


@pytest.mark.parametrize(
    ("cited", "family", "agree"),
    [
        ("MASIDE X", "MASIDE", True),
        ("Maside", "MASIDE", True),
        ("F. B. Rosmej", "ROSMEJ", True),
        ("Berg", "van der Berg", True),
        ("de la Cruz", "Cruz", True),
        ("Smith", "Smyth", False),
        ("Maside Lopez", "Maside", True),
        ("Lopez", "Maside", False),
    ],
)
def test_a_family_name_printed_with_initials_or_particles_is_the_records_first_author(cited, family, agree):
    from evidence.check.compare import names_agree
    from evidence.model import Person

    assert names_agree(cited, Person(family=family, given="X")) is agree


def test_report_and_check_give_the_same_verdict_on_the_same_written_list(run, twenty, tmp_path):
    library, keys = twenty
    article = _article(tmp_path, keys[:3])
    run("--library", library, "--offline", "refs", article, "--style", "vancouver", "--insert")
    text = article.read_text()
    first = parse_bibtex((library / "references.bib").read_text()).by_key(keys[0])
    volume = first.get("volume")
    assert f";{volume}(" in text or f";{volume}:" in text
    article.write_text(text.replace(f";{volume}", ";999", 1))
    checked = {
        i["key"]: i for i in run("--library", library, "--offline", "check", article, "--json").json()["references"]
    }
    reported = run("--library", library, "--offline", "report", article, "--json")
    assert reported.exit_code == 1
    in_report = {c["key"]: c for c in reported.json()["checks"]}
    assert checked[keys[0]]["status"] == in_report[keys[0]]["status"] == "mismatch"
    assert (
        checked[keys[0]]["problems"]
        == in_report[keys[0]]["problems"]
        == [{"field": "volume", "cited": "999", "found": volume}]
    )
    assert all(in_report[k]["status"] == checked[k]["status"] == "ok" for k in keys[1:3])


def test_references_without_a_doi_are_matched_to_the_library_offline_and_to_crossref_online(
    run, twenty, tmp_path, crossref
):
    library, keys = twenty
    article = _article(tmp_path, keys)
    run("--library", library, "--offline", "refs", article, "--style", "nature", "--insert")
    assert "doi" not in article.read_text().split("## References")[1].lower()  # Nature's list prints no DOIs
    offline = run("--library", library, "--offline", "check", article, "--json").json()["references"]
    assert {i["matched_by"] for i in offline} == {"library"} and {i["status"] for i in offline} == {"ok"}
    # Online, in a library that lacks the works, Crossref's bibliographic search finds them.
    crossref.records.update({m["DOI"].lower(): m for m in records()})
    empty = tmp_path / "empty"
    run("init", empty)
    online = run("--library", empty, "check", article, "--json").json()["references"]
    found = [i for i in online if i["matched_by"] == "bibliographic"]
    assert len(found) >= 15 and all(i["status"] == "ok" and i["suggested_doi"] == i["doi"] for i in found)
    assert crossref.requests_to("query")


def test_a_reference_without_doi_that_matches_nothing_is_not_checked_and_fails_the_check(run, library, tmp_path):
    article = tmp_path / "a.md"
    article.write_text("# A\n\n## References\n\n1. Nobody A. A work nobody wrote. J Nowhere. 2020;1(1):1-2.\n")
    result = run("--library", library, "--offline", "check", article, "--json")
    assert result.exit_code == 1
    (item,) = result.json()["references"]
    assert item["status"] == "not-checked" and "no DOI" in item["warnings"][0]


# ---------------------------------------------------------------------------------------------------------------------
# 2. Verdicts that mean what they say


def test_a_report_whose_references_were_not_checked_is_not_ready_and_fails_only_with_strict(run, seed, tmp_path):
    article = seed / "articles" / "nerve-pain.md"
    page = tmp_path / "r.html"
    result = run("--library", seed, "--offline", "report", article, "--html", page)
    assert result.exit_code == 0
    assert result.stdout.startswith("nerve-pain.md: not checked (5 of 5 references have no stored record)")
    assert "ready" not in result.stdout.splitlines()[0]
    html = page.read_text()
    assert 'class="verdict warn-box">nerve-pain.md: not checked (5 of 5' in html and "verdict ok" not in html
    assert run("--library", seed, "--offline", "report", article, "--strict").exit_code == 1


def test_an_article_with_references_but_no_dois_is_not_ready(run, library, tmp_path):
    article = tmp_path / "a.md"
    article.write_text(
        "# A\n\nText.\n\n## References\n\n"
        + "".join(f"{n}. Author{n} A. Title number {n} of a work. J Test. 2020;{n}:1-2.\n" for n in range(1, 5))
    )
    result = run("--library", library, "--offline", "report", article, "--json")
    assert result.json()["verdict"] == "not checked"
    assert "4 of 4 references have no DOI and match no work" in result.json()["verdict_line"]


def test_a_report_whose_references_all_pass_says_weak_evidence_when_claims_rest_on_narrative_reviews(
    run, seed, tmp_path, crossref
):
    from test_check import seed_messages

    crossref.records.update(seed_messages())
    result = run("--library", seed, "report", seed / "articles" / "nerve-pain.md", "--json")
    data = result.json()
    assert [c["status"] for c in data["checks"]] == ["ok"] * 5
    assert data["verdict"] == "weak evidence" and result.exit_code == 0
    assert data["verdict_line"].startswith("weak evidence (3 claims rest only on weak designs)")
    assert run("--library", seed, "report", seed / "articles" / "nerve-pain.md", "--strict").exit_code == 1


def _age_record(library: Path, doi: str, days: int) -> None:
    from datetime import UTC, datetime, timedelta

    from evidence.store.folder import Store

    store = Store(library)
    envelope = store.read_record(doi)
    fetched = datetime.now(UTC) - timedelta(days=days)
    store.write_record(doi, envelope["message"], source=envelope["source"], fetched=fetched)


def test_a_stale_record_is_fetched_again_online_so_a_later_retraction_is_seen(run, library, crossref, tmp_path):
    doi = "10.1002/jor.1100150407"
    assert run("--library", library, "add", doi).exit_code == 0
    _age_record(library, doi, 45)
    crossref.records[doi] = dict(
        crossref.records[doi], **{"updated-by": [{"DOI": "10.1/notice", "type": "retraction"}]}
    )
    result = run("--library", library, "check", doi, "--json")
    assert result.json()["references"][0]["status"] == "retracted" and result.exit_code == 1
    # A record younger than the library's max_age_days is trusted as it is.
    (library / "evidence.toml").write_text("[check]\nmax_age_days = 60\n")
    _age_record(library, doi, 45)
    crossref.log.clear()
    run("--library", library, "check", doi)
    assert not crossref.requests_to("work") and not crossref.requests_to("list")


def test_add_refresh_says_what_changed_in_the_record(run, library, crossref):
    doi = "10.1002/jor.1100150407"
    run("--library", library, "add", doi)
    crossref.records[doi] = dict(
        crossref.records[doi], volume="16", **{"updated-by": [{"DOI": "10.1/notice", "type": "retraction"}]}
    )
    result = run("--library", library, "add", "--refresh", doi, "--json")
    (outcome,) = result.json()["outcomes"]
    assert outcome["status"] == "updated"
    assert "now retracted" in outcome["message"] and "volume corrected (15 -> 16)" in outcome["message"]
    again = run("--library", library, "add", "--refresh", doi, "--json").json()["outcomes"][0]
    assert again["status"] == "present" and again["message"] == "the record is unchanged"


def test_offline_the_check_says_how_old_the_records_it_relied_on_are(run, library, crossref):
    doi = "10.1002/jor.1100150407"
    run("--library", library, "add", doi)
    _age_record(library, doi, 61)
    result = run("--library", library, "--offline", "check", doi)
    assert "offline: checked against stored records; the oldest was fetched" in result.stdout
    assert "(61 days ago)" in result.stdout


def _ledger_library(run, library: Path, crossref, passage: str, locator: str) -> Path:
    doi = "10.1002/jor.1100150407"
    run("--library", library, "add", doi)
    key = parse_bibtex((library / "references.bib").read_text()).works[0].key
    (library / "claims.toml").write_text(
        f'[claims.c]\ntext = "Dogs got stronger."\n\n[[claims.c.support]]\nkey = "{key}"\nstance = "supports"\n'
        f'passage = "{passage}"\nlocator = "{locator}"\n'
    )
    return library


def test_a_made_up_passage_is_shown_as_a_paraphrase_with_a_warning_not_as_a_quote(run, library, crossref):
    _ledger_library(run, library, crossref, "Beagles grew wings after the treatment.", "abstract")
    result = run("--library", library, "claims")
    assert "paraphrase: Beagles grew wings after the treatment. (abstract)" in result.stdout
    assert "“Beagles" not in result.stdout
    assert "is not found in its abstract; shown as a paraphrase" in result.stdout
    view = run("--library", library, "claims", "--json").json()["claims"][0]["supports"][0]
    assert view["passage_found"] == "not found"


def test_a_passage_the_abstract_says_is_a_quote_and_a_near_one_is_marked_close(run, library, crossref):
    from evidence.store.folder import Store

    _ledger_library(run, library, crossref, "placeholder", "abstract")
    abstract = Store(library).load_bib().works[0].get("abstract")
    sentence = abstract.split(". ")[1]
    for passage, found in ((sentence, "exact"), (sentence.replace(" the ", " a ", 1), "close")):
        _ledger_library(run, library, crossref, passage.replace('"', "'"), "abstract, results")
        view = run("--library", library, "claims", "--json").json()["claims"][0]["supports"][0]
        assert view["passage_found"] == found, passage


def test_link_stores_no_title_as_a_passage_and_names_where_a_passage_came_from(run, library, crossref):
    import tomllib

    from evidence.store.folder import Store

    run("--library", library, "add", "10.1038/srep16696")
    work = Store(library).load_bib().works[0]
    claim = work.get("abstract").split(". ")[0]  # words the abstract has: suggest shows an abstract sentence
    assert run("--library", library, "suggest", claim, "--claim", "t", "--link", work.key).exit_code == 0
    (support,) = tomllib.loads((library / "claims.toml").read_text())["claims"]["t"]["support"]
    assert support["locator"] == "abstract" and support["passage"] in work.get("abstract")
    # Without an abstract or note, the only passage suggest can show is the title: it is not stored.
    text = (library / "references.bib").read_text()
    start = text.index("  abstract = {")
    end = text.index("},\n", start) + 3
    (library / "references.bib").write_text(text[:start] + text[end:])
    shown = run("--library", library, "suggest", work.title, "--json").json()["hits"][0]["passage"]
    assert shown.replace("**", "") in work.title
    run("--library", library, "suggest", work.title, "--claim", "u", "--link", work.key)
    (support,) = tomllib.loads((library / "claims.toml").read_text())["claims"]["u"]["support"]
    assert "passage" not in support and "locator" not in support


def test_the_readme_main_job_shows_no_passage_as_an_abstract_quote(run, seed, tmp_path):
    out = run("--library", seed, "--offline", "report", seed / "articles" / "nerve-pain.md").stdout
    assert "(abstract" not in out and "paraphrase:" not in out
    assert out.count("” (note)") == 8  # every passage of the ledger, each found in its note


# ---------------------------------------------------------------------------------------------------------------------
# 3. Import loses nothing


def test_an_entry_that_names_a_field_twice_is_imported_with_its_first_value_and_a_warning(run, library, tmp_path):
    source = tmp_path / "dup.bib"
    source.write_text("@article{dup2020,\n  title = {First},\n  year = {2020},\n  title = {Second},\n}\n")
    result = run("--library", library, "import", source)
    assert "dup.bib line 4: in 'dup2020', the field 'title' is given again; the first value is used." in result.stderr
    work = parse_bibtex((library / "references.bib").read_text()).by_key("dup2020")
    assert work is not None and work.title == "First" and work.year == "2020"


def test_a_second_key_for_the_same_doi_is_kept_as_an_alias_that_refs_show_and_check_resolve(run, library, tmp_path):
    source = tmp_path / "two.bib"
    source.write_text(
        "@article{smith2020, title = {Nerve repair}, author = {Smith, A.}, journal = {J Pain}, year = {2020},"
        " doi = {10.1/abc}}\n"
        "@article{smith2020nerve, title = {Nerve repair}, author = {Smith, A.}, journal = {J Pain}, year = {2020},"
        " doi = {10.1/ABC}}\n"
    )
    result = run("--library", library, "import", source)
    assert "smith2020nerve is smith2020 (same DOI); smith2020nerve is kept as its alias (ids)" in result.stderr
    assert "ids = {smith2020nerve}" in (library / "references.bib").read_text()
    assert run("--library", library, "show", "smith2020nerve", "--json").json()["key"] == "smith2020"
    article = tmp_path / "a.md"
    article.write_text("As shown [@smith2020nerve].\n")
    listing = run("--library", library, "--offline", "refs", article)
    assert listing.exit_code == 0 and "Nerve repair" in listing.stdout
    checked = run("--library", library, "--offline", "check", article, "--json").json()["references"]
    assert [i["key"] for i in checked] == ["smith2020"]


def test_a_chapter_that_carries_its_books_doi_is_its_own_work(run, library, tmp_path):
    source = tmp_path / "book.bib"
    source.write_text(
        "@book{book2019, title = {Handbook of Pain}, editor = {Lee, K.}, year = {2019}, doi = {10.1/book}}\n"
        "@incollection{chapter2019, title = {Acupuncture}, author = {Ng, B.}, booktitle = {Handbook of Pain},"
        " year = {2019}, doi = {10.1/book}}\n"
    )
    result = run("--library", library, "import", source, "--json")
    assert result.json()["added"] == ["book2019", "chapter2019"]
    assert "chapter2019 shares the DOI 10.1/book with book2019 but is another work" in result.stderr


def test_a_zotero_items_citation_key_becomes_its_key_and_its_uri_does_not(run, library, tmp_path):
    source = tmp_path / "zotero.json"
    items = [
        {
            "id": "http://zotero.org/users/1/items/ABCD",
            "citation-key": "mehta2013",
            "type": "article-journal",
            "title": "Neuropathic pain",
            "PMID": "23671364",
            "PMCID": "PMC3584795",
            "issued": {"date-parts": [[2013]]},
        },
        {"id": "http://zotero.org/users/1/items/EFGH", "type": "book", "title": "Pain", "ISBN": "9780000000001"},
    ]
    source.write_text(json.dumps(items))
    added = run("--library", library, "import", source, "--json").json()["added"]
    assert added[0] == "mehta2013" and "zotero" not in added[1]
    exported = {
        item["id"]: item for item in json.loads(run("--library", library, "export", "--format", "csl-json").stdout)
    }
    assert exported["mehta2013"]["PMID"] == "23671364" and exported["mehta2013"]["PMCID"] == "PMC3584795"
    assert exported[added[1]]["ISBN"] == "9780000000001"
    bib = (library / "references.bib").read_text()
    assert "pmid = {23671364}" in bib and "pmcid = {PMC3584795}" in bib and "isbn = {9780000000001}" in bib


def test_preamble_and_comment_blocks_of_an_imported_file_are_kept(run, library, tmp_path):
    source = tmp_path / "cyr.bib"
    source.write_text(
        '@preamble{"\\providecommand{\\bibcyr}{\\relax}"}\n@comment{jabref-meta: databaseType:bibtex;}\n'
        "@article{ivanov2001, title = {{\\bibcyr Title}}, year = {2001}}\n"
    )
    run("--library", library, "import", source)
    text = (library / "references.bib").read_text()
    assert '@preamble{"\\providecommand{\\bibcyr}{\\relax}"}' in text
    assert "@comment{jabref-meta: databaseType:bibtex;}" in text
    run("--library", library, "import", source)  # importing again adds no second copy
    assert (library / "references.bib").read_text().count("@preamble") == 1


# ---------------------------------------------------------------------------------------------------------------------
# 4. Hostile data stays harmless


HOSTILE_URL = 'https://evil.example/"><script>alert(1)</script>'


def _hostile(crossref) -> str:
    doi = "10.5555/hostile"
    crossref.records[doi] = {
        "DOI": doi,
        "type": "journal-article",
        "title": [
            '&lt;script&gt;alert("t")&lt;/script&gt; A \x1b]0;owned\x07 title\x00 with {lone brace and \\ backslash'
        ],
        "author": [{"family": "Smith}, note = {forged", "given": "Ann"}, {"family": "Lee\\", "given": "B}"}],
        "container-title": ["J <b>Bold</b>"],
        "URL": HOSTILE_URL,
        "published-print": {"date-parts": [[2020]]},
        "volume": "1",
        "page": "1-2",
    }
    return doi


def test_a_hostile_record_can_neither_forge_a_field_nor_break_any_bibtex_reader(run, library, crossref):
    doi = _hostile(crossref)
    assert run("--library", library, "add", doi).exit_code == 0
    text = (library / "references.bib").read_text()
    assert "\x00" not in text and "\x1b" not in text
    parsed = bibtexparser.parse_string(text)
    assert not parsed.failed_blocks and len(parsed.entries) == 1
    assert "note" not in {f.key for f in parsed.entries[0].fields}
    strict = pybtex_parse(text, "bibtex")  # pybtex raises on any unbalanced brace
    entry = next(iter(strict.entries.values()))
    assert "note" not in entry.fields and len(entry.persons["author"]) == 2
    work = parse_bibtex(text).works[0]
    # Braces and backslashes are BibTeX's syntax, never part of a person's name: they are dropped from names.
    assert [(p.family, p.given) for p in work.authors] == [("Smith, note = forged", "Ann"), ("Lee", "B")]
    assert work.title == '<script>alert("t")</script> A ]0;owned title with {lone brace and \\ backslash'
    # the file stays readable, so a second add finds the work instead of appending another copy
    assert run("--library", library, "add", doi).exit_code == 0
    assert (library / "references.bib").read_text().count("@article{") == 1


def test_hostile_links_and_markup_are_escaped_in_every_html_output(run, library, crossref, tmp_path):
    doi = _hostile(crossref)
    run("--library", library, "add", doi)
    key = parse_bibtex((library / "references.bib").read_text()).works[0].key
    bib = (library / "references.bib").read_text()
    # A work with no DOI and a javascript: or quote-breaking URL, as an imported file may carry.
    bib += "\n@misc{js2020, title = {Click}, year = {2020}, url = {javascript:alert(1)}}\n"
    bib += '\n@misc{quote2020, title = {Quote}, year = {2020}, url = {https://x.example/"onmouseover="alert(1)}}\n'
    bib += '\n@misc{baddoi2020, title = {Bad DOI}, year = {2020}, doi = {10.1/x"><img src=x onerror=alert(1)>}}\n'
    (library / "references.bib").write_text(bib)
    article = tmp_path / "a.md"
    article.write_text(f"See [@{key}] [@js2020] [@quote2020] [@baddoi2020].\n")
    listing = run("--library", library, "--offline", "refs", article, "--format", "html").stdout
    page = tmp_path / "r.html"
    run("--library", library, "--offline", "report", article, "--html", page)
    for html in (listing, page.read_text()):
        assert "<script>" not in html and "<img" not in html and "<b>" not in html
        assert "javascript:" not in html.lower().replace("alert(1)", "")
        assert 'href="https://x.example/"' not in html and "onmouseover=" not in html.replace("&quot;", "")
        for href in __import__("re").findall(r'href="([^"]*)"', html):
            assert href.startswith("https://doi.org/10."), href


def test_a_nul_byte_in_a_record_never_makes_the_library_binary(run, library, crossref):
    doi = _hostile(crossref)
    run("--library", library, "add", doi)
    assert b"\x00" not in (library / "references.bib").read_bytes()
    assert run("--library", library, "search", "lone").exit_code == 0


def test_a_redirect_to_another_doi_never_overwrites_that_works_record(run, library, crossref):
    from evidence.store.folder import Store

    victim, alias = "10.1038/srep16696", "10.5555/alias-of-victim"
    run("--library", library, "add", victim)
    before = Store(library).read_record(victim)["message"]
    crossref.aliases[alias] = victim
    crossref.script[victim] = ["poisoned"]  # the answer reached through the redirect claims the victim is retracted
    result = run("--library", library, "add", alias, "--json")
    assert result.json()["outcomes"][0]["status"] == "present"
    store = Store(library)
    assert store.read_record(alias)["message"].get("updated-by")  # kept under the DOI that was asked for
    assert store.read_record(victim)["message"] == before  # the victim's record is only ever its own answer
    assert run("--library", library, "check", victim, "--json").json()["references"][0]["status"] == "ok"


@pytest.mark.parametrize(
    ("action", "status", "said"),
    [
        ("bomb", "bad-answer", "larger than 32 MB"),
        ("huge", "bad-answer", "larger than 32 MB"),
    ],
)
def test_an_answer_too_large_to_be_a_record_is_refused_and_nothing_is_stored(
    run, library, crossref, action, status, said
):
    doi = "10.1002/jor.1100150407"
    crossref.script[doi] = [action] * 5
    crossref.script["*list*"] = [action] * 5
    result = run("--library", library, "add", doi, "--json")
    (outcome,) = result.json()["outcomes"]
    assert outcome["status"] == status and said in outcome["message"]
    assert not list((library / "records").glob("*.json"))


def test_a_server_that_drips_its_answer_is_abandoned_at_the_deadline():
    from fakeserver import FakeCrossref

    from evidence.sources.crossref import CrossrefClient
    from evidence.sources.http import Unreachable

    server = FakeCrossref().start()
    try:
        doi = "10.1002/jor.1100150407"
        server.script[doi] = ["drip"]
        client = CrossrefClient(server.url, server.url, deadline=1.5, max_attempts=1)
        started = time.monotonic()
        with pytest.raises(Unreachable, match="took longer than 2 s"):
            client.work(doi)
        assert time.monotonic() - started < 10
    finally:
        server.stop()


PATHOLOGICAL = ["10.1010", "@{", "A. ", "<", "<!--", "[x]{", "<!DOCTYPE [", "<![CDATA[", "<title>", "[@", "(2020"]


def _seconds(function, text: str) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        function(text)
        best = min(best, time.perf_counter() - started)
    return best


@pytest.mark.parametrize("unit", PATHOLOGICAL)
def test_reading_articles_and_stripping_markup_take_time_in_proportion_to_the_input(unit):
    """Quadratic regular expressions made 100 KB of '10.1010.1010...' or '<' take 6-34 s. Each reader must scale
    linearly: sixteen times the input may cost at most 64 times the time (linear is sixteen, quadratic 256, so a
    busy machine's noise cannot decide it), and 128 KB stays under five seconds even on a slow machine."""
    from evidence.check.checking import references_in
    from evidence.cite.article import parse_article
    from evidence.sources.jats import html_to_text, jats_to_text

    readers = [parse_article, jats_to_text, html_to_text, lambda t: references_in("# References\n\n" + t, "a.md")]
    for reader in readers:
        small = unit * (8_000 // len(unit))
        large = unit * (128_000 // len(unit))
        large_seconds = _seconds(reader, large)
        ratio = large_seconds / max(_seconds(reader, small), 1e-4)
        assert ratio < 64 and large_seconds < 5.0, (unit, reader, ratio)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab {}\\\\%&$#_~^\"',.é")), min_size=1, max_size=30))
def test_any_text_written_as_a_bibtex_value_reads_back_the_same_in_bibtexparser_and_pybtex(value):
    entry = bibtex.format_entry("article", "k", {"title": bibtex.encode_value("title", value), "year": "{2020}"})
    parsed = bibtexparser.parse_string(entry)
    written = " ".join(bibtex.encode_value("title", value)[1:-1].split())
    assert not parsed.failed_blocks and " ".join(parsed.entries[0]["title"].split()) == written
    assert " ".join(pybtex_parse(entry, "bibtex").entries["k"].fields["title"].split()) == written
    assert parse_bibtex(entry).works[0].title == " ".join(value.split())


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(alphabet=st.sampled_from(list("ab {},\\\\ &")), min_size=1, max_size=12),
            st.text(alphabet=st.sampled_from(list("ab {},\\\\.")), max_size=8),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_any_author_list_written_from_a_record_reads_back_as_the_same_people(people):
    from evidence.sources.crossref_map import names

    raw = names([{"family": family, "given": given} for family, given in people])
    entry = bibtex.format_entry("article", "k", {"author": bibtex.encode_value("author", raw), "year": "{2020}"})
    assert not bibtexparser.parse_string(entry).failed_blocks
    pybtex_parse(entry, "bibtex")  # no exception: balanced
    read = parse_bibtex(entry).works[0].authors

    def plain(part: str) -> str:  # braces and backslashes are BibTeX's syntax: a name never keeps them
        return " ".join(part.replace("{", "").replace("}", "").replace("\\", "").split())

    expected = [(plain(f), plain(g)) for f, g in people]
    expected = [(f, g) if f else (g, "") for f, g in expected]  # no family name: the rest is one literal name
    got = [(p.family or (p.literal if p.literal else ""), p.given) for p in read]
    assert [e for e in expected if e[0] or e[1]] == [g for g in got], (raw, entry)


def test_escape_sequences_in_metadata_never_reach_the_terminal(run, library, crossref):
    doi = _hostile(crossref)
    for args in (("add", doi), ("search", "title"), ("show", doi), ("check", doi)):
        result = run("--library", library, *args)
        assert "\x1b" not in result.stdout + result.stderr and "\x07" not in result.stdout, args
    shown = run("--library", library, "show", doi, "--json")
    assert "\x1b" not in shown.stdout and json.loads(shown.stdout)
    # A file written by another tool may hold them already: they are still never printed raw.
    bib = library / "references.bib"
    bib.write_text(
        bib.read_text() + "\n@article{esc2020, title = {Esc \x1b]52;c;cGF5bG9hZA==\x07 \u202eevil}, year = {2020}}\n"
    )
    for args in (("show", "esc2020"), ("search", "Esc"), ("show", "esc2020", "--json")):
        result = run("--library", library, *args)
        assert result.exit_code == 0 and "Esc" in result.stdout, args
        assert not {"\x1b", "\x07", "\u202e"} & set(result.stdout + result.stderr), args


@pytest.mark.parametrize(
    "ledger",
    [
        'claims = { c = { text = "Claim.", support = [ { key = "x", stance = "supports" } ] } }\n',
        '[claims.c]\ntext = "Claim."\nsupport = [ { key = "x", stance = "supports" } ]\n',
        '[claims]\nc = { text = "Claim." }\n',
        '[claims.c]\ntext = "Claim."\n\n[[claims.c.support]]\nkey = "x"\nstance = "supports"\n',
    ],
)
def test_linking_keeps_claims_toml_valid_in_every_layout_toml_allows(run, library, crossref, ledger):
    import tomllib

    run("--library", library, "add", "10.1038/srep16696")
    key = parse_bibtex((library / "references.bib").read_text()).works[0].key
    (library / "claims.toml").write_text(ledger)
    result = run("--library", library, "suggest", "--claim", "c", "--link", key)
    assert result.exit_code == 0, result.stderr
    supports = tomllib.loads((library / "claims.toml").read_text())["claims"]["c"]["support"]
    assert key in [s["key"] for s in supports]


def test_linking_into_a_support_that_is_no_list_changes_nothing_and_says_why(run, library, crossref):
    run("--library", library, "add", "10.1038/srep16696")
    key = parse_bibtex((library / "references.bib").read_text()).works[0].key
    ledger = '[claims.c]\ntext = "Claim."\nsupport = "x"\n'
    (library / "claims.toml").write_text(ledger)
    result = run("--library", library, "suggest", "--claim", "c", "--link", key)
    assert result.exit_code == 3
    assert "claims.toml line 1: a support of claim 'c' has no citation key." in result.stderr
    assert (library / "claims.toml").read_text() == ledger


def test_writes_keep_the_files_mode_and_write_through_a_symlink(run, library, crossref, tmp_path):
    real = tmp_path / "shared-refs.bib"
    bib = library / "references.bib"
    real.write_text(bib.read_text())
    bib.unlink()
    bib.symlink_to(real)
    os.chmod(real, 0o644)
    assert run("--library", library, "add", "10.1038/srep16696").exit_code == 0
    assert bib.is_symlink() and "srep16696" in real.read_text()
    assert stat.S_IMODE(real.stat().st_mode) == 0o644


# ---------------------------------------------------------------------------------------------------------------------
# 5. The --json contract


def test_check_json_has_the_specified_shape(run, library, crossref, tmp_path):
    article = tmp_path / "a.md"
    article.write_text(
        "# A\n\n## References\n\n"
        "1. Lieber RL. Growth hormone secretagogue increases muscle strength. J Orthop Res. 1997;16(4):510. "
        "doi:10.1002/jor.1100150407\n"
        "2. Nobody N. Nothing. J None. 2020. doi:10.5555/not-registered\n"
    )
    data = run("--library", library, "check", article, "--json").json()
    assert set(data) >= {"references", "summary"}
    for item in data["references"]:
        assert set(item) >= {"doi", "cited", "status", "problems", "warnings", "suggested_doi"}
    first = data["references"][0]
    assert first["status"] == "mismatch" and first["cited"].startswith("Lieber RL.")
    assert {"field": "volume", "cited": "16", "found": "15"} in first["problems"]
    assert data["summary"] == {"mismatch": 1, "not-found": 1}


def test_global_options_work_before_or_after_the_command(run, library, crossref):
    run("--library", library, "add", "10.1038/srep16696")
    before = run("--library", library, "--offline", "--json", "check", "10.1038/srep16696")
    after = run("check", "10.1038/srep16696", "--offline", "--library", library, "--json")
    assert before.exit_code == after.exit_code == 0
    assert before.json()["summary"] == after.json()["summary"] == {"ok": 1}
