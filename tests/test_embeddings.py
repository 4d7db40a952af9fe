"""Meaning-based ranking: the stored vectors are updated incrementally and survive damage, the blend finds support
worded differently from the claim, and the real model does so on the seed.

Most tests use a small stand-in encoder (hashed words, with a few synonyms folded together), quick and exact; the
last ones use the real model (all-MiniLM-L6-v2 as int8 ONNX, installed with the package)."""

import hashlib
import shutil

import pytest

numpy = pytest.importorskip("numpy")

from conftest import ROOT  # noqa: E402

from evidence import Library  # noqa: E402
from evidence.index.rank import Ranked, fuse  # noqa: E402
from evidence.jobs import suggest  # noqa: E402
from evidence.meaning.embeddings import FILE_NAME, EmbeddingIndex, embedding_text  # noqa: E402
from evidence.store import bibtex  # noqa: E402
from evidence.store.bibfile import make_work  # noqa: E402
from evidence.store.folder import EMBEDDINGS_DIR as FOLDER  # noqa: E402

SAME_MEANING = {"vagal": "parasympathetic", "vagus": "parasympathetic", "neuropathic": "nerve", "pain": "nerve"}


class StandInEncoder:
    """Hashes each word (after folding synonyms) into 64 dimensions: texts sharing meaning words end up close."""

    def __init__(self):
        self.encoded: list[str] = []

    def encode(self, texts):
        self.encoded.extend(texts)
        rows = numpy.zeros((len(texts), 64), dtype=numpy.float32)
        for row, text in enumerate(texts):
            for word in text.lower().replace(".", " ").split():
                word = SAME_MEANING.get(word, word)
                rows[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % 64] += 1.0
        norms = numpy.linalg.norm(rows, axis=1, keepdims=True)
        return rows / numpy.where(norms == 0, 1, norms)


def work(key: str, title: str, abstract: str):
    return make_work(key, "article", bibtex.encode_fields({"title": title, "abstract": abstract, "year": "2020"}))


def test_only_new_or_changed_works_are_embedded_and_removed_ones_dropped(tmp_path):
    encoder = StandInEncoder()
    vectors = EmbeddingIndex(tmp_path, encoder)
    first = [work(f"w{n}", f"title {n}", f"abstract about topic {n}") for n in range(5)]
    assert vectors.sync(first, signature=[1, 2, 3]) == 5
    changed = [work("w0", "title 0", "a new abstract"), *first[1:4], work("w9", "added", "text")]
    reopened = EmbeddingIndex(tmp_path, encoder)
    encoder.encoded.clear()
    assert reopened.sync(changed, signature=[4, 5, 6]) == 2
    assert encoder.encoded == [embedding_text(changed[0]), embedding_text(changed[-1])]
    assert len(reopened) == 5 and "w4" not in reopened.nearest(reopened.vector("topic"), limit=10)
    assert EmbeddingIndex(tmp_path, encoder).is_current([4, 5, 6])
    assert not EmbeddingIndex(tmp_path, encoder).is_current([1, 2, 3])


def test_unchanged_works_cost_no_encoding_and_a_new_signature_is_only_recorded(tmp_path):
    encoder = StandInEncoder()
    works = [work("a", "nerve repair", "text"), work("b", "endorphins", "text")]
    EmbeddingIndex(tmp_path, encoder).sync(works, signature=[1, 1, 1])
    encoder.encoded.clear()
    again = EmbeddingIndex(tmp_path, encoder)
    assert again.sync(works, signature=[2, 2, 2]) == 0 and encoder.encoded == []
    assert EmbeddingIndex(tmp_path, encoder).is_current([2, 2, 2])


def test_a_damaged_vectors_file_is_noted_and_made_again_from_the_works(tmp_path):
    notes = []
    works = [work("a", "nerve repair", "text")]
    EmbeddingIndex(tmp_path, StandInEncoder()).sync(works, signature=[1, 1, 1])
    (tmp_path / FILE_NAME).write_bytes(b"PK\x03\x04 not really a zip")
    damaged = EmbeddingIndex(tmp_path, StandInEncoder(), notify=notes.append)
    assert not damaged.is_current([1, 1, 1]) and notes
    assert damaged.sync(works, signature=[1, 1, 1]) == 1
    again = EmbeddingIndex(tmp_path, StandInEncoder())
    assert again.nearest(again.vector("nerve repair text"), 1) == {"a": pytest.approx(1.0)}


def test_nearest_gives_the_closest_works_and_the_named_ones(tmp_path):
    vectors = EmbeddingIndex(tmp_path, StandInEncoder())
    vectors.sync([work("near", "vagal tone", ""), work("far", "bone density", ""), work("other", "x y", "")])
    found = vectors.nearest(vectors.vector("parasympathetic tone"), limit=1, also=["far", "missing"])
    assert list(found) == ["near", "far"] and found["near"] > found["far"]


def test_fuse_blends_word_and_meaning_scores_and_admits_works_found_by_meaning_alone():
    words = [Ranked("lexical", 2.0, (0,)), Ranked("both", 1.0, (1,))]
    fused = fuse(words, {"both": 0.9, "lexical": 0.1, "meaning": 0.8}, weight=0.7)
    assert [r.key for r in fused] == ["both", "meaning", "lexical"]
    assert fused[0].score == pytest.approx(0.3 * 0.5 + 0.7 * 0.9) and fused[1].best == ()


def test_suggest_with_embeddings_finds_support_worded_differently_and_shows_the_sentence_closest_in_meaning(tmp_path):
    library = Library.create(tmp_path / "lib")
    works = [
        work("hrv", "Heart rhythm after needling", "Vagal activity rose after treatment. Heart rate fell."),
        work("other", "Bone density in runners", "Parasympathetic words are absent here. Runners ran."),
        *[work(f"filler{n}", f"Unrelated study {n}", f"Cells grew in culture {n}.") for n in range(10)],
    ]
    library.index.sync(works)  # works handed in directly, as the benchmark does
    vectors = EmbeddingIndex(tmp_path / "vectors", StandInEncoder())
    words_only = suggest.suggest(library.store, library.index, "needling raises vagus tone", limit=3, works=works)
    blended = suggest.suggest(
        library.store, library.index, "needling raises vagus tone", limit=3, works=works, embeddings=vectors
    )
    assert words_only[0].key == "hrv" and blended[0].key == "hrv"
    meaning_only = suggest.suggest(
        library.store, library.index, "parasympathetic", limit=2, works=works, embeddings=vectors
    )
    assert {hit.key for hit in meaning_only} == {"other", "hrv"}  # hrv shares no word with the claim
    hrv = next(hit for hit in meaning_only if hit.key == "hrv")
    # the sentence closest in meaning, though it shares no word with the claim, labelled with where it comes from
    assert hrv.passage == "Vagal activity rose after treatment. Heart rate fell."
    assert (hrv.passage_by, hrv.passage_source) == ("meaning", "abstract")
    assert words_only[0].passage_by == "words"


def test_turning_meaning_on_without_the_model_installed_is_a_sentence_not_a_traceback(run, tmp_path, monkeypatch):
    import evidence.meaning.embeddings

    monkeypatch.setattr(evidence.meaning.embeddings, "available", lambda: False)
    monkeypatch.setenv("EVIDENCE_SEMANTIC", "on")
    seed = tmp_path / "seed"
    shutil.copytree(ROOT / "library", seed, ignore=shutil.ignore_patterns(".index", ".lock", FOLDER))
    result = run("--library", seed, "suggest", "nerve repair")
    assert result.exit_code == 2 and "reinstall evidence" in result.stderr and "Traceback" not in result.stderr
    monkeypatch.setenv("EVIDENCE_SEMANTIC", "off")
    assert run("--library", seed, "suggest", "nerve repair").exit_code == 0
    assert not (seed / FOLDER).exists()


def test_the_real_model_ranks_the_seed_review_first_for_a_claim_in_other_words(tmp_path, run):
    seed = tmp_path / "seed"
    shutil.copytree(ROOT / "library", seed, ignore=shutil.ignore_patterns(".index", ".lock", FOLDER))
    result = run("--library", seed, "suggest", "needling calms the body by strengthening vagal activity", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["hits"][0]["key"] == "hamvas2023acupuncture"
    assert (seed / FOLDER / FILE_NAME).is_file() and "Embedding 5 works" in result.stderr
    again = run("--library", seed, "suggest", "acupuncture and endorphins", "--json")
    assert again.exit_code == 0 and "Embedding" not in again.stderr  # nothing new to embed


def test_the_real_model_embeds_only_the_work_added_to_the_library(tmp_path):
    seed = tmp_path / "seed"
    shutil.copytree(ROOT / "library", seed, ignore=shutil.ignore_patterns(".index", ".lock", FOLDER))
    library = Library.open(seed)
    library.suggest("nerve repair")
    reports = []
    source = tmp_path / "one.json"
    source.write_text(
        '[{"id": "new2024", "type": "article-journal", "title": "Vagus nerve stimulation and heart rate variability",'
        ' "abstract": "Stimulating the vagus nerve raised heart rate variability."}]'
    )
    library.import_file(source)
    hits = library.suggest("parasympathetic tone rises", limit=3, progress=lambda done, total: reports.append(total))
    assert reports and set(reports) == {1}
    assert "new2024" in [hit.key for hit in hits]


def test_the_quick_and_the_folded_sessions_give_the_same_vectors_and_similar_texts_are_close():
    from evidence.meaning.encoder import QUICK_RUNS, SentenceEncoder

    texts = [
        "Acupuncture raises parasympathetic tone.",
        "Needling increases vagal activity.",
        "Bone density of marathon runners.",
        "A systematic review and meta-analysis of nine randomised trials of heart-rate variability " * 12,  # > 256
        "",
    ]
    encoder = SentenceEncoder()
    quick = encoder.encode(texts)  # one run: the session that loads without folding its weights
    for _run in range(QUICK_RUNS):
        encoder.encode(["x"])
    folded = encoder.encode(texts)
    assert set(encoder._sessions) == {False, True}
    assert numpy.abs(quick - folded).max() < 1e-4
    assert numpy.allclose(numpy.linalg.norm(folded, axis=1), 1.0, atol=1e-5)
    similar, unrelated = folded[0] @ folded[1], folded[0] @ folded[2]
    assert similar > 0.2 > unrelated and similar > 2 * unrelated


def test_a_model_file_that_is_not_the_pinned_one_is_refused_with_a_sentence(tmp_path):
    from evidence.meaning.encoder import ModelError, SentenceEncoder, model_file

    changed = tmp_path / "model.onnx"
    data = bytearray(model_file().read_bytes())
    data[-1] ^= 1
    changed.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="sha256 differs"):
        SentenceEncoder(changed)


def test_sentence_vectors_are_kept_between_runs_and_the_oldest_go_past_the_limit(tmp_path, monkeypatch):
    from evidence.meaning import sentences

    encoder = StandInEncoder()
    first = sentences.SentenceVectors(tmp_path, encoder).vectors(["Vagal tone rose.", "Bone density fell."])
    encoder.encoded.clear()
    again = sentences.SentenceVectors(tmp_path, encoder)
    assert numpy.array_equal(again.vectors(["Bone density fell."]), first[1:]) and encoder.encoded == []
    monkeypatch.setattr(sentences, "LIMIT", 3)
    again.vectors(["One.", "Two."])
    fresh = sentences.SentenceVectors(tmp_path, encoder)
    encoder.encoded.clear()
    fresh.vectors(["Two.", "Vagal tone rose."])
    assert encoder.encoded == ["Vagal tone rose."]  # the oldest went to make room; the newer ones were kept


def test_a_damaged_sentence_cache_is_made_again(tmp_path):
    from evidence.meaning import sentences

    (tmp_path / sentences.FILE_NAME).write_bytes(b"not a database at all" * 100)
    encoder = StandInEncoder()
    assert sentences.SentenceVectors(tmp_path, encoder).vectors(["Vagal tone rose."]).shape == (1, 64)
    encoder.encoded.clear()
    sentences.SentenceVectors(tmp_path, encoder).vectors(["Vagal tone rose."])
    assert encoder.encoded == []


def test_the_default_install_ranks_the_hrv_review_first_for_the_seeds_vagal_claim(run, seed):
    result = run("--library", seed, "suggest", "acupuncture raises vagal activity", "--json")
    assert result.exit_code == 0, result.stderr
    first = result.json()["hits"][0]
    assert first["key"] == "hamvas2023acupuncture"
    assert first["passage_source"] == "note" and first["stance_hint"] == ""
    assert "parasympathetic" in first["passage"]  # the sentence that answers, though it shares no word but one


def test_a_work_with_neither_abstract_nor_note_shows_its_title_labelled_as_such(tmp_path):
    library = Library.create(tmp_path / "lib")
    works = [
        make_work("bare", "article", bibtex.encode_fields({"title": "Vagal tone after needling", "year": "2020"})),
        work("full", "Bone density", "Runners ran far."),
    ]
    library.index.sync(works)
    vectors = EmbeddingIndex(tmp_path / "vectors", StandInEncoder())
    hits = suggest.suggest(library.store, library.index, "vagal tone", limit=2, works=works, embeddings=vectors)
    bare = next(hit for hit in hits if hit.key == "bare")
    assert bare.passage_source == "title" and bare.passage == "**Vagal** **tone** after needling"
    assert next(hit for hit in hits if hit.key == "full").passage_source == "abstract"


def test_another_models_vectors_are_removed_when_these_are_saved(tmp_path):
    old = tmp_path / "all-MiniLM-L6-v2.npz"  # what the PyTorch extra wrote
    old.write_bytes(b"old vectors")
    EmbeddingIndex(tmp_path, StandInEncoder()).sync([work("a", "nerve repair", "text")], signature=[1, 1, 1])
    assert not old.exists() and (tmp_path / FILE_NAME).is_file()
