"""The Whoosh index behind search and suggest: fast analysis that matches Whoosh's own, incremental builds, and
build shortcuts that answer exactly like plain Whoosh."""

import pytest
from aging import written_earlier
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.analysis import StemmingAnalyzer as WhooshStemmingAnalyzer
from whoosh.lang.porter import stem as porter

from evidence.index._whoosh.schema import EvidenceAnalyzer, FastText
from evidence.index.search_index import SearchIndex
from evidence.index.spelling import american
from evidence.store import bibtex
from evidence.store.bibfile import make_work


def StemmingAnalyzer():  # noqa: N802 (Whoosh's analyzer, with the index's one-spelling step before its stemmer)
    return WhooshStemmingAnalyzer(stemfn=lambda word: porter(american(word)))


WORDS = "nerve repair acupuncture endorphin release parasympathetic tone pain trial rats sciatic growth".split()


def works(count: int):
    made = []
    for number in range(count):
        words = [WORDS[(number * 7 + i * 3) % len(WORDS)] for i in range(12)]
        fields = {"title": " ".join(words[:4]), "abstract": " ".join(words), "year": str(1990 + number % 30)}
        made.append(make_work(f"w{number}", "article", bibtex.encode_fields(fields)))
    return made


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abcXYZ éü19.-_'  the and of running raised foetal")), max_size=60))
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


def varied_works():
    """Common words (postings over several blocks), words in one work only, accents and other scripts (whose
    UTF-8 order must match the index's), notes and keywords, missing abstracts."""
    extra = [
        ("u1", {"title": "Über Akupunktur: Schmerz und Nervenheilung", "abstract": "Eine Studie über Ratten."}),
        ("u2", {"title": "Acupuncture éclairée", "keywords": "ísquion; nerf; 神经", "annotation": "seen zebra"}),
        ("u3", {"title": "Nerve growth after injury", "note": "unique quokka word", "author": "Ōta, Ken"}),
        ("u4", {"title": "Zzz last title", "journal": "Pain", "abstract": "pain " * 40}),
    ]
    made = [make_work(key, "article", bibtex.encode_fields(fields)) for key, fields in extra]
    return works(400) + made


def _whoosh_writes(path, library):
    """An index written by Whoosh's own SegmentWriter (no length cache, no bulk writer)."""
    from whoosh import index as windex
    from whoosh import writing

    from evidence.index.fields import schema as _schema
    from evidence.index.search_index import document

    path.mkdir()
    index = windex.create_in(str(path), _schema())
    with writing.SegmentWriter(index) as writer:
        for work in library:
            writer.add_document(**document(work))
    return index


def _postings_and_statistics(reader):
    """Everything a search reads: per term its statistics, each posting, and each block's bounds; per document its
    stored fields and field lengths."""
    seen = {}
    for field, term in reader.all_terms():
        info = reader.term_info(field, term)
        matcher = reader.postings(field, term)
        postings = []
        while matcher.is_active():
            bounds = (matcher.block_min_length(), matcher.block_max_length(), matcher.block_max_weight())
            postings.append((matcher.id(), matcher.weight(), matcher.value(), bounds))
            matcher.next()
        seen[field, term] = (
            info.weight(),
            info.doc_frequency(),
            info.min_length(),
            info.max_length(),
            info.max_weight(),
            info.min_id(),
            info.max_id(),
            postings,
        )
    fields = ("title", "body", "annotation", "keywords", "authors", "journal")
    documents = [
        (reader.stored_fields(n), [reader.doc_field_length(n, f) for f in fields]) for n in range(reader.doc_count())
    ]
    return seen, documents, [reader.field_length(f) for f in fields]


def test_a_new_index_written_in_one_pass_holds_exactly_what_whoosh_writes(tmp_path, monkeypatch):
    from evidence.index._whoosh import bulk as index_bulk

    monkeypatch.setattr(index_bulk, "BLOCK_POSTINGS", 128)  # Whoosh's block size, so block bounds compare too
    library = varied_works()
    bulk = SearchIndex(tmp_path / "bulk")
    bulk.sync(library)  # a first build goes through the bulk writer
    plain = _whoosh_writes(tmp_path / "plain", library)
    with plain.reader() as expected:
        bulk_seen = _postings_and_statistics(bulk._open_searcher().reader())
        assert bulk_seen == _postings_and_statistics(expected)
    assert max(len(postings[-1]) for postings in bulk_seen[0].values()) > 300  # several blocks, some compressed
    bulk.close()


def test_an_index_written_in_one_pass_then_updated_answers_like_whoosh(tmp_path):
    library = varied_works()
    bulk = SearchIndex(tmp_path / "bulk")
    bulk.sync(library)
    edited = make_work("w7", "article", bibtex.encode_fields({"title": "Vagal tone after needling", "year": "2001"}))
    bulk.sync([*library[:7], edited, *library[8:]])  # Whoosh's writer adds to what the bulk writer wrote
    plain = SearchIndex(tmp_path / "plain")
    plain.sync([])
    plain.sync(library)  # into an existing (empty) index: Whoosh's own writer, then the same update
    plain.sync([*library[:7], edited, *library[8:]])
    for query in ("nerve repair", '"endorphin release"', "title:acupuncture", "vagal", "pain OR tone", "über"):
        assert bulk.search(query, limit=500)[0] == plain.search(query, limit=500)[0]


def test_cached_length_lookups_build_an_index_that_answers_exactly_like_whoosh_alone(tmp_path, monkeypatch):
    from whoosh import writing

    from evidence.index._whoosh import fixes

    library = works(300)
    queries = ("nerve repair", '"endorphin release"', "title:acupuncture", "sciatic AND rats", "pain OR tone")
    cached = SearchIndex(tmp_path / "cached")
    cached.sync([])
    cached.sync(library)  # into an existing index: Whoosh's own writer, not the bulk one
    monkeypatch.setattr(fixes, "CachedLengthsWriter", writing.SegmentWriter)  # Whoosh's own writer, as installed
    plain = SearchIndex(tmp_path / "plain")
    plain.sync([])
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
    from evidence.index.query import _free_text_query, analyse

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


def test_a_build_split_between_two_processes_scores_exactly_like_one_process(tmp_path, monkeypatch):
    from evidence.index._whoosh import bulk as index_bulk

    monkeypatch.setattr(index_bulk, "_can_fork", lambda: True)  # the suite's fake server runs in a thread
    library = varied_works()
    one, two = SearchIndex(tmp_path / "one", processes=1), SearchIndex(tmp_path / "two", processes=2)
    one.sync(library)
    two.sync(library)
    assert len(two._open_searcher().reader().leaf_readers()) == 2
    for query in ("nerve repair", '"endorphin release"', "title:acupuncture", "über", "pain OR tone", "quokka"):
        assert one.search(query, limit=500)[0] == two.search(query, limit=500)[0]
    claim = "Acupuncture supports nerve repair and endorphin release in sciatic pain"
    assert one.candidates(claim, limit=60) == two.candidates(claim, limit=60)


def test_when_the_helper_process_dies_this_process_writes_its_half(tmp_path, monkeypatch):
    import os

    from evidence.index._whoosh import bulk as index_bulk

    monkeypatch.setattr(index_bulk, "_write_segment", lambda *args: os._exit(3))
    monkeypatch.setattr(index_bulk, "_can_fork", lambda: True)
    library = varied_works()
    index = SearchIndex(tmp_path / "ix", processes=2)
    assert index.sync(library) == len(library)
    plain = SearchIndex(tmp_path / "plain", processes=1)
    plain.sync(library)
    assert (
        index.search("nerve OR über OR quokka", limit=500)[0] == plain.search("nerve OR über OR quokka", limit=500)[0]
    )
    assert index._open_searcher().doc_count() == len(library)


def test_a_rebuild_in_rounds_from_works_decoded_as_they_are_read_scores_like_one_build(tmp_path, monkeypatch):
    """A rebuild writes ``REBUILD_ROUND`` works a round, and each process decodes its own half from the library's
    rows (``BibFile.each_work``): the same answers, scores and claim candidates as one build from a list."""
    from evidence.index._whoosh import bulk as index_bulk
    from evidence.store.folder import Store

    monkeypatch.setattr(index_bulk, "_can_fork", lambda: True)  # the suite's fake server runs in a thread
    library = varied_works()
    store = Store.init(tmp_path / "lib")
    entries = (bibtex.format_entry(work.entry_type, work.key, work.fields) for work in library)
    store.bib_path.write_text("\n\n".join(entries) + "\n", encoding="utf-8")
    store.load_bib()  # parsed and saved as rows: the next load reads the works from them as they are asked for
    from_rows = store.load_bib().each_work()
    one = SearchIndex(tmp_path / "one", processes=1)
    one.sync(library)
    monkeypatch.setattr(SearchIndex, "REBUILD_ROUND", 150)
    rounds = SearchIndex(tmp_path / "rounds", processes=2)
    assert rounds.sync(from_rows) == len(library)
    assert len(rounds._open_searcher().reader().leaf_readers()) == 6  # three rounds, two processes each
    for query in ("nerve repair", '"endorphin release"', "title:acupuncture", "über", "pain OR tone", "quokka"):
        assert one.search(query, limit=500)[0] == rounds.search(query, limit=500)[0]
    claim = "Acupuncture supports nerve repair and endorphin release in sciatic pain"
    assert one.candidates(claim, limit=60) == rounds.candidates(claim, limit=60)
    assert rounds.sync(from_rows) == 0  # the manifest lists every work


def test_a_sync_that_finds_more_works_changed_than_an_update_holds_builds_the_index_anew(tmp_path, monkeypatch):
    library = works(60)
    index = SearchIndex(tmp_path / "ix")
    index.sync(library)
    monkeypatch.setattr(SearchIndex, "UPDATE_AT_MOST", 5)
    changed = [make_work(w.key, "article", {**w.fields, "note": "nerve repair again"}) for w in library[:20]]
    now = changed + library[20:50]
    assert index.sync(now) == 50  # every work written, as a build writes them
    reader = index._open_searcher().reader()
    assert not reader.has_deletions() and reader.doc_count() == 50
    fresh = SearchIndex(tmp_path / "fresh")
    fresh.sync(now)
    for query in ("nerve repair again", "pain OR tone", "w55", "sciatic"):
        assert index.search(query, limit=100)[0] == fresh.search(query, limit=100)[0]
    assert index.sync(now) == 0


ARRAY_QUERIES = (
    "nerve repair",
    "nerve AND repair",
    "title:acupuncture",
    "pain OR tone",
    "acupuncture NOT rats",
    "(nerve OR growth) AND sciatic",
    "über",
    "quokka",
    "abstract:endorphin title:nerve",
    "missingword",
    "nerve AND missingword",
    '"nerve endorphin"',
    '"endorphin tone rats"',
    '"rats nerve"',
    '"nerve repair"',
    '"release pain"',
    '"nerve tone"~2',
    '"nerve rats"~2',
    '"pain repair"~3',
    'title:"nerve endorphin"',
    '"nerve endorphin" AND repair',
    '"unique quokka" OR tone',
    '"missingword nerve"',
)


def test_queries_scored_with_arrays_rank_exactly_like_whoosh_across_segments_and_deletions(tmp_path, monkeypatch):
    from evidence.index._whoosh import bulk as index_bulk
    from evidence.index._whoosh.arrays import ArrayScorer

    monkeypatch.setattr(index_bulk, "_can_fork", lambda: True)

    library = varied_works()
    index = SearchIndex(tmp_path / "ix", processes=2)
    index.sync(library)
    changed = [make_work(w.key, "article", {**w.fields, "note": "nerve repair again"}) for w in library[:30]]
    index.sync(changed + library[30:380])  # a third segment, updated and deleted documents
    searcher = index._open_searcher()
    assert len(searcher.reader().leaf_readers()) == 3 and searcher.reader().has_deletions()
    scorer = ArrayScorer(searcher)
    for text in ARRAY_QUERIES:
        for default_and in (False, True):
            query = index.parse(text, default_and)
            expected = [(hit.docnum, round(hit.score, 9)) for hit in searcher.search(query, limit=25)]
            assert [(n, round(score, 9)) for n, score in scorer.top(query, 25)] == expected, text


def test_large_libraries_search_through_arrays_and_phrases_still_through_whoosh(tmp_path, monkeypatch):
    from evidence.index import search_index as index_module

    library = varied_works()
    index = SearchIndex(tmp_path / "ix")
    index.sync(library)
    small = {text: index.search(text, limit=50)[0] for text in (*ARRAY_QUERIES, '"nerve repair"')}
    monkeypatch.setattr(index_module, "ARRAY_SCORING_FROM", 1)
    for text, hits in small.items():
        assert [(h.key, round(h.score, 9)) for h in index.search(text, limit=50)[0]] == [
            (h.key, round(h.score, 9)) for h in hits
        ], text
    assert index._scorer is not None


def test_a_word_scores_by_the_best_of_the_works_own_fields_not_a_neighbours(tmp_path):
    from whoosh import query as wquery

    from evidence.index.fields import FIELD_BOOSTS, SEARCH_FIELDS

    index = SearchIndex(tmp_path / "ix")
    index.sync(varied_works())
    searcher = index._open_searcher()
    per_field = {}
    for field in SEARCH_FIELDS:
        term = wquery.Term(field, "nerve" if field == "authors" else "nerv", boost=FIELD_BOOSTS.get(field, 1.0))
        for hit in searcher.search(term, limit=None):
            per_field.setdefault(hit.docnum, []).append(hit.score)
    hits = searcher.search(index.parse("nerve"), limit=None)
    assert len(hits) == len(per_field)
    assert all(abs(hit.score - max(per_field[hit.docnum])) < 1e-9 for hit in hits)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=600))
def test_packed_posting_values_give_back_each_value_and_survive_pickling(values):
    import pickle

    from evidence.index._whoosh.schema import PackedValues

    packed = pickle.loads(pickle.dumps(PackedValues.pack(values), 4))
    assert len(packed) == len(values)
    assert list(packed) == values
    assert [packed[i] for i in range(-len(values), 0)] == values


def test_evidences_writer_pickles_posting_blocks_with_protocol_4_and_whooshs_own_still_with_2(tmp_path):
    import zlib

    def first_block(reader) -> bytes:
        matcher = reader.postings("body", "nerv")
        matcher = getattr(matcher, "child", matcher)
        data = matcher._postfile.get(matcher._dataoffset, matcher._nextoffset - matcher._dataoffset)
        return zlib.decompress(data) if matcher._compression else data

    index = SearchIndex(tmp_path / "ix")
    index.sync([])
    index.sync(works(50))  # an existing index: evidence's update writer, not the bulk one
    assert first_block(index._open_searcher().reader())[:2] == b"\x80\x04"
    whoosh_only = _whoosh_writes(tmp_path / "whoosh", works(50))  # Whoosh's own SegmentWriter, as installed
    with whoosh_only.reader() as reader:
        assert first_block(reader)[:2] == b"\x80\x02"


def test_the_plain_arrays_after_a_common_term_hold_exactly_the_postings_of_its_blocks(tmp_path, monkeypatch):
    from evidence.index._whoosh import bulk as index_bulk
    from evidence.index._whoosh.arrays import _read_posting_arrays, _read_whoosh3_postings

    monkeypatch.setattr(index_bulk, "POSTING_ARRAYS_FROM", 2)  # every term in two works or more
    index = SearchIndex(tmp_path / "ix")
    index.sync(varied_works())
    [(leaf, _offset)] = index._open_searcher().reader().leaf_readers()
    for field, term in leaf.all_terms():
        info = leaf.term_info(field, term)
        matcher = leaf.postings(field, term)
        expected = []
        while matcher.is_active():
            expected.append((matcher.id(), matcher.weight()))
            matcher.next()
        ids, weights = _read_whoosh3_postings(leaf, info)
        assert list(zip(ids.tolist(), weights.tolist(), strict=True)) == expected, (field, term)
        start, length = info.extent()
        has_arrays = _read_posting_arrays(leaf._terms._postfile, start + length[0]) is not None
        assert has_arrays == (len(expected) >= 2), (field, term)


def test_a_segment_whooshs_own_writer_wrote_has_no_posting_arrays_and_is_read_from_its_blocks(tmp_path):
    from evidence.index._whoosh.arrays import _read_posting_arrays, _read_whoosh3_postings

    index = SearchIndex(tmp_path / "ix")
    index.sync([])
    index.sync(varied_works())  # into an existing index: Whoosh's writer
    [(leaf, _offset)] = index._open_searcher().reader().leaf_readers()
    info = leaf.term_info("body", "nerv")
    start, length = info.extent()
    assert _read_posting_arrays(leaf._terms._postfile, start + length[0]) is None
    assert len(_read_whoosh3_postings(leaf, info)[0]) == info.doc_frequency()


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(st.just(1), st.integers(1, 300), st.integers(1, 70_000), st.floats(0.5, 1e6, width=32)),
        min_size=1,
        max_size=300,
    ),
    st.integers(0, 1000),
)
def test_posting_arrays_give_back_every_document_number_and_weight(weights, padding):
    from whoosh.filedb.structfile import BufferFile

    from evidence.index._whoosh.arrays import _read_posting_arrays
    from evidence.index._whoosh.bulk import _posting_arrays

    docnums = [number * 3 + 70_000 * (number % 2) for number in range(len(weights))]
    data = b"W3Bl" * padding + _posting_arrays(docnums, weights) + b"W3Bl"
    ids, read = _read_posting_arrays(BufferFile(data), 4 * padding)
    assert ids.tolist() == docnums
    assert read.tolist() == [float(weight) for weight in weights]


PLAIN_WORDS = ["pain", "Nerve", "the", "a", "of", "running", "2019", "x1", "über", "Straße", "神经", "AND", "OR", "NOT"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*PLAIN_WORDS, "and", "or", "ANDNOT", "a-b", "t*", "title:x", "(x)"]), max_size=6))
def test_plain_words_make_the_same_query_as_whooshs_parser(words):
    from evidence.index.query import _not_means_without, _parser, _plain_words_query

    text = " ".join(words)
    for default_and in (False, True):
        built = _plain_words_query(text, default_and)
        if built is not None:
            assert built == _not_means_without(_parser(default_and).parse(text)), text
    if words and all(word.isalnum() and word not in ("AND", "OR", "NOT", "ANDNOT") for word in words):
        assert _plain_words_query(text, False) is not None  # plain words never fall back to the parser


def test_field_lengths_read_whole_columns_equal_whoosh_per_document_lengths(tmp_path):
    from evidence.index._whoosh.schema import field_lengths

    index = SearchIndex(tmp_path / "ix")
    index.sync([])
    index.sync(varied_works())  # Whoosh's writer: its columns end at the last work with the field
    index.sync([*varied_works(), *works(3)[:0]])
    searcher = index._open_searcher()
    [(leaf, _offset)] = searcher.reader().leaf_readers()
    for field in ("body", "annotation", "keywords", "authors", "journal", "title"):
        expected = [float(leaf.doc_field_length(n, field, 1) or 1) for n in range(leaf.doc_count_all())]
        assert field_lengths(searcher, field) == expected, field
    annotated = [n for n in range(leaf.doc_count_all()) if leaf.doc_field_length(n, "annotation")]
    assert annotated and annotated[-1] < leaf.doc_count_all() - 1  # the column stops before the last work


def test_opening_an_index_reads_its_postings_from_the_mapped_file_without_copying_them(tmp_path):
    from whoosh.filedb.structfile import BufferFile

    from evidence.index._whoosh.fixes import _MemoryStream

    index = SearchIndex(tmp_path / "ix")
    index.sync(varied_works())
    assert index.search("nerve repair")[0]  # Whoosh's matchers seek and read the postings as a stream
    [(leaf, _offset)] = index._open_searcher().reader().leaf_readers()
    postings = leaf._terms._postfile
    assert isinstance(postings, BufferFile) and isinstance(postings.file, _MemoryStream)
    assert isinstance(postings._buf, memoryview)  # the memory-mapped segment, not a copy


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=80), st.lists(st.tuples(st.sampled_from("rls"), st.integers(-3, 90)), max_size=12))
def test_a_stream_over_a_buffer_reads_as_a_bytes_stream_does(data, steps):
    import io

    from evidence.index._whoosh.fixes import _MemoryStream

    ours, theirs = _MemoryStream(memoryview(data)), io.BytesIO(data)
    for step, number in steps:
        if step == "r":
            assert ours.read(number) == theirs.read(number)
        elif step == "l":
            assert ours.readline(number) == theirs.readline(number)
        else:
            assert ours.seek(abs(number)) == theirs.seek(abs(number))
        assert ours.tell() == theirs.tell()
    assert list(ours) == list(theirs)


PHRASE_WORDS = ["nerve", "repair", "pain", "the", "rats"]


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from(PHRASE_WORDS), min_size=3, max_size=14), min_size=5, max_size=30),
    st.lists(st.sampled_from(PHRASE_WORDS), min_size=2, max_size=3),
    st.integers(1, 3),
)
def test_phrases_scored_with_arrays_match_whooshs_span_matcher(tmp_path_factory, texts, phrase, slop):
    import shutil

    from evidence.index._whoosh import bulk as index_bulk
    from evidence.index._whoosh.arrays import ArrayScorer

    folder = tmp_path_factory.mktemp("phrases")
    library = [
        make_work(f"p{n}", "article", bibtex.encode_fields({"title": "study", "abstract": " ".join(words)}))
        for n, words in enumerate(texts)
    ]
    original, index_bulk.BLOCK_POSTINGS = index_bulk.BLOCK_POSTINGS, 4  # many blocks, so block skipping is used
    try:
        index = SearchIndex(folder / "ix")
        index.sync(library)
    finally:
        index_bulk.BLOCK_POSTINGS = original
    searcher = index._open_searcher()
    query = index.parse(f'abstract:"{" ".join(phrase)}"~{slop}')
    expected = [(hit.docnum, round(hit.score, 9)) for hit in searcher.search(query, limit=None)]
    got = [(n, round(score, 9)) for n, score in ArrayScorer(searcher).top(query, len(library))]
    index.close()
    shutil.rmtree(folder)
    assert got == expected


def test_a_rebuild_replaces_whooshs_files_and_keeps_the_librarys_other_derived_files(tmp_path):
    index = SearchIndex(tmp_path / "ix")
    index.sync(works(20))
    index.close()
    (tmp_path / "ix" / "library.sqlite").write_text("")
    old_segments = {path.name for path in (tmp_path / "ix").glob("MAIN_*.seg")}
    (tmp_path / "ix" / "evidence-manifest.sqlite").write_text("not json")  # a damaged manifest: rebuild
    index = SearchIndex(tmp_path / "ix")
    assert index.sync(works(20)) == 20
    names = {path.name for path in (tmp_path / "ix").iterdir()}
    assert "library.sqlite" in names
    assert not old_segments & names and any(name.endswith(".seg") for name in names)
    assert [hit.key for hit in index.search("nerve", limit=50)[0]]


def test_a_first_build_beside_the_librarys_other_derived_files_reports_nothing_stale(tmp_path):
    (tmp_path / "ix").mkdir()
    (tmp_path / "ix" / "library.sqlite").write_text("")  # the store saved its parse before any search
    notes = []
    SearchIndex(tmp_path / "ix", notify=notes.append).sync(works(5))
    assert notes == []
    (tmp_path / "ix" / "evidence-manifest.sqlite").unlink()  # now the index's own files are there without a manifest
    SearchIndex(tmp_path / "ix", notify=notes.append).sync(works(5))
    assert notes == ["The search index was out of date or unreadable; rebuilding it."]


def test_whoosh_is_left_exactly_as_installed_after_evidence_has_built_updated_and_searched(tmp_path):
    """Programs that embed evidence and use Whoosh themselves see Whoosh's own code: evidence's fixes live in its
    own subclasses. Checked in a fresh interpreter, every attribute of the classes and modules evidence builds on
    compared before and after."""
    import subprocess
    import sys
    from pathlib import Path

    script = f"""
import inspect, sys
sys.path.insert(0, {str(Path(__file__).resolve().parent.parent)!r})
from whoosh import writing
from whoosh.codec import whoosh3
from whoosh.filedb import compound, structfile
from whoosh.matching import binary
from whoosh.qparser import syntax
watched = [writing.SegmentWriter, whoosh3.W3Codec, whoosh3.W3PostingsWriter, whoosh3.W3Segment, whoosh3,
           compound.CompoundStorage, structfile.BufferFile, binary.DisjunctionMaxMatcher, syntax.DisMaxGroup]
def snapshot():
    return [{{name: id(value) for name, value in vars(thing).items()}} for thing in watched]
before = snapshot()
from pathlib import Path

import pytest
from evidence.index.search_index import SearchIndex
from evidence.store import bibtex
from evidence.store.bibfile import make_work
works = [make_work(f"w{{n}}", "article", bibtex.encode_fields({{"title": f"nerve repair {{n}}", "abstract": "pain"}}))
         for n in range(60)]
index = SearchIndex(Path({str(tmp_path / "ix")!r}))
index.sync(works)
index.sync(works[:50])
index.search("nerve OR pain")
index.search('"nerve repair"')
index.candidates("nerve repair after injury")
after = snapshot()
changed = [watched[i] for i in range(len(watched)) if before[i] != after[i]]
print("changed:", changed)
sys.exit(1 if changed else 0)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_index_written_by_another_version_whose_classes_are_gone_is_rebuilt_not_a_crash(run, tmp_path, seed):
    """An upgrade moves or renames the classes pickled into the index's table of contents: the next search must
    rebuild the index (as for any unreadable index), not stop with an unexpected error."""
    assert run("--library", seed, "--offline", "search", "nerve").exit_code == 0
    for toc in (seed / ".index").glob("*.toc"):
        data = toc.read_bytes()
        assert b"evidence.index._whoosh.schema" in data
        toc.write_bytes(data.replace(b"evidence.index._whoosh.schema", b"evidence.some_removed_module"))
    result = run("--library", seed, "--offline", "search", "nerve", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["hits"] and "unexpected" not in result.stderr


def _counting_fingerprints(monkeypatch) -> list[str]:
    from evidence.index import search_index

    seen: list[str] = []
    real = search_index.fingerprint
    monkeypatch.setattr(search_index, "fingerprint", lambda work: seen.append(work.key) or real(work))
    return seen


def _import_one(run, seed, tmp_path, key: str, title: str) -> None:
    import json

    one = tmp_path / f"{key}.json"
    one.write_text(json.dumps([{"id": key, "type": "article-journal", "title": title}]))
    result = run("--library", seed, "--offline", "import", one)
    assert result.exit_code == 0, result.stderr


def test_after_the_tools_own_write_the_index_looks_at_the_works_written_and_no_other(run, seed, tmp_path, monkeypatch):
    assert run("--library", seed, "--offline", "search", "nerve").exit_code == 0  # in line with the file
    seen = _counting_fingerprints(monkeypatch)
    _import_one(run, seed, tmp_path, "vagal2030", "Vagal tone rises after slow breathing")
    assert set(seen) == {"vagal2030"}  # not the one before it either, though a blank line was added after it
    monkeypatch.undo()
    hits = run("--library", seed, "--offline", "search", "slow breathing", "--json").json()["hits"]
    assert [hit["key"] for hit in hits] == ["vagal2030"]
    assert run("--library", seed, "--offline", "search", "parasympathetic tone", "--json").json()["hits"]


def test_after_a_hand_edit_the_index_looks_at_the_edited_entry_and_no_other(run, seed, tmp_path, monkeypatch):
    assert run("--library", seed, "--offline", "search", "nerve").exit_code == 0
    bib = seed / "references.bib"
    text = bib.read_text(encoding="utf-8")
    bib.write_text(text.replace("title = {", "title = {Quasar ", 1), encoding="utf-8")
    seen = _counting_fingerprints(monkeypatch)
    _import_one(run, seed, tmp_path, "vagal2030", "Vagal tone rises after slow breathing")
    assert set(seen) == {"mehta2013neuropathic", "vagal2030"}  # the edited entry and the imported one
    monkeypatch.undo()
    assert [h["key"] for h in run("--library", seed, "--offline", "search", "quasar", "--json").json()["hits"]] == [
        "mehta2013neuropathic"
    ]


def test_an_entry_deleted_by_hand_is_gone_from_the_index_and_no_other_is_compared(run, seed, monkeypatch):
    assert run("--library", seed, "--offline", "search", "nerve").exit_code == 0
    bib = seed / "references.bib"
    text = bib.read_text(encoding="utf-8")
    start = text.index("@article{fan2017acupuncture")
    end = text.index("@article{", start + 1)
    bib.write_text(text[:start] + text[end:], encoding="utf-8")
    written_earlier(bib)
    seen = _counting_fingerprints(monkeypatch)
    result = run("--library", seed, "--offline", "search", "acupuncture", "-n", "50", "--json")
    assert not seen  # the rows say which entry went: no work is compared again
    monkeypatch.undo()
    keys = [hit["key"] for hit in result.json()["hits"]]
    assert keys and "fan2017acupuncture" not in keys


def test_a_damaged_index_written_to_by_a_one_work_write_is_rebuilt_by_the_next_search(run, seed, tmp_path):
    assert run("--library", seed, "--offline", "search", "nerve").exit_code == 0
    for segment in (seed / ".index").glob("*.seg"):
        segment.write_bytes(b"\0" * 64)
    _import_one(run, seed, tmp_path, "vagal2030", "Vagal tone rises after slow breathing")
    for query, wanted in (("slow breathing", 1), ("parasympathetic tone", 1)):
        result = run("--library", seed, "--offline", "search", query, "--json")
        assert result.exit_code == 0, result.stderr
        assert len(result.json()["hits"]) >= wanted, query


def test_a_write_of_one_work_decodes_no_other_work_from_the_saved_parse(run, seed, tmp_path, monkeypatch):
    from evidence.store import derived

    assert run("--library", seed, "--offline", "search", "nerve").exit_code == 0
    decoded: list[str] = []
    real = derived._work
    monkeypatch.setattr(derived, "_work", lambda stored: decoded.append(stored) or real(stored))
    _import_one(run, seed, tmp_path, "vagal2030", "Vagal tone rises after slow breathing")
    assert decoded == []  # keys, DOIs and the index's view come from the rows; the new work was never stored
    monkeypatch.undo()
    keys = [hit["key"] for hit in run("--library", seed, "--offline", "search", "breathing", "--json").json()["hits"]]
    assert keys == ["vagal2030"]


def test_a_search_after_a_hand_edit_reads_only_what_changed_and_never_loads_the_library(run, seed, monkeypatch):
    from evidence.store.folder import Store

    assert run("--library", seed, "--offline", "search", "nerve").exit_code == 0
    bib = seed / "references.bib"
    text = bib.read_text(encoding="utf-8").replace("title = {", "title = {Quasar ", 1)  # a title edited
    text = text.replace("@article{fan2017acupuncture,", "@article{fan2017renamed,")  # a key renamed
    text += "\n@article{handadded2026,\n  title = {Pulsar by hand},\n  year = {2026}\n}\n"  # an entry added
    bib.write_text(text, encoding="utf-8")
    written_earlier(bib)  # as a user edits, then searches
    monkeypatch.setattr(Store, "load_bib", lambda self: pytest.fail("the whole library was loaded"))

    def keys(query: str) -> list[str]:
        result = run("--library", seed, "--offline", "search", query, "-n", "50", "--json")
        assert result.exit_code == 0, result.stderr
        return [hit["key"] for hit in result.json()["hits"]]

    assert keys("quasar") == ["mehta2013neuropathic"]
    assert keys("pulsar") == ["handadded2026"]
    found = keys("acupuncture")
    assert "fan2017renamed" in found and "fan2017acupuncture" not in found
    monkeypatch.undo()
    assert run("--library", seed, "--offline", "show", "fan2017renamed").exit_code == 0


def _killed_between_commits(index: SearchIndex, documents: list) -> None:
    """What a write killed after the index's commit and before the manifest's leaves: documents never listed."""
    from evidence.index._whoosh.bulk import write_new_index
    from evidence.index.search_index import document

    index.close()
    write_new_index(index._open_or_create(False), [document(work) for work in documents], 1)


def test_documents_a_killed_write_left_unlisted_are_removed_or_written_once_by_the_next_sync(tmp_path):
    library = works(30)
    index = SearchIndex(tmp_path / "index")
    index.sync(library)
    ghost = make_work("ghost", "article", bibtex.encode_fields({"title": "Quokka ghost", "abstract": "quokka"}))
    _killed_between_commits(index, [ghost, library[3]])
    assert [hit.key for hit in index.search("quokka")[0]] == ["ghost"]
    assert [hit.key for hit in index.search("w3", limit=50)[0]].count("w3") in (0, 1)  # a key search, not words
    assert not index._healthy(len(library))
    index.sync(library)  # the next full sync: the ghost gone, w3 held once
    assert index.search("quokka")[0] == []
    with index._open_searcher().reader() as reader:
        keys = [fields["key"] for fields in reader.all_stored_fields()]
    assert sorted(keys) == sorted(work.key for work in library)


def test_a_new_work_is_added_without_a_look_up_unless_the_index_holds_a_document_its_manifest_does_not_list(
    tmp_path, monkeypatch
):
    from whoosh import writing

    library = works(10)
    index = SearchIndex(tmp_path / "index")
    index.sync(library)
    looked_up: list[str] = []
    real = writing.SegmentWriter.update_document
    monkeypatch.setattr(
        writing.SegmentWriter, "update_document", lambda self, **f: looked_up.append(f["key"]) or real(self, **f)
    )
    assert index.sync_changed([works(11)[10]])
    assert looked_up == []  # listed in full: a key the manifest does not know has no document
    late = make_work("late", "article", bibtex.encode_fields({"title": "Quokka late"}))
    _killed_between_commits(index, [late])  # its document written, never listed
    assert index.sync_changed([late])
    assert looked_up == ["late"]  # one document more than listed: each new one is looked up, so none is doubled
    with index._open_searcher().reader() as reader:
        assert [fields["key"] for fields in reader.all_stored_fields()].count("late") == 1


def test_a_bulk_addition_refuses_an_index_holding_unlisted_documents(tmp_path):
    library = works(10)
    index = SearchIndex(tmp_path / "index")
    index.sync(library)
    adding = index.adding()
    assert adding.add(works(12)[10:])  # healthy: the new works are written as a segment of their own
    adding.finish(works(12)[10:])
    _killed_between_commits(index, [works(13)[12]])
    assert not index.adding().add(works(14)[13:])  # the caller's sync repairs the index first


def test_updates_merge_the_small_segments_they_make_and_leave_a_builds_large_ones(tmp_path, monkeypatch):
    from whoosh import index as windex

    from evidence.index import search_index

    monkeypatch.setattr(search_index, "SMALL_SEGMENT", 10)
    library = works(30)
    index = SearchIndex(tmp_path / "index")
    index.sync(library)  # one segment of 30 documents: "large" here
    (built,) = [segment.segment_id() for segment in windex.open_dir(str(index.path))._segments()]
    for number in range(6):  # Whoosh's own policy would fold the 30 into the fifth update's merge
        added = make_work(f"new{number}", "article", bibtex.encode_fields({"title": f"added {number}"}))
        assert index.sync_changed([added])
    segments = windex.open_dir(str(index.path))._segments()
    assert built in [segment.segment_id() for segment in segments]
    assert len(segments) < 7  # the one-document segments were merged
    assert sorted(hit.key for hit in index.search("added", limit=50)[0]) == [f"new{n}" for n in range(6)]
