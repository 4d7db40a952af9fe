"""The Whoosh index behind search and suggest: fast analysis that matches Whoosh's own, incremental builds, and
build shortcuts that answer exactly like plain Whoosh."""

from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.analysis import StemmingAnalyzer

from evidence import bibtex
from evidence.index import SearchIndex
from evidence.index_schema import EvidenceAnalyzer, FastText
from evidence.store import make_work

WORDS = "nerve repair acupuncture endorphin release parasympathetic tone pain trial rats sciatic growth".split()


def works(count: int):
    made = []
    for number in range(count):
        words = [WORDS[(number * 7 + i * 3) % len(WORDS)] for i in range(12)]
        fields = {"title": " ".join(words[:4]), "abstract": " ".join(words), "year": str(1990 + number % 30)}
        made.append(make_work(f"w{number}", "article", bibtex.encode_fields(fields)))
    return made


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abcXYZ éü19.-_'  the and of running")), max_size=60))
def test_our_analyzer_gives_the_stemming_analyzers_terms_and_positions(text):
    theirs = [(t.text, t.pos) for t in StemmingAnalyzer()(text, positions=True)]
    ours = [(t.text, t.pos) for t in EvidenceAnalyzer()(text, positions=True)]
    assert ours == theirs


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abc XY the running runs é1.")), max_size=60))
def test_fast_indexing_gives_the_same_postings_as_whoosh(text):
    fast = FastText(analyzer=EvidenceAnalyzer())
    plain = FastText(analyzer=StemmingAnalyzer())  # no 'stem' attribute: Whoosh's own path
    assert sorted(fast.index(text)) == sorted(plain.index(text))


def test_cached_length_lookups_build_an_index_that_answers_exactly_like_whoosh_alone(tmp_path, monkeypatch):
    from whoosh import writing

    library = works(300)
    queries = ("nerve repair", '"endorphin release"', "title:acupuncture", "sciatic AND rats", "pain OR tone")
    cached = SearchIndex(tmp_path / "cached")
    cached.sync(library)
    monkeypatch.setattr(
        writing.SegmentWriter, "per_document_reader", writing.SegmentWriter.per_document_reader.original
    )
    plain = SearchIndex(tmp_path / "plain")
    plain.sync(library)
    for query in queries:
        assert cached.search(query, limit=300)[0] == plain.search(query, limit=300)[0]


def test_two_builds_of_the_same_library_give_the_same_scores(tmp_path):
    library = works(300)
    first, second = SearchIndex(tmp_path / "a"), SearchIndex(tmp_path / "b")
    first.sync(library)
    second.sync(library)
    assert first.search("nerve repair pain", limit=300)[0] == second.search("nerve repair pain", limit=300)[0]


def test_only_changed_entries_are_rewritten_and_an_unchanged_library_costs_nothing(tmp_path):
    library = works(30)
    index = SearchIndex(tmp_path / "ix")
    assert index.sync(library) == 30
    assert index.sync(library) == 0
    edited = make_work("w3", "article", bibtex.encode_fields({"title": "Vagal tone after needling", "year": "2001"}))
    assert index.sync([*library[:3], edited, *library[4:29]]) == 2  # one changed, one removed
    hits, _ = index.search("vagal")
    assert [hit.key for hit in hits] == ["w3"]
    assert index.search("w29")[0] == []


def test_claim_candidates_scored_term_by_term_match_whoosh_own_search_with_several_segments_and_deletions(tmp_path):
    from evidence.index import _free_text_query, analyse

    library = works(200)
    index = SearchIndex(tmp_path / "index")
    index.sync(library)
    changed = [make_work(w.key, "article", {**w.fields, "note": "nerve repair again"}) for w in library[:20]]
    index.sync(changed + library[20:150])  # a second segment, updated and deleted documents
    claim = "Acupuncture supports nerve repair and endorphin release in sciatic pain"
    hits, terms, _idf = index.candidates(claim, limit=60)
    searcher = index._open_searcher()
    assert len(searcher.reader().leaf_readers()) > 1 and searcher.reader().has_deletions()
    expected = searcher.search(_free_text_query(list(dict.fromkeys(analyse(claim)))), limit=60)
    assert [(h.key, round(h.score, 9)) for h in hits] == [(e["key"], round(e.score, 9)) for e in expected]
    assert {h.key for h in hits} <= {w.key for w in library[:150]}
