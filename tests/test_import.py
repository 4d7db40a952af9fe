"""`evidence import`: .bib, CSL-JSON and Crossref JSON/JSONL files join the library, DOI or not."""

import json
from pathlib import Path

import pytest
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


# A large import is written in batches (``jobs.imports.BATCH``) and indexed in rounds of segments
# (``SearchIndex.REBUILD_ROUND``); the tests make both tiny, so that a dozen works cross several of each.


def _works(count: int, start: int = 0) -> list[dict]:
    return [
        {
            "id": f"bulk{number}",
            "type": "article-journal",
            "title": f"Graded exposure trial {number} in quokkapain",
            "abstract": f"Sentence {number} about nerve gliding and zebrafinchword{number}.",
            "DOI": f"10.5555/bulk.{number}",
        }
        for number in range(start, start + count)
    ]


def _small_batches(monkeypatch, batch: int = 3, segment: int = 4) -> None:
    from evidence.index.search_index import SearchIndex
    from evidence.jobs import imports

    monkeypatch.setattr(imports, "BATCH", batch)
    monkeypatch.setattr(SearchIndex, "REBUILD_ROUND", segment)


def _import_mixture(tmp_path, run, folder: str, repeat: tuple[int, int]):
    """The seed library, then a file of 13 works: new ones, one with the DOI of a seed work under its own key (an
    alias), one repeating a DOI of the same file (``repeat``: (where, of which)), one whose key is taken."""
    import shutil

    from conftest import ROOT

    from evidence.store.folder import Store

    library = tmp_path / folder
    shutil.copytree(ROOT / "library", library, ignore=shutil.ignore_patterns(".index", ".lock"))
    seed_work = next(work for work in Store(library).load_bib().works if work.doi)
    items = _works(10)
    items.insert(4, {"id": "seedalias", "type": "article-journal", "title": seed_work.title, "DOI": seed_work.doi})
    items.insert(repeat[0], {**items[repeat[1]], "id": "again"})
    items.append({**_works(1, 50)[0], "id": seed_work.key})
    source = tmp_path / f"{folder}-source" / "works.json"
    source.parent.mkdir()
    source.write_text(json.dumps(items))
    assert run("--library", library, "search", "nerve").exit_code == 0  # an index to build on
    result = run("--library", library, "import", source, "--json")
    assert result.exit_code == 1, result.stderr  # 1: it has told of the two aliases
    return library, result.json()


@pytest.mark.parametrize("repeat", [(2, 1), (8, 2)], ids=["alias-in-its-batch", "alias-in-a-later-batch"])
def test_an_import_written_in_batches_gives_the_library_and_the_search_that_one_write_gives(
    run, tmp_path, monkeypatch, repeat
):
    from evidence.store.bibfile import parse_bibtex
    from evidence.store.folder import Store

    whole, whole_report = _import_mixture(tmp_path, run, "whole", repeat)
    # Several rounds of index segments where only the answers are compared: segments of a few documents each are
    # merged by Whoosh's own policy, which drops the document an alias replaced from the statistics, so the scores
    # differ from one write's in the last digits.
    _small_batches(monkeypatch, segment=100 if repeat == (2, 1) else 4)
    batched, batched_report = _import_mixture(tmp_path, run, "batched", repeat)
    assert batched_report == whole_report
    assert "seedalias" not in batched_report["added"] and len(batched_report["added"]) == 11
    assert (batched / "references.bib").read_bytes() == (whole / "references.bib").read_bytes()
    rows = Store(batched).load_bib()  # from the derived rows the batches wrote
    assert rows.works == parse_bibtex((batched / "references.bib").read_text()).works
    for query in ("quokkapain", "zebrafinchword9", "zebrafinchword50", "nerve", "seedalias", "again"):
        found = run("--library", batched, "search", query, "--limit", "20", "--json").json()
        expected = run("--library", whole, "search", query, "--limit", "20", "--json").json()
        assert {hit["key"] for hit in found["hits"]} == {hit["key"] for hit in expected["hits"]}
        # The same scores and order too, unless a later batch gave a work already written an alias: Whoosh counts
        # the document it replaced in its statistics until its segments are merged.
        if repeat == (2, 1):
            assert found == expected
    assert len(run("--library", batched, "search", "quokkapain", "--limit", "50", "--json").json()["hits"]) == 11
    assert not list(batched.glob(".references.bib.append"))


def test_an_import_that_fails_part_way_leaves_the_library_and_the_search_as_they_were(run, seed, tmp_path, monkeypatch):
    _small_batches(monkeypatch, batch=2, segment=3)
    assert run("--library", seed, "search", "nerve").exit_code == 0
    before = (seed / "references.bib").read_bytes()
    searched = run("--library", seed, "search", "nerve", "--json").json()
    items = json.dumps(_works(7), indent=1)
    source = tmp_path / "broken.json"
    source.write_text(items[: items.rindex("}")] + ', "title": }\n]')  # the last work is not JSON
    result = run("--library", seed, "import", source)
    assert result.exit_code == 3
    assert "line" in result.stderr and "Traceback" not in result.stderr
    assert (seed / "references.bib").read_bytes() == before
    assert not (seed / ".references.bib.append").exists()
    assert run("--library", seed, "search", "quokkapain", "--json").json()["hits"] == []
    assert run("--library", seed, "search", "nerve", "--json").json() == searched


def test_a_reader_while_a_bulk_import_appends_sees_the_library_as_it_was_and_writes_nothing(run, seed):
    import sqlite3

    from evidence.store import append
    from evidence.store.folder import Store

    assert run("--library", seed, "search", "nerve").exit_code == 0
    before = (seed / "references.bib").read_bytes()
    store = Store(seed)
    derived = seed / ".index" / "library.sqlite"
    rows_before = sqlite3.connect(derived).execute("SELECT * FROM blocks ORDER BY seq").fetchall()
    with store.locked():  # as the importing command holds it
        append.begin(store.bib_path)
        append.append(store.bib_path, b"\n@article{halfway, title = {Quokkapain halfway}}\n")
        read = Store(seed).load_bib()
        assert read.render().encode() == before and read.appending_elsewhere
        assert run("--library", seed, "search", "quokkapain", "--json").json()["hits"] == []
        assert sqlite3.connect(derived).execute("SELECT * FROM blocks ORDER BY seq").fetchall() == rows_before
        append.end(store.bib_path)
    assert "halfway" in [work.key for work in Store(seed).load_bib().works]  # once ended, it stands


def test_an_import_killed_part_way_is_undone_by_the_next_command(seed, tmp_path):
    """A real import in its own process, killed once some batches are on disk and before it ends; the next command
    (a search, which reads only) finds the file as it was and none of the imported works."""
    import os
    import signal
    import subprocess
    import sys
    import time

    source = tmp_path / "many.json"
    source.write_text(json.dumps(_works(9000)))
    env = {**os.environ, "EVIDENCE_SEMANTIC": "off"}
    evidence = [sys.executable, "-m", "evidence", "--library", str(seed)]
    subprocess.run([*evidence, "search", "nerve"], env=env, check=True, capture_output=True)
    before = (seed / "references.bib").read_bytes()
    journal = seed / ".references.bib.append"
    process = subprocess.Popen([*evidence, "import", str(source)], env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (journal.exists() and (seed / "references.bib").stat().st_size > len(before) + 100_000):
            assert process.poll() is None, "the import ended before two batches were on disk"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    found = subprocess.run([*evidence, "search", "quokkapain", "--json"], env=env, capture_output=True, text=True)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["hits"] == []
    assert (seed / "references.bib").read_bytes() == before
    assert not journal.exists()


def test_a_bib_file_imported_in_parts_gives_the_library_one_part_gives(run, tmp_path, monkeypatch):
    import shutil

    from conftest import ROOT

    libraries = []
    for folder, batch in (("whole", 10**6), ("parts", 1)):
        library = tmp_path / folder
        shutil.copytree(ROOT / "library", library, ignore=shutil.ignore_patterns(".index", ".lock"))
        monkeypatch.setattr("evidence.jobs.imports.BATCH", batch)
        for name in ("multiple_entries_and_comments.bib", "article_with_strings.bib", "article_missing_coma.bib"):
            result = run("--library", library, "import", DATA / "bibtex" / name, "--json")
            assert result.exit_code in (0, 1), result.stderr
            libraries.append(result.json())
        libraries.append((library / "references.bib").read_bytes())
    assert libraries[:4] == libraries[4:]


def test_a_utf16_bibtex_file_without_a_bib_suffix_is_read_as_bibtex(run, library, tmp_path):
    source = tmp_path / "exported.references"
    source.write_bytes("\ufeff@article{utf16work, title = {Read from UTF-16}}\n".encode("utf-16-le"))
    result = run("--library", library, "import", source, "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["added"] == ["utf16work"]
