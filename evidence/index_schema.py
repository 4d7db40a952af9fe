"""The Whoosh schema of the index, and the fast analysis it indexes with.

Kept apart from ``index.py`` because defining these classes imports Whoosh, which only the commands that search
should pay for. The classes are pickled into the index's table of contents, so their names are part of the format:
renaming one makes old indexes unreadable, and the index then rebuilds itself from references.bib.

Why a custom analyzer: Whoosh's StemmingAnalyzer is a chain of generators passing a Token object through a
tokenizer and three filters, which costs more than the rest of indexing put together. ``EvidenceAnalyzer`` does the
same steps (the tokenizer's expression, lower case, Whoosh's stop list and minimum length, renumbered positions,
the Porter stemmer with a cache) in one loop, and ``FastText.index`` skips the Token objects entirely.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict

from whoosh import writing
from whoosh.analysis import STOP_WORDS, Analyzer, Token
from whoosh.fields import ID, TEXT, Schema
from whoosh.lang.porter import stem as porter

TOKEN = re.compile(r"\w+(?:\.?\w+)*")
STOP = frozenset(STOP_WORDS)


@functools.lru_cache(maxsize=200_000)
def stemmed(word: str) -> str:
    return porter(word)


def terms_with_spans(text: str) -> tuple[int, list[tuple[str, int, int]]]:
    """(term, start, end) for each indexed word of ``text`` (the StemmingAnalyzer's tokens, in order), and the
    position of the first: Whoosh renumbers positions after dropping stop words, but from the first kept word's."""
    kept, first = [], 0
    for number, match in enumerate(TOKEN.finditer(text or "")):
        word = match.group().lower()
        if len(word) > 1 and word not in STOP:
            if not kept:
                first = number
            kept.append((stemmed(word), match.start(), match.end()))
    return first, kept


def terms(text: str) -> list[str]:
    """The indexed words of ``text`` in order (stop words and one-letter words dropped, stemmed)."""
    words = (w.lower() for w in TOKEN.findall(text or ""))
    return [stemmed(w) for w in words if len(w) > 1 and w not in STOP]


def _first_kept(words: list[str]) -> int:
    for number, word in enumerate(words):
        if len(word) > 1 and word not in STOP:
            return number
    return 0


class EvidenceAnalyzer(Analyzer):
    """StemmingAnalyzer's output from one loop; used for queries and for anything Whoosh analyses itself."""

    def __init__(self, stem: bool = True):
        self.stem = stem

    def __eq__(self, other):
        return isinstance(other, EvidenceAnalyzer) and other.stem == self.stem

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        tokenize=True,
        mode="",
        **kwargs,
    ):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        token.boost = 1.0
        first = 0
        if not tokenize:
            spans = [(value.lower(), 0, len(value))]
        elif self.stem:
            first, spans = terms_with_spans(value)
        else:
            spans = ((m.group().lower(), m.start(), m.end()) for m in TOKEN.finditer(value))
        for position, (text, start, end) in enumerate(spans, start_pos + first):
            token.text = text
            token.stopped = False
            if keeporiginal:
                token.original = value[start:end]
            if positions:
                token.pos = position
            if chars:
                token.startchar, token.endchar = start_char + start, start_char + end
            yield token


class FastText(TEXT):
    """A TEXT field (positions kept, for phrases) whose indexing goes straight from words to postings."""

    def index(self, value, **kwargs):
        stem = getattr(self.analyzer, "stem", None)
        if stem is None:  # another analyzer: Whoosh's own path
            yield from super().index(value, **kwargs)
            return
        positions = defaultdict(list)
        raw = [w.lower() for w in TOKEN.findall(value)]
        words = [stemmed(w) for w in raw if len(w) > 1 and w not in STOP] if stem else raw
        for position, word in enumerate(words, _first_kept(raw) if stem else 0):
            positions[word].append(position)
        encode, boost = self.format.encode, self.format.field_boost
        for word, where in positions.items():
            value = _single_position(where[0]) if len(where) == 1 else encode(where)
            yield word.encode("utf-8"), len(where), len(where) * boost, value


@functools.lru_cache(maxsize=4096)
def _single_position(position: int) -> bytes:
    """The Positions format's bytes for a word that occurs once (most words of an abstract): computed once each."""
    from whoosh.formats import Positions

    return Positions().encode([position])


def schema() -> Schema:
    """One scored text field per thing a user may search by; ``body`` holds all of a work's prose at once.

    ``body`` (title, abstract, annotation, keywords) is what claims are matched against: one BM25 over all the
    prose ranked SciFact's claims better (nDCG@10 0.69) than summing separate title and abstract scores (0.67).
    ``title``, ``annotation`` and ``keywords`` are also indexed alone so a search can weight them above the rest.
    """
    stem = EvidenceAnalyzer()
    return Schema(
        key=ID(stored=True, unique=True),
        doi=ID(),
        title=FastText(analyzer=stem),
        body=FastText(analyzer=stem),
        annotation=FastText(analyzer=stem),
        keywords=FastText(analyzer=stem),
        authors=FastText(analyzer=EvidenceAnalyzer(stem=False)),
        journal=FastText(analyzer=stem),
        year=ID(),
        type=ID(),
    )


class _CachedLengths:
    """A per-document reader whose field lengths are read once per document instead of once per posting.

    When Whoosh writes a segment it asks for the document's field length for every posting (to store each block's
    length bounds), reading a column file each time: a fifth of indexing time. The answers are the same; a test
    checks that an index built with and without this cache gives identical results."""

    def __init__(self, reader):
        self._reader, self._lengths = reader, {}

    def doc_field_length(self, docnum, fieldname, default=0):
        lengths = self._lengths.get(fieldname)
        if lengths is None:
            read = self._reader.doc_field_length
            lengths = self._lengths[fieldname] = [
                read(d, fieldname, default) for d in range(self._reader.doc_count_all())
            ]
        return lengths[docnum] if 0 <= docnum < len(lengths) else default

    def __getattr__(self, name):
        return getattr(self._reader, name)


def _cache_length_lookups() -> None:
    original = getattr(writing.SegmentWriter, "per_document_reader", None)
    if original is None or getattr(original, "caches_lengths", False):
        return

    def per_document_reader(self):
        return _CachedLengths(original(self))

    per_document_reader.caches_lengths = True
    per_document_reader.original = original
    writing.SegmentWriter.per_document_reader = per_document_reader


_cache_length_lookups()
