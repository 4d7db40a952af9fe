"""Fixes to Whoosh 2.7's own code, applied when the index is first used (``_whoosh.schema`` imports this module).

Each one replaces a Whoosh function or method with one that gives the same answers faster, or the right answer
where Whoosh's was wrong; each is idempotent and has a test in tests/test_index.py. setup.cfg pins whoosh-reloaded
to the 2.7 series because these reach into its internals.
"""

from __future__ import annotations

from whoosh import writing


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
