"""evidence's own subclasses of Whoosh 2.7's writer, codec, segment and files: the same answers, faster.

Whoosh itself is left exactly as installed (a test checks its classes after evidence has imported and searched):
the index is written with ``Codec`` (protocol-4 blocks, lazily opened segment files) and updated with
``CachedLengthsWriter``. Each has a test in tests/test_index.py; setup.cfg pins whoosh-reloaded to the 2.7 series
because these subclasses lean on its internals. The disjunction-max fix is in ``_whoosh.queries``.
"""

from __future__ import annotations

import pickle
import zlib

from whoosh import writing
from whoosh.codec import whoosh3
from whoosh.filedb.compound import CompoundStorage, StorageError, SubFile, memoryview_
from whoosh.filedb.structfile import BufferFile, StructFile


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


class CachedLengthsWriter(writing.SegmentWriter):
    """Whoosh's segment writer, reading each document's field lengths once (``_CachedLengths``) and writing with
    evidence's codec: the writer the index uses for updates after a rebuild. Whoosh's own class is left as it is."""

    def __init__(self, index, **kwargs):
        kwargs.setdefault("codec", Codec())
        super().__init__(index, **kwargs)

    def per_document_reader(self):
        return _CachedLengths(super().per_document_reader())


class PostingsWriter(whoosh3.W3PostingsWriter):
    """Whoosh's whoosh3 postings writer, pickling each block with protocol 4.

    Whoosh pickles blocks with protocol 2, in which every bytes value (a posting's positions) unpickles through a
    call to ``codecs.encode``; protocol 4 stores bytes as they are, and a block reads several times faster
    (bench/RESULTS.md, issue 8). ``loads`` reads both, so indexes written before still open; a test checks that
    evidence's writers pickle with protocol 4 and Whoosh's own still with 2. The method is Whoosh 2.7's, with the
    protocol changed (setup.cfg pins the 2.7 series)."""

    def _write_block(self, last=False):
        if not self._blockcount:
            self._postfile.write(whoosh3.WHOOSH3_HEADER_MAGIC)
        self._terminfo.add_block(self)
        databytes = pickle.dumps((self._mini_ids(), self._mini_weights(), self._mini_values()), 4)
        comp = self._compression  # Whoosh compresses whatever the size; kept, so the blocks are Whoosh's own
        if comp:
            databytes = zlib.compress(databytes, comp)
        ids = self._ids
        info = (
            len(ids),
            ids[-1],
            self._maxweight,
            comp,
            whoosh3.length_to_byte(self._minlength),
            whoosh3.length_to_byte(self._maxlength),
        )
        infobytes = pickle.dumps(info, 4)
        blocklength = len(infobytes) + len(databytes)
        self._postfile.write_int(-blocklength if last else blocklength)
        self._postfile.write(infobytes)
        self._postfile.write(databytes)
        self._blockcount += 1
        self._new_block()


class Codec(whoosh3.W3Codec):
    """The whoosh3 codec with evidence's postings writer and segments; pickled into the index's table of contents,
    so its name is part of the format."""

    def new_segment(self, storage, indexname):
        return Segment(self, indexname)

    def postings_writer(self, dbfile, byteids=False):
        return PostingsWriter(
            dbfile,
            blocklimit=self._blocklimit,
            byteids=byteids,
            compression=self._compression,
            inlinelimit=self._inlinelimit,
        )


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


class LazyBufferFile(BufferFile):
    """A file inside a memory-mapped segment that copies only what is read.

    Whoosh's ``BufferFile`` constructor copies the whole file into a ``BytesIO``: opening a 100,000-work index
    copied all its postings: a large part of every cold search, and as much memory as the index (bench/RESULTS.md,
    issue 8). Reading through ``get`` only slices the buffer; reading it as a stream copies only
    what is read (``_MemoryStream``)."""

    def __init__(self, buf, name=None, onclose=None):
        self._buf, self._name, self.onclose = buf, name, onclose
        self.file = _MemoryStream(buf)
        self.is_real = False
        self.is_closed = False


class LazyCompoundStorage(CompoundStorage):
    """A segment's compound file whose inner files are ``LazyBufferFile``s (Whoosh 2.7's ``open_file``, with that
    one class changed)."""

    def open_file(self, name, *args, **kwargs):
        if self.is_closed:
            raise StorageError("Storage was closed")
        offset, length = self.range(name)
        if self._source:
            return LazyBufferFile(memoryview_(self._source, offset, length), name=name)
        if hasattr(self._file, "subset"):
            return self._file.subset(offset, length, name=name)
        return StructFile(SubFile(self._file, offset, length), name=name)


class Segment(whoosh3.W3Segment):
    """A whoosh3 segment that opens its compound file lazily; pickled into the index's table of contents, so its
    name is part of the format."""

    def open_compound_file(self, storage):
        dbfile = storage.open_file(self.make_filename(self.COMPOUND_EXT))
        return LazyCompoundStorage(dbfile, use_mmap=storage.supports_mmap)
