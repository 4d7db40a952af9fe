"""`evidence suggest`: the works that best support a claim, by words and (with the optional model) meaning; and
`--link`, which records the chosen works in claims.toml."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from evidence.errors import BadInputError, UsageError
from evidence.jobs.search import ranked_with_works
from evidence.model import Work
from evidence.results import Suggestion

if TYPE_CHECKING:  # annotations only: the interfaces cost nothing at run time
    from evidence.protocols import LibraryStore, WorkIndex


def suggest(
    store: LibraryStore,
    index: WorkIndex,
    text: str,
    limit: int = 10,
    works: list[Work] | None = None,
    pool: int = 100,
    weight: float | None = None,
    embeddings=None,
    meaning_weight: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Suggestion]:
    """Works ranked by how well they support ``text``: BM25F candidates re-ranked by their best sentences, blended
    with the meaning of the whole work when ``embeddings`` (the optional model's vectors) are given."""
    from evidence.claims.design import design_of
    from evidence.index.rank import MEANING_WEIGHT, SENTENCE_WEIGHT, analysed, fuse, rerank, scored_sentences
    from evidence.index.snippets import mark

    if limit < 1:
        raise UsageError("--limit must be at least 1.")
    if not text.strip():
        raise BadInputError("There is no claim text to find support for.")
    pool = max(pool, limit)
    with ThreadPoolExecutor(max_workers=1) as helper:
        # The claim's vector is computed beside the word search: the model's arithmetic runs outside the GIL, so on
        # two cores the two overlap (a suggest call took the sum of both, 100 ms on SciFact, before).
        vector = helper.submit(embeddings.vector, text) if embeddings is not None else None
        (raw, terms, idf), by_key = ranked_with_works(store, index, lambda: index.candidates(text, limit=pool), works)
        meaning: dict[str, float] = {}
        if vector is not None:
            _bring_up_to_date(store, embeddings, works, progress)
            meaning = embeddings.nearest(vector.result(), pool, also=[hit.key for hit in raw])
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
    found = []
    for item in ranked[:limit]:
        work = by_key[item.key]
        sentences_of = texts[item.key]
        chosen = sorted(item.best[:2] or [n for _s, n in scored_sentences(sentences_of, terms, idf)[:2]])
        marked, matched = [], set()
        for number in chosen:
            sentence, hit_terms = mark(sentences_of.sentences[number], set(terms), index.stem)
            marked.append(sentence)
            matched |= hit_terms
        design = design_of(work).name
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
                design,
            )
        )
    return found


def _bring_up_to_date(store: LibraryStore, embeddings, works: list[Work] | None, progress) -> None:
    """Embed any work that is new or changed since the vectors were last synced (only then is references.bib read)."""
    signature = store.bib_signature()
    if not embeddings.is_current(signature):
        embeddings.sync(works if works is not None else store.load_bib().works, signature, progress)


def _works_by_key(store: LibraryStore, keys: list[str], works: list[Work] | None) -> dict[str, Work]:
    if works is not None:
        wanted = set(keys)
        return {work.key: work for work in works if work.key in wanted}
    found = store.works_by_key(keys) if store.has_entry_map() else None
    if found is None:
        found = {work.key: work for work in store.load_bib().works}
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
        known = {work.key.lower(): work for work in bib.works}
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
