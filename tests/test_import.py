"""`evidence import`: .bib, CSL-JSON and Crossref JSON/JSONL files join the library, DOI or not."""

import json
from pathlib import Path

from bibcheck import read_both

DATA = Path(__file__).parent / "data"


def test_a_bib_file_keeps_its_keys_and_its_string_macros_are_written_out(run, library):
    result = run("--library", library, "import", DATA / "bibtex" / "article_with_strings.bib")
    assert result.exit_code == 0, result.stderr
    entry = read_both(library / "references.bib")["Cesar2013"]
    assert entry["author"] == "Jean César"  # jean # " " # cesar, resolved because the library lacks the @strings
    assert entry["journal"] == "Nice Journal"
    assert entry["pages"] == "12-23"


def test_works_without_a_doi_are_imported_and_clashing_keys_get_a_suffix(run, library):
    run("--library", library, "import", DATA / "bibtex" / "article_with_strings.bib")
    result = run("--library", library, "import", DATA / "bibtex" / "multiple_entries_and_comments.bib", "--json")
    assert result.exit_code == 0
    assert result.json()["added"] == ["Yablon2005", "Wigner1938", "Toto3000"]
    result = run("--library", library, "import", DATA / "bibtex" / "article_missing_coma.bib", "--json")
    assert result.json()["added"][0] == "Cesar2013a"
    assert len(read_both(library / "references.bib")) == 8


def test_importing_the_same_file_twice_adds_works_with_a_doi_once(run, library):
    bib = DATA / "bibtex" / "multiple_entries_and_comments.bib"
    run("--library", library, "import", bib)
    second = run("--library", library, "import", bib, "--json").json()
    assert "Wigner1938" in second["present"]


def test_csl_json_from_content_negotiation_maps_type_journal_and_abstract(run, library):
    result = run("--library", library, "import", DATA / "csl" / "science.169.3946.635.csl.json")
    assert result.exit_code == 0, result.stderr
    entry = read_both(library / "references.bib")["frank1970structure"]
    assert entry["journal"] == "Science" and entry["pages"] == "635--641" and entry["year"] == "1970"
    assert entry["abstract"].startswith("The train of thought") and "<jats" not in entry["abstract"]
    assert entry["url"] == "https://doi.org/10.1126/science.169.3946.635"


def test_csl_json_items_keep_their_id_as_key(run, library, tmp_path):
    items = [
        {
            "id": "smith-notes",
            "type": "report",
            "title": "Clinic notes on nerve pain",
            "issued": {"date-parts": [[2024]]},
            "author": [{"family": "Smith", "given": "Ann"}, {"literal": "Victoria Pain Clinic"}],
        },
        {
            "id": "van-der-berg",
            "type": "article-journal",
            "title": "Nerve glide exercises",
            "container-title": "Physio Journal",
            "author": [{"family": "Berg", "non-dropping-particle": "van der", "given": "Jan"}],
            "page": "10-19",
            "volume": "3",
        },
    ]
    source = tmp_path / "items.json"
    source.write_text(json.dumps(items))
    result = run("--library", library, "import", source, "--json")
    assert result.json()["added"] == ["smith-notes", "van-der-berg"]
    bib = read_both(library / "references.bib")
    assert bib["smith-notes"]["author"] == "Smith, Ann and Victoria Pain Clinic"
    assert bib["van-der-berg"]["author"] == "van der Berg, Jan" and bib["van-der-berg"]["pages"] == "10--19"


def test_crossref_jsonl_with_messages_and_bare_works_stores_records_too(run, library, tmp_path):
    records = sorted((DATA / "crossref").glob("*.json"))[:3]
    works = [json.loads(p.read_text()) for p in records]
    lines = [
        json.dumps({"status": "ok", "message-type": "work", "message": works[0]}),
        json.dumps(works[1]),
        "",
        json.dumps({"source_cassette": "x", "work": works[2]}),
    ]
    source = tmp_path / "works.jsonl"
    source.write_text("\n".join(lines) + "\n")
    result = run("--library", library, "import", source, "--json")
    assert result.exit_code == 0, result.stderr
    assert len(result.json()["added"]) == 3
    bib = read_both(library / "references.bib")
    assert {entry["doi"] for entry in bib.values()} == {w["DOI"].lower() for w in works}
    assert len(list((library / "records").glob("*.json"))) == 3


def test_a_crossref_api_answer_saved_as_json_is_imported(run, library, tmp_path):
    work = json.loads((DATA / "crossref" / "10.1038_srep16696.json").read_text())
    source = tmp_path / "answer.json"
    source.write_text(json.dumps({"status": "ok", "message-type": "work", "message": work}))
    result = run("--library", library, "import", source, "--json")
    key = result.json()["added"][0]
    entry = read_both(library / "references.bib")[key]
    assert entry["pages"] == "16696" and entry["journal"] == "Scientific Reports"


def test_broken_json_is_refused_with_its_line_and_the_library_is_untouched(run, library, tmp_path):
    source = tmp_path / "broken.jsonl"
    source.write_text('{"DOI": "10.1234/a", "title": ["A"]}\n{"DOI": \n')
    before = (library / "references.bib").read_bytes()
    result = run("--library", library, "import", source)
    assert result.exit_code == 3
    assert "line 2" in result.stderr and "Traceback" not in result.stderr
    assert (library / "references.bib").read_bytes() == before


def test_a_file_that_is_not_utf8_is_refused_with_a_sentence(run, library, tmp_path):
    source = tmp_path / "latin.bib"
    source.write_bytes("@article{a, title={Caf\u00e9}}".encode("cp1252"))
    result = run("--library", library, "import", source)
    assert result.exit_code == 3
    assert "UTF-8" in result.stderr
