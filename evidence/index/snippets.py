"""The best-matching sentence of a work for a query, with the query's terms marked.

Pure text logic; the caller passes the stemmer its index uses, so "repairs" in the abstract lights up for "repair".
Marked terms are wrapped in ``**`` (Markdown bold): readable as plain text and easy for a renderer to style.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])|\n\s*\n")
# The index's own token expression, so every word the index matched can be marked ("blood-pressure-lowering" holds
# three words for the index, and so here).
_WORD = re.compile(r"\w+(?:\.?\w+)*")


def sentences(text: str) -> list[str]:
    """Split prose into sentences (good enough for abstracts; never raises)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def mark(sentence: str, terms: set[str], stem: Callable[[str], str]) -> tuple[str, set[str]]:
    """The sentence with matching words wrapped in ``**``, and which query terms it matched."""
    found: set[str] = set()

    def replace(match: re.Match) -> str:
        word = match.group(0)
        lowered = word.lower()
        stemmed = stem(lowered)
        if stemmed in terms or lowered in terms:
            found.add(stemmed if stemmed in terms else lowered)
            return f"**{word}**"
        return word

    return _WORD.sub(replace, sentence), found


def best_passage(texts: Iterable[str], terms: Iterable[str], stem: Callable[[str], str], max_chars: int = 320):
    """(marked passage, matched terms) of the sentence that covers the most distinct query terms.

    Ties go to the earlier sentence (abstracts put the finding first or last; the first is the safer read).
    """
    wanted = {t.lower() for t in terms if t}
    best: tuple[int, int, str, set[str]] | None = None
    order = 0
    for text in texts:
        for sentence in sentences(text or ""):
            marked, found = mark(sentence, wanted, stem)
            score = len(found)
            if best is None or score > best[0]:
                best = (score, order, marked, found)
            order += 1
    if best is None:
        return "", ()
    passage = best[2]
    if len(passage) > max_chars:
        passage = _trim_around_marks(passage, max_chars)
    return passage, tuple(sorted(best[3]))


def _trim_around_marks(passage: str, max_chars: int) -> str:
    first = passage.find("**")
    start = max(0, first - max_chars // 3) if first >= 0 else 0
    start = passage.rfind(" ", 0, start) + 1 if start else 0
    cut = passage[start : start + max_chars]
    if cut.count("**") % 2:
        cut = cut[: cut.rfind("**")]
    cut = cut[: cut.rfind(" ")] if start + max_chars < len(passage) and " " in cut else cut
    return ("…" if start else "") + cut.strip() + ("…" if start + len(cut) < len(passage) else "")
