"""The Whoosh schema of the index, and the fast analysis it indexes with.

Kept apart from ``index.search_index`` because defining these classes imports Whoosh, which only the commands that
search should pay for. The classes are pickled into the index's table of contents, so their names are part of the
format: renaming one makes old indexes unreadable, and the index then rebuilds itself from references.bib.

Why a custom analyzer: Whoosh's StemmingAnalyzer is a chain of generators passing a Token object through a
tokenizer and three filters, which costs more than the rest of indexing put together. ``EvidenceAnalyzer`` does the
same steps (the tokenizer's expression, lower case, Whoosh's stop list and minimum length, renumbered positions,
the Porter stemmer with a cache) in one loop, and ``FastText.index`` skips the Token objects entirely.
"""

from __future__ import annotations

import functools
import re
import struct
from collections import defaultdict

from whoosh.analysis import STOP_WORDS, Analyzer, Token
from whoosh.fields import ID, TEXT, Schema
from whoosh.lang.porter import stem as porter

from evidence.index.spelling import american

TOKEN = re.compile(r"\w+(?:\.?\w+)*")
STOP = frozenset(STOP_WORDS)


@functools.lru_cache(maxsize=200_000)
def stemmed(word: str) -> str:
    """A lower-case word's index term: its American spelling (so randomised finds randomized), Porter-stemmed."""
    return porter(american(word))


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

    def postings(self, value: str) -> list[tuple[str, int, bytes]]:
        """(word, frequency, encoded positions) for each distinct indexed word of ``value``, in first-seen order."""
        stem = self.analyzer.stem
        positions = defaultdict(list)
        raw = [w.lower() for w in TOKEN.findall(value)]
        words = [stemmed(w) for w in raw if len(w) > 1 and w not in STOP] if stem else raw
        for position, word in enumerate(words, _first_kept(raw) if stem else 0):
            positions[word].append(position)
        encode = self.format.encode
        return [
            (word, len(where), _single_position(where[0]) if len(where) == 1 else encode(where))
            for word, where in positions.items()
        ]

    def index(self, value, **kwargs):
        if getattr(self.analyzer, "stem", None) is None:  # another analyzer: Whoosh's own path
            yield from super().index(value, **kwargs)
            return
        boost = self.format.field_boost
        for word, frequency, encoded in self.postings(value):
            yield word.encode("utf-8"), frequency, frequency * boost, encoded


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
        pmid=ID(),
        title=FastText(analyzer=stem),
        body=FastText(analyzer=stem),
        annotation=FastText(analyzer=stem),
        keywords=FastText(analyzer=stem),
        authors=FastText(analyzer=EvidenceAnalyzer(stem=False)),
        journal=FastText(analyzer=stem),
        year=ID(),
        type=ID(),
    )


class PackedValues:
    """One block's posting values (each posting's encoded positions) as one bytes string and the end of each.

    Whoosh pickles a block's values as a tuple, one bytes object per posting, and unpickling those was most of the
    cost of reading a block, though ranking never looks at positions. Packed, a block unpickles as two objects; a
    phrase query's matcher only indexes the sequence, which gives each value back as it was. Written by
    ``_whoosh.bulk``; pickled into the index, so its name is part of the format."""

    __slots__ = ("data", "ends")

    def __init__(self, data: bytes, ends):
        self.data, self.ends = data, ends

    @classmethod
    def pack(cls, values: list[bytes]) -> PackedValues:
        from array import array
        from itertools import accumulate

        data = b"".join(values)
        return cls(data, array("H" if len(data) < 65536 else "I", accumulate(len(value) for value in values)))

    def __len__(self) -> int:
        return len(self.ends)

    def __getitem__(self, index: int) -> bytes:
        if index < 0:
            index += len(self.ends)
        return self.data[self.ends[index - 1] if index else 0 : self.ends[index]]

    def __iter__(self):
        return (self[index] for index in range(len(self.ends)))

    def take(self, indexes: list[int]) -> list[bytes]:
        """The values at ``indexes`` (from 0), in one pass: a phrase reads thousands of them per query."""
        data, ends = self.data, self.ends
        return [data[ends[index - 1] if index else 0 : ends[index]] for index in indexes]

    def __reduce__(self):
        return PackedValues, (self.data, self.ends)


# A common term's postings also as plain arrays, written by ``_whoosh.bulk`` right after the term's whoosh3 blocks and
# outside the extent Whoosh records for them (Whoosh never reads there): ranking a large library reads a word's
# postings in every field, and taking them as arrays costs a copy where unpickling the blocks cost a Python call per
# block. The layout: ``POSTING_ARRAYS_MAGIC``, then ``POSTING_ARRAYS_HEADER`` (posting count, the weights' code, two
# bytes of padding), then the count's document numbers (4-byte little-endian, from 0 in the segment), then the
# weights as the code says (see ``WEIGHT_CODES``). A term Whoosh's own writer wrote is followed by the next term's
# "W3Bl" or by nothing, so the magic tells the two apart.
POSTING_ARRAYS_MAGIC = b"\xffEVarr1\x00"
POSTING_ARRAYS_HEADER = struct.Struct("<IBxx")
# code -> NumPy dtype of the weights; code 0: every weight is 1 and none is written.
WEIGHT_CODES = {0: None, 1: "<u1", 2: "<u2", 4: "<f4"}
# Terms with fewer postings than this have no arrays: one block unpickles about as fast.
POSTING_ARRAYS_FROM = 128


def field_lengths(searcher, fieldname: str) -> list[float]:
    """Every document's length in a field as Whoosh's scorer sees it (its one-byte approximation, 1 when absent), by
    document number across segments; a whole column at a time where the segment allows it."""
    from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
    from whoosh.util.numeric import byte_to_length

    decoded = [1.0] + [float(byte_to_length(n)) for n in range(1, 256)]
    lengths: list[float] = []
    for leaf, _offset in searcher.reader().leaf_readers():  # in document-number order, back to back
        count = leaf.doc_count_all()
        try:
            column = leaf._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
            encoded = _whole_column(column, count) if column is not None else bytes(count)
        except AttributeError:  # another codec: ask document by document
            encoded = None
        if encoded is None:
            lengths.extend(float(leaf.doc_field_length(docnum, fieldname, 1) or 1) for docnum in range(count))
        else:
            lengths.extend(decoded[byte] for byte in encoded)
    return lengths


def _whole_column(column, count: int):
    """The one-byte length of each of ``count`` documents: a single read of a whole whoosh3 lengths column (a
    100,000-work library is slow to read a document at a time: bench/RESULTS.md), else one document at a time."""
    from whoosh.columns import NumericColumn

    if type(column) is NumericColumn.Reader and column._fixedlen == 1:
        stored = column._dbfile.get(column._basepos, min(column._count, count))
        return stored + bytes([column._default]) * (count - len(stored))  # documents past the end: the default
    return [column[docnum] for docnum in range(count)]
