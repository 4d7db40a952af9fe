"""`evidence search`: BM25F over title, abstract, annotation, keywords, authors and journal, with marked passages."""

import shutil

import pytest

ADDED = [
    "10.1002/jor.1100150407",
    "10.1038/srep16696",
    "10.1111/ele.14024",
    "10.1002/ajmg.b.31237",
    "10.1136/jclinpath-2020-206745",
    "10.1111/2041-210x.12469",
]


@pytest.fixture
def filled(run, library, crossref):
    assert run("--library", library, "add", *ADDED).exit_code == 0
    return library


def keys(result):
    return [hit["key"] for hit in result.json()["hits"]]


def test_a_word_found_only_in_an_abstract_finds_its_work(run, filled):
    result = run("--library", filled, "search", "beagles", "--json")
    assert result.exit_code == 0, result.stderr
    hit = result.json()["hits"][0]
    assert hit["key"] == "lieber1997growth"
    assert "**beagles**" in hit["snippet"].lower()


def test_a_phrase_must_match_in_order(run, filled):
    assert keys(run("--library", filled, "search", '"sleep apnea"', "--json"))[0] == "hamlin2011sleep"
    assert keys(run("--library", filled, "search", '"apnea sleep"', "--json")) == []


def test_field_queries_search_only_that_field(run, filled):
    by_author = keys(run("--library", filled, "search", "author:boettiger", "--json"))
    assert set(by_author) == {"boettiger2022forecast", "boettiger2016rnexml"}
    by_journal = keys(run("--library", filled, "search", 'journal:"scientific reports"', "--json"))
    assert by_journal == ["tosatto2015single"]


def test_boolean_operators_combine_terms(run, filled):
    both = keys(run("--library", filled, "search", "phylogenetic AND package", "--json"))
    assert both == ["boettiger2016rnexml"]
    without = keys(run("--library", filled, "search", "boettiger NOT forecast", "--json"))
    assert without == ["boettiger2016rnexml"]


def test_a_title_match_outranks_the_same_word_in_an_abstract(run, filled):
    hits = keys(run("--library", filled, "search", "forecast", "--json"))
    assert hits[0] == "boettiger2022forecast"


@pytest.mark.parametrize("query", ['"unclosed phrase', "(nerve OR pain", "nerve AND", "colour:red", "   "])
def test_a_malformed_query_gets_one_sentence_and_exit_3(run, filled, query):
    result = run("--library", filled, "search", query)
    assert result.exit_code == 3
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_limit_caps_the_number_of_hits(run, filled):
    query = "muscle OR alpha OR genes OR pathology OR phylogenetic OR species"
    assert len(keys(run("--library", filled, "search", query, "--json"))) > 2  # more than the limit match
    assert len(keys(run("--library", filled, "search", query, "-n", "2", "--json"))) == 2
    assert run("--library", filled, "search", query, "-n", "0").exit_code == 2


def test_the_index_is_rebuilt_when_deleted_damaged_or_stale(run, filled):
    shutil.rmtree(filled / ".index")
    assert keys(run("--library", filled, "search", "beagles", "--json")) == ["lieber1997growth"]
    for segment in (filled / ".index").glob("*.seg"):
        segment.write_bytes(b"garbage")
    for toc in (filled / ".index").glob("*.toc"):
        toc.write_bytes(b"garbage")
    assert keys(run("--library", filled, "search", "beagles", "--json")) == ["lieber1997growth"]
    text = (filled / "references.bib").read_text()
    (filled / "references.bib").write_text(text.replace("beagles", "foxhounds"))
    assert keys(run("--library", filled, "search", "foxhounds", "--json")) == ["lieber1997growth"]
    assert keys(run("--library", filled, "search", "beagles", "--json")) == []


def test_the_embedded_library_answers_nerve_growth_factor_with_the_yang_review(run, seed):
    result = run("--library", seed, "search", "nerve growth factor", "--json")
    assert keys(result)[0] == "yang2023application"
    assert "**nerve** **growth** **factor**" in result.json()["hits"][0]["snippet"]


def test_a_question_mark_ending_a_natural_question_is_not_a_wildcard(run, seed):
    result = run("--library", seed, "search", "what supports nerve repair?")
    assert result.exit_code == 0
    assert result.stdout.startswith("1. yang2023application")


def test_parasympathetic_tone_finds_the_meta_analysis(run, seed):
    assert keys(run("--library", seed, "search", "parasympathetic", "--json"))[0] == "hamvas2023acupuncture"


def test_show_and_export_give_the_stored_work(run, seed):
    shown = run("--library", seed, "show", "https://doi.org/10.1016/j.ctim.2022.102905", "--json").json()
    assert shown["key"] == "hamvas2023acupuncture" and shown["fields"]["volume"] == "72"
    csl = run("--library", seed, "export", "--format", "csl-json").stdout
    import json

    items = {item["id"]: item for item in json.loads(csl)}
    assert items["fan2017acupuncture"]["page"] == "411-425"
    assert items["yang2023application"]["container-title"] == "Frontiers in Cellular Neuroscience"
    from evidence.store.bibfile import parse_bibtex

    exported = {w.key: w for w in parse_bibtex(run("--library", seed, "export").stdout).works}
    stored = {w.key: w for w in parse_bibtex((seed / "references.bib").read_text()).works}
    assert exported.keys() == stored.keys()
    for key, work in stored.items():  # the export protects case with braces; the text it stands for is the same
        assert (exported[key].title, exported[key].doi, exported[key].year) == (work.title, work.doi, work.year)
    assert run("--library", seed, "show", "nobody2020").exit_code == 3


def test_an_export_written_a_work_at_a_time_is_what_one_dump_of_every_work_gives(run, seed, tmp_path):
    import json

    from evidence.cite.csl_map import work_to_csl
    from evidence.store.bibtex_export import export_entry
    from evidence.store.folder import Store
    from evidence.store.latex import marked_fields

    works = Store(seed).load_bib().works
    items = [work_to_csl(work, marked_fields(work)) for work in works]
    expected = json.dumps(items, ensure_ascii=False, indent=2) + "\n"
    assert run("--library", seed, "export", "--format", "csl-json").stdout == expected
    output = tmp_path / "out.json"
    assert run("--library", seed, "export", "--format", "csl-json", "-o", output).exit_code == 0
    assert output.read_text(encoding="utf-8") == expected
    bib = run("--library", seed, "export").stdout
    assert bib == "\n\n".join(export_entry(work) for work in works) + "\n"
    empty = tmp_path / "empty"
    run("init", empty)
    assert run("--library", empty, "export", "--format", "csl-json").stdout == "[]\n"
    assert run("--library", empty, "export").stdout == ""
    assert run("--library", tmp_path / "nowhere", "export", "-o", output).exit_code != 0
    assert output.read_text(encoding="utf-8") == expected  # a failed export leaves the file it would have replaced


def test_a_phrase_can_start_a_boolean_query(run, filled):
    result = run("--library", filled, "search", '"alpha-synuclein" AND oligomers', "--json")
    assert result.exit_code == 0, result.stderr
    assert keys(result) == ["tosatto2015single"]


def test_a_search_moments_after_a_write_hashes_the_file_and_still_reads_only_the_entries_it_shows(
    run, filled, monkeypatch
):
    """Within the clock's blur of the last write no signature is trusted (``derived.settled``): the file is hashed,
    found to be the one the index holds, and only the hits are read from it."""
    from evidence.store import derived

    assert keys(run("--library", filled, "search", "beagles", "--json")) == ["lieber1997growth"]
    bib = filled / "references.bib"
    bib.write_bytes(bib.read_bytes())  # written again as it was: another time, so the recorded signature is not its
    monkeypatch.setattr(derived, "settled", lambda signature: False)

    def no_full_read(self):
        raise AssertionError("the whole references.bib was parsed")

    monkeypatch.setattr("evidence.store.folder.Store.load_bib", no_full_read)
    for _ in range(2):
        result = run("--library", filled, "search", "beagles", "--json")
        assert result.exit_code == 0, result.stderr
        assert result.json()["hits"][0]["title"].startswith("Growth hormone secretagogue")
    assert derived.read_meta(derived.connect(filled / ".index")).get("signature") is None  # never recorded


def test_while_the_bib_is_unchanged_a_search_reads_only_the_entries_it_shows(run, filled, monkeypatch):
    assert keys(run("--library", filled, "search", "beagles", "--json")) == ["lieber1997growth"]

    def no_full_read(self):
        raise AssertionError("the whole references.bib was parsed")

    monkeypatch.setattr("evidence.store.folder.Store.load_bib", no_full_read)
    result = run("--library", filled, "search", "beagles", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["hits"][0]["title"].startswith("Growth hormone secretagogue")


def test_an_edit_that_moves_every_entry_is_noticed_and_the_shown_work_is_the_right_one(run, filled):
    run("--library", filled, "search", "beagles", "--json")
    bib = filled / "references.bib"
    bib.write_text("% a note the user added at the top, which shifts every entry\n\n" + bib.read_text())
    hit = run("--library", filled, "search", "beagles", "--json").json()["hits"][0]
    assert (hit["key"], hit["year"]) == ("lieber1997growth", "1997")
    assert "beagle" in hit["snippet"].lower() and hit["title"].startswith("Growth hormone")


def test_a_damaged_entry_map_is_ignored(run, filled):
    run("--library", filled, "search", "beagles", "--json")
    (filled / ".index" / "library.sqlite").write_text("{not a database")
    assert keys(run("--library", filled, "search", "beagles", "--json")) == ["lieber1997growth"]


def test_words_inside_hyphenated_compounds_are_marked_as_the_index_matched_them():
    from evidence.index.query import stem
    from evidence.index.snippets import best_passage

    passage, matched = best_passage(
        ["Weight was stable. Its blood-pressure-lowering effect was small."], ["blood", "pressur"], stem
    )
    assert passage == "Its **blood**-**pressure**-lowering effect was small."
    assert matched == ("blood", "pressur")


def test_works_are_listed_a_page_at_a_time_in_file_order_reading_only_that_page(run, seed, monkeypatch):
    from evidence.api import Library

    everything = [work.key for work in Library.open(seed).works()]
    assert Library.open(seed).list_works(1, 2)[0] == 5  # before any entry map: from the whole file
    run("--library", seed, "search", "acupuncture")

    def no_full_read(self):
        raise AssertionError("the whole references.bib was parsed")

    monkeypatch.setattr("evidence.store.folder.Store.load_bib", no_full_read)
    total, first = Library.open(seed).list_works(0, 3)
    assert total == 5 and [w.key for w in first] == everything[:3]
    assert [w.key for w in Library.open(seed).list_works(3, 10)[1]] == everything[3:]
    assert Library.open(seed).list_works(0, 50, lacking="abstract")[0] == 5
    assert Library.open(seed).list_works(0, 50, lacking="annotation") == (0, [])


def test_the_works_lacking_a_field_are_the_same_from_the_entry_map_and_from_the_file(run, seed, monkeypatch):
    from evidence.api import Library

    bib = seed / "references.bib"
    bib.write_text(
        bib.read_text().replace(
            "@article{hamvas2023acupuncture,", "@article{hamvas2023acupuncture,\n  abstract = {HRV rose.},"
        )
        + "\n@misc{empty2020, title = {Empty}, year = {2020}, abstract = {}}\n"
    )
    from_file = Library.open(seed).list_works(0, 50, lacking="abstract")
    run("--library", seed, "search", "acupuncture")
    from aging import written_earlier

    written_earlier(bib)
    run("--library", seed, "search", "acupuncture")  # the signature recorded now the file has settled
    monkeypatch.setattr("evidence.store.folder.Store.load_bib", lambda self: 1 / 0)
    from_rows = Library.open(seed).list_works(0, 50, lacking="abstract")
    assert [w.key for w in from_rows[1]] == [w.key for w in from_file[1]]
    assert from_rows[0] == from_file[0] == 5 and "hamvas2023acupuncture" not in [w.key for w in from_rows[1]]
