"""Ranking works for a claim: BM25F finds the candidates, the best-matching sentences and (when the model is
installed) the meaning of the whole abstract decide the order.

A work supports a claim when one or two of its sentences say what the claim says, not when its words are scattered
over a long abstract. So each candidate is scored by how much of the claim's weight (IDF of its terms) its best
sentence covers, blended with the normalised BM25F score. With embeddings, that word score is blended again with
the cosine similarity of the claim and the work, which finds support worded differently from the claim. The
weights were tuned on SciFact's training claims (bench/scifact.py); pure functions, so the bench and the command
rank alike.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from evidence.index.snippets import sentences

SENTENCE_WEIGHT = 0.5  # tuned on SciFact training claims; see bench/RESULTS.md
SECOND_SENTENCE = 0.3  # a second good sentence adds a little: findings often span two
MEANING_WEIGHT = 0.7  # share of the cosine similarity when embeddings are used; tuned on SciFact training claims
PASSAGE_MEANING_WEIGHT = 0.3  # share of the cosine in choosing a work's passage; tuned on SciFact training claims


@dataclass(frozen=True)
class Ranked:
    key: str
    score: float
    best: tuple[int, ...]  # indexes of the best sentences, best first


@dataclass(frozen=True)
class Analysed:
    """A work's sentences and the index terms of each."""

    sentences: tuple[str, ...]
    terms: tuple[frozenset[str], ...]


@functools.lru_cache(maxsize=10_000)
def analysed(analyse: Callable[[str], list[str]], *texts: str) -> Analysed:
    """The sentences of a work's texts with their terms. Cached: the same works come back as candidates claim after
    claim, and analysing their sentences was a third of a suggest call."""
    found = tuple(split_sentences(*texts))
    return Analysed(found, tuple(frozenset(analyse(sentence)) for sentence in found))


def scored_sentences(text: Analysed | None, terms: list[str], idf: dict[str, float]) -> list[tuple[float, int]]:
    """(share of the claim's IDF weight a sentence covers, sentence number), best first, earlier first on ties."""
    total = sum(idf.get(t, 0.0) for t in terms)
    if not text or not total:
        return [(0.0, number) for number in range(len(text.terms) if text else 0)]
    scored = [
        (sum(idf.get(t, 0.0) for t in terms if t in tokens) / total, number) for number, tokens in enumerate(text.terms)
    ]
    scored.sort(key=lambda pair: (-pair[0], pair[1]))
    return scored


def rerank(
    candidates: list[tuple[str, float]],
    texts: dict[str, Analysed],
    terms: list[str],
    idf: dict[str, float],
    weight: float = SENTENCE_WEIGHT,
) -> list[Ranked]:
    """Candidates (key, BM25F score) in their new order, each with its best sentences."""
    if not candidates:
        return []
    top = max(score for _key, score in candidates) or 1.0
    ranked = []
    for key, score in candidates:
        scored = scored_sentences(texts.get(key), terms, idf)
        best = scored[0][0] if scored else 0.0
        second = scored[1][0] if len(scored) > 1 else 0.0
        passage_score = (best + SECOND_SENTENCE * second) / (1 + SECOND_SENTENCE)
        final = (1 - weight) * (score / top) + weight * passage_score
        ranked.append(Ranked(key, final, tuple(number for _s, number in scored[:2])))
    ranked.sort(key=lambda r: -r.score)
    return ranked


def fuse(words: list[Ranked], meaning: dict[str, float], weight: float = MEANING_WEIGHT) -> list[Ranked]:
    """Word-ranked candidates (and any others the meaning scores name) re-ordered by a blend of the two scores.

    The word score is scaled so the best candidate has 1; the cosine is used as it is (it is already on a fixed
    scale, and scaling it too tuned 0.004 worse). A candidate found by meaning alone has a word score of 0.
    """
    top = max((r.score for r in words), default=0.0) or 1.0
    by_key = {r.key: r for r in words}
    keys = list(by_key) + [key for key in meaning if key not in by_key]
    fused = [
        Ranked(
            key,
            (1 - weight) * (by_key[key].score / top if key in by_key else 0.0) + weight * meaning.get(key, 0.0),
            by_key[key].best if key in by_key else (),
        )
        for key in keys
    ]
    fused.sort(key=lambda r: -r.score)
    return fused


def choose_passage(
    word_scores: list[float], cosines: list[float] | None = None, weight: float = PASSAGE_MEANING_WEIGHT
) -> tuple[list[int], str]:
    """The two sentences a suggestion shows, in text order, and how the first choice was made.

    ``word_scores``: each sentence's share of the claim's word weight; ``cosines``: each sentence's closeness in
    meaning to the claim (None without the model). Without meaning, the two best by words (the first two when no
    word matches). With it, the two best by a blend of both, so a sentence saying "parasympathetic tone" can lead
    for "vagal activity", which shares no word with it; "meaning" says the lead is not the best by words alone."""
    count = len(word_scores)
    by_words = sorted(range(count), key=lambda n: (-word_scores[n], n))
    if cosines is None:
        return sorted(by_words[:2]), "words"
    blended = [(1 - weight) * word_scores[n] + weight * cosines[n] for n in range(count)]
    by_both = sorted(range(count), key=lambda n: (-blended[n], n))
    matched = bool(by_words) and word_scores[by_words[0]] > 0
    how = "words and meaning" if matched and by_both[0] == by_words[0] else "meaning"
    return sorted(by_both[:2]), how


def split_sentences(*texts: str) -> list[str]:
    found = []
    for text in texts:
        found.extend(sentences(text or ""))
    return found
