"""Ranking works for a claim: BM25F finds the candidates, the best-matching sentences decide the order.

A work supports a claim when one or two of its sentences say what the claim says, not when its words are scattered
over a long abstract. So each candidate is scored by how much of the claim's weight (IDF of its terms) its best
sentence covers, blended with the normalised BM25F score. The weight was tuned on SciFact's training claims
(bench/scifact.py); pure functions, so the bench and the command rank alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .snippets import sentences

SENTENCE_WEIGHT = 0.5  # tuned on SciFact training claims; see bench/RESULTS.md
SECOND_SENTENCE = 0.3  # a second good sentence adds a little: findings often span two


@dataclass(frozen=True)
class Ranked:
    key: str
    score: float
    best: tuple[int, ...]  # indexes of the best sentences, best first


def coverage(tokens: set[str], terms: list[str], idf: dict[str, float]) -> float:
    total = sum(idf.get(t, 0.0) for t in terms)
    return sum(idf.get(t, 0.0) for t in terms if t in tokens) / total if total else 0.0


def rerank(
    candidates: list[tuple[str, float]],
    texts: dict[str, list[str]],
    terms: list[str],
    idf: dict[str, float],
    analyse: Callable[[str], list[str]],
    weight: float = SENTENCE_WEIGHT,
) -> list[Ranked]:
    """Candidates (key, BM25F score) in their new order, each with its best sentences."""
    if not candidates:
        return []
    top = max(score for _key, score in candidates) or 1.0
    ranked = []
    for key, score in candidates:
        scored = []
        for number, sentence in enumerate(texts.get(key, [])):
            scored.append((coverage(set(analyse(sentence)), terms, idf), number))
        scored.sort(key=lambda pair: (-pair[0], pair[1]))
        best = scored[0][0] if scored else 0.0
        second = scored[1][0] if len(scored) > 1 else 0.0
        passage_score = (best + SECOND_SENTENCE * second) / (1 + SECOND_SENTENCE)
        final = (1 - weight) * (score / top) + weight * passage_score
        ranked.append(Ranked(key, final, tuple(number for _s, number in scored[:2])))
    ranked.sort(key=lambda r: -r.score)
    return ranked


def split_sentences(*texts: str) -> list[str]:
    found = []
    for text in texts:
        found.extend(sentences(text or ""))
    return found
