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
import struct
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


def _score_dismax_from_the_current_document() -> None:
    """Whoosh's DisjunctionMaxMatcher scores a document with the best *current* score of its two sides, even when
    one side stands on a later document: a word in one work's abstract took the title-boosted score of the next
    work with it in its title. Only a side on the current document may count (as UnionMatcher already does); a
    test checks each hit's score is the best of its own fields'."""
    from whoosh.matching.binary import DisjunctionMaxMatcher

    if getattr(DisjunctionMaxMatcher.score, "current_document_only", False):
        return

    def score(self):
        a, b = self.a, self.b
        if not a.is_active():
            return b.score()
        if not b.is_active():
            return a.score()
        a_id, b_id = a.id(), b.id()
        if a_id != b_id:
            return a.score() if a_id < b_id else b.score()
        return max(a.score(), b.score())

    score.current_document_only = True
    DisjunctionMaxMatcher.score = score


_score_dismax_from_the_current_document()


def _pickle_blocks_with_protocol_4() -> None:
    """Whoosh pickles each block of postings with protocol 2, in which every bytes value (a posting's positions)
    unpickles through a call to ``codecs.encode``: reading a block of 128 postings took 115 us, against 16 with
    protocol 4, which stores bytes as they are. ``loads`` reads both, so indexes written before still open; a
    test checks blocks are written with protocol 4."""
    import pickle

    from whoosh.codec import whoosh3

    if getattr(whoosh3.dumps, "protocol_4", False):
        return

    def dumps(value, protocol=None):
        return pickle.dumps(value, 4)

    dumps.protocol_4 = True
    whoosh3.dumps = dumps


_pickle_blocks_with_protocol_4()


class _MemoryStream:
    """A read-only file over a buffer (a slice of the memory-mapped segment) that copies only what is read: what
    Whoosh's matchers need to seek to a block and unpickle its header."""

    def __init__(self, buffer):
        self._buffer, self._position = buffer, 0

    def read(self, size: int | None = -1) -> bytes:
        start = self._position
        end = len(self._buffer) if size is None or size < 0 else min(len(self._buffer), start + size)
        self._position = max(start, end)
        return bytes(self._buffer[start:end])

    def readline(self, size: int | None = -1) -> bytes:
        start, limit = self._position, len(self._buffer) if size is None or size < 0 else self._position + size
        end = start
        while end < min(limit, len(self._buffer)):
            end += 1
            if self._buffer[end - 1] == 10:  # b"\n"
                break
        self._position = end
        return bytes(self._buffer[start:end])

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._position, 2: len(self._buffer)}[whence]
        self._position = max(0, base + offset)
        return self._position

    def tell(self) -> int:
        return self._position

    def __iter__(self):
        return iter(self.readline, b"")

    def close(self) -> None:
        self._buffer = b""


def _open_segment_files_without_copying() -> None:
    """Whoosh opens each file inside a segment as a ``BufferFile`` over the memory-mapped segment, and its
    constructor copies the whole file into a ``BytesIO``: opening a 100,000-work index copied its 430 MB of
    postings, a quarter of a second of every cold search and as much memory as the index. Reading through
    ``get`` only slices the buffer; reading it as a stream now copies only what is read (``_MemoryStream``)."""
    from whoosh.filedb.structfile import BufferFile

    if getattr(BufferFile, "copies_lazily", False):
        return

    def __init__(self, buf, name=None, onclose=None):
        self._buf, self._name, self.onclose = buf, name, onclose
        self.file = _MemoryStream(buf)
        self.is_real = False
        self.is_closed = False

    BufferFile.__init__ = __init__
    BufferFile.copies_lazily = True


_open_segment_files_without_copying()


class PackedValues:
    """One block's posting values (each posting's encoded positions) as one bytes string and the end of each.

    Whoosh pickles a block's values as a tuple, one bytes object per posting, and unpickling those was most of the
    cost of reading a block, though ranking never looks at positions. Packed, a block unpickles as two objects; a
    phrase query's matcher only indexes the sequence, which gives each value back as it was. Written by
    ``index_bulk``; pickled into the index, so its name is part of the format."""

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

    def __reduce__(self):
        return PackedValues, (self.data, self.ends)


# A common term's postings also as plain arrays, written by ``index_bulk`` right after the term's whoosh3 blocks and
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
    100,000-work library took 0.17 s a field to read it a document at a time), else one document at a time."""
    from whoosh.columns import NumericColumn

    if type(column) is NumericColumn.Reader and column._fixedlen == 1:
        stored = column._dbfile.get(column._basepos, min(column._count, count))
        return stored + bytes([column._default]) * (count - len(stored))  # documents past the end: the default
    return [column[docnum] for docnum in range(count)]
