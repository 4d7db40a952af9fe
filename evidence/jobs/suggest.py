"""`evidence suggest`: the works that best support a claim, by words and meaning; and
`--link`, which records the chosen works in claims.toml."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from evidence.errors import BadInputError, UsageError
from evidence.jobs.search import ranked_with_works
from evidence.model import Work
from evidence.results.claims import Suggestion

if TYPE_CHECKING:  # annotations only: the interfaces cost nothing at run time
    from evidence.protocols import LibraryStore, WorkIndex


@dataclass(frozen=True)
class Ranking:
    """A claim's works in order, with what presenting them needs: their texts, the claim's terms and vector."""

    ranked: list
    texts: dict
    by_key: dict[str, Work]
    terms: list[str]
    idf: dict[str, float]
    vector: object = None  # the claim's vector, when meaning was used


def rank(
    store: LibraryStore,
    index: WorkIndex,
    text: str,
    works: list[Work] | None = None,
    pool: int = 100,
    weight: float | None = None,
    embeddings=None,
    meaning_weight: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Ranking:
    """Works ranked by how well they support ``text``: BM25F candidates re-ranked by their best sentences, blended
    with the meaning of the whole work when ``embeddings`` (the works' vectors) are given."""
    from evidence.index.rank import MEANING_WEIGHT, SENTENCE_WEIGHT, analysed, fuse, rerank

    if not text.strip():
        raise BadInputError("There is no claim text to find support for.")
    with ThreadPoolExecutor(max_workers=1) as helper:
        # The claim's vector is computed beside the word search: the model's arithmetic runs outside the GIL, so on
        # two cores the two overlap (a suggest call took the sum of both, 100 ms on SciFact, before).
        vector = helper.submit(embeddings.vector, text) if embeddings is not None else None
        (raw, terms, idf), by_key = ranked_with_works(store, index, lambda: index.candidates(text, limit=pool), works)
        meaning: dict[str, float] = {}
        if vector is not None:
            _bring_up_to_date(store, embeddings, works, progress)
            vector = vector.result()
            meaning = embeddings.nearest(vector, pool, also=[hit.key for hit in raw])
            missing = [key for key in meaning if key not in by_key]
            if missing:
                by_key.update(_works_by_key(store, missing, works))
    texts = {}
    for key in [hit.key for hit in raw] + list(meaning):
        work = by_key.get(key)
        if work is not None and key not in texts:
            text_of = analysed(index.analyse, work.get("abstract"), work.get("annotation"))
            texts[key] = text_of if text_of.sentences else analysed(index.analyse, work.title)
    ranked = rerank(
        [(h.key, h.score) for h in raw if h.key in texts],
        texts,
        terms,
        idf,
        SENTENCE_WEIGHT if weight is None else weight,
    )
    if embeddings is not None:
        meaning = {key: score for key, score in meaning.items() if key in texts}
        ranked = fuse(ranked, meaning, MEANING_WEIGHT if meaning_weight is None else meaning_weight)
    return Ranking(ranked, texts, by_key, terms, idf, vector)


def suggest(
    store: LibraryStore, index: WorkIndex, text: str, limit: int = 10, pool: int = 100, **ranking
) -> list[Suggestion]:
    """The ``limit`` best works for ``text`` (``ranking``: the options of ``rank``), each with its passage (the two
    sentences that best match the claim by words and meaning), where the passage comes from, and a hint when the
    passage appears to contradict the claim."""
    from evidence.claims.design import design_of
    from evidence.claims.stance import contradiction_cue
    from evidence.index.rank import choose_passage, scored_sentences
    from evidence.index.snippets import mark

    if limit < 1:
        raise UsageError("--limit must be at least 1.")
    ordered = rank(store, index, text, pool=max(pool, limit), **ranking)
    texts, by_key, terms, idf = ordered.texts, ordered.by_key, ordered.terms, ordered.idf
    shown = ordered.ranked[:limit]
    cosines = {}
    if ordered.vector is not None:
        cosines = _sentence_cosines(ranking["embeddings"], ordered.vector, [texts[item.key] for item in shown])
    found = []
    for number, item in enumerate(shown):
        work = by_key[item.key]
        sentences_of = texts[item.key]
        word_scores = [0.0] * len(sentences_of.sentences)
        for score, sentence_number in scored_sentences(sentences_of, terms, idf):
            word_scores[sentence_number] = score
        chosen, by = choose_passage(word_scores, cosines.get(number))
        marked, matched = [], set()
        for sentence_number in chosen:
            sentence, hit_terms = mark(sentences_of.sentences[sentence_number], set(terms), index.stem)
            marked.append(sentence)
            matched |= hit_terms
        plain = " ".join(sentences_of.sentences[n] for n in chosen)
        cue = contradiction_cue(text, plain)
        found.append(
            Suggestion(
                item.key,
                round(item.score, 4),
                work.first_author,
                work.year,
                work.title,
                work.doi,
                " ".join(marked),
                tuple(sorted(matched)),
                design_of(work).name,
                passage_source=", ".join(dict.fromkeys(_sources_of(work)(n) for n in chosen)),
                passage_by=by,
                stance_hint="contradicts" if cue else "",
                stance_cue=cue,
            )
        )
    return found


def _sentence_cosines(embeddings, claim_vector, texts: list) -> dict[int, list[float]]:
    """For each shown work (by its place in ``texts``), how close each of its sentences is in meaning to the claim."""
    everything = [sentence for text in texts for sentence in text.sentences]
    if not everything:
        return {}
    scores = (embeddings.sentences.vectors(everything) @ claim_vector).tolist()
    cosines, start = {}, 0
    for number, text in enumerate(texts):
        cosines[number] = scores[start : start + len(text.sentences)]
        start += len(text.sentences)
    return cosines


def _sources_of(work: Work) -> Callable[[int], str]:
    """Where each sentence of a work's analysed text comes from, by its number: the abstract, the user's note (the
    note's sentences follow the abstract's), or the title when the work has neither."""
    from evidence.index.rank import split_sentences

    if not (work.get("abstract") or work.get("annotation")):
        return lambda _number: "title"
    in_abstract = len(split_sentences(work.get("abstract")))
    return lambda number: "abstract" if number < in_abstract else "note"


def _bring_up_to_date(store: LibraryStore, embeddings, works: list[Work] | None, progress) -> None:
    """Embed any work that is new or changed since the vectors were last synced (only then is references.bib read)."""
    signature = store.bib_signature()
    if not embeddings.is_current(signature):
        embeddings.sync(works if works is not None else store.load_bib().each_work(), signature, progress)


def _works_by_key(store: LibraryStore, keys: list[str], works: list[Work] | None) -> dict[str, Work]:
    if works is not None:
        wanted = set(keys)
        return {work.key: work for work in works if work.key in wanted}
    found = store.works_by_key(keys) if store.has_entry_map() else None
    if found is None:  # only the hits decoded, not every work
        found = {work.key: work for work in store.load_bib().works_with_keys(set(keys))}
    return found


def link_supports(
    store: LibraryStore, claim_id: str, keys: list[str], stance: str, hits: list[Suggestion], claim_text: str = ""
):
    """Record ``keys`` as evidence for a claim in claims.toml, each with the passage ``suggest`` found for it when
    the work's abstract or note says it (locator 'abstract' or 'note'); a passage that came from the title is no
    passage, so none is stored."""
    from evidence.claims.ledger import find_passage

    with store.locked():
        bib = store.load_bib()
        known = {key.lower(): work for key in keys if (work := bib.by_key(key)) is not None}
        missing = [key for key in keys if key.lower() not in known]
        if missing:
            raise BadInputError(f"No work with the key {', '.join(missing)} is in the library.")
        found = {hit.key.lower(): hit.passage.replace("**", "") for hit in hits}
        passages: dict[str, tuple[str, str]] = {}
        for key in keys:
            work, passage = known[key.lower()], found.get(key.lower(), "")
            for field, locator in (("abstract", "abstract"), ("annotation", "note")):
                if passage and find_passage(passage, work.get(field)) == "exact":
                    passages[work.key] = (passage, locator)
                    break
        return store.link_supports(claim_id, [known[k.lower()].key for k in keys], stance, passages, claim_text)
