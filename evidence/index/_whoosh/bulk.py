"""Writing a new index in one pass: what a full rebuild of the search index does.

Whoosh's ``SegmentWriter`` sends every posting through a sorting pool (a tuple per posting, sorted, spilled to disk
past ``limitmb``), then reads each posting's document length back from the new segment, then adds the postings to
their blocks one call at a time: at 150 postings per work that was two thirds of a rebuild. For a rebuild every
document is at hand, so ``BulkWriter`` groups the postings by field and term as the documents are analysed, keeps
the lengths in memory and writes each term's blocks whole. The files are in Whoosh's whoosh3 layout (its term
writer, its block header and statistics; the block contents as arrays, see ``_write_postings``): searches and later
incremental writers read them as their own, and a test compares two indexes, one written each way, posting by
posting.

Kept apart from ``index.search_index`` because it imports Whoosh (see ``_whoosh.schema``), and because it leans on
the whoosh3 postings writer's block buffer, which setup.cfg pins to the 2.7 series.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import sys
import threading
from array import array
from collections.abc import Iterable, Sequence

from whoosh import writing
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC
from whoosh.util.numeric import byte_to_length, length_to_byte

from evidence.index._whoosh.fixes import Codec
from evidence.index._whoosh.schema import (
    POSTING_ARRAYS_FROM,
    POSTING_ARRAYS_HEADER,
    POSTING_ARRAYS_MAGIC,
    PackedValues,
)

# The blocks this writer writes: 512 postings each, not compressed. Reading a block costs a fixed part (its header,
# an unpickling, a zlib call of 20-40 us) whatever its size, and ranking reads every block of a query's terms
# (``_whoosh.arrays``), so fewer, plain blocks answered faster (bench/search.py; RESULTS.md gives the sizes).
BLOCK_POSTINGS = 512


# Below this many documents per process a second process is not worth its start; and no more than two segments,
# because every query walks each segment's postings in turn.
DOCUMENTS_PER_PROCESS = 1000
MAX_PROCESSES = 2


def write_new_index(index, documents: Sequence[dict], processes: int | None = None) -> None:
    """Write ``documents`` into ``index`` as new segments: the first half in this process, the second in a forked
    one, each as its own segment, written at the same time (searches score across segments with the whole index's
    statistics, so the split changes no score; a test checks). ``documents`` need only be sized, sliced and
    iterated: a lazy sequence that makes each document as it is read lets each process hold its own half's postings
    and no document. One process writes everything for a small library
    (unless ``processes`` says otherwise), without fork, or with other threads running (forking those is unsafe);
    if the helper process fails, this one writes its half afterwards."""
    if processes is None:
        processes = min(MAX_PROCESSES, _usable_cores()) if len(documents) >= 2 * DOCUMENTS_PER_PROCESS else 1
    split = len(documents) - len(documents) // 2 if processes > 1 and _can_fork() else len(documents)
    helper = _Helper(index, documents[split:]) if split < len(documents) else None
    _write(index, documents[:split], helper)
    if helper is not None and not helper.succeeded:
        _write(index, documents[split:], None)


def _write(index, documents: Iterable[dict], helper: _Helper | None) -> None:
    writer = BulkWriter(index, helper=helper)
    try:
        for document in documents:
            writer.add_document(**document)
        writer.commit()
    except BaseException:
        if helper is not None:
            helper.stop()
        with contextlib.suppress(Exception):  # the first error is the one to report
            writer.cancel()
        raise


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


class _Helper:
    """A forked process writing one segment of the new index; ``result`` is that segment, or None if it failed."""

    def __init__(self, index, documents: Iterable[dict]):
        context = multiprocessing.get_context("fork")
        self._receiver, sender = context.Pipe(duplex=False)
        self._process = context.Process(target=_write_segment, args=(index, documents, sender), daemon=True)
        self._process.start()
        sender.close()
        self.succeeded = False

    def result(self):
        try:
            segment = self._receiver.recv()
        except (EOFError, OSError):  # the process died (killed, out of memory) before answering
            segment = None
        self._process.join()
        self.succeeded = segment is not None and self._process.exitcode == 0
        return segment if self.succeeded else None

    def stop(self) -> None:
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()


def _write_segment(index, documents: Iterable[dict], sender) -> None:
    """In the helper process: write ``documents`` as a segment (without the lock, which the parent holds) and send
    it. When the machine runs short (disk, memory) it sends None and the parent writes these documents itself. Any
    other error is a bug: the helper dies with its traceback, and the parent, writing the same documents with the
    same code, meets the bug again and raises it."""
    writer = BulkWriter(index, _lk=False)
    try:
        for document in documents:
            writer.add_document(**document)
        segment = writer._finalize_segment()  # not ``commit``: the parent lists the segment in its own commit
    except (OSError, MemoryError):
        segment = None
    sender.send(segment)  # and no ``_finish``: it would delete the temporary folder the parent writes in too


class BulkWriter(writing.SegmentWriter):
    """A writer that keeps postings grouped in memory and writes them as one new segment on commit.

    On commit it also lists the segment its ``helper`` process wrote, once that is done. It never merges existing
    segments: Whoosh merges through the posting pool, which this writer does not use."""

    def __init__(self, index, helper: _Helper | None = None, **kwargs):
        kwargs.setdefault("codec", Codec(blocklimit=BLOCK_POSTINGS, compression=0))
        super().__init__(index, **kwargs)
        self._postings: dict[str, _FieldPostings] = {}
        self._lengths: dict[str, dict[int, int]] = {}
        self._helper = helper

    def add_document(self, **fields):
        self._check_state()
        schema, perdoc, docnum = self.schema, self.perdocwriter, self.docnum
        names = sorted(fields)
        self._check_fields(schema, names)  # unknown names, boosts (``_boost``) included, are refused here
        perdoc.start_doc(docnum)
        for name in names:
            value, field = fields[name], schema[name]
            if value is None:
                continue
            if field.vector or field.column_type or field.separate_spelling():
                raise TypeError(f"BulkWriter does not write boosts, vectors, columns or spellings (field {name}).")
            length = 0
            if field.indexed:
                direct = hasattr(field, "postings") and field.format.field_boost == 1
                postings = self._postings.get(name)
                if postings is None:
                    postings = self._postings[name] = _FieldPostings(whole_weights=direct)
                if direct:  # the weight is the frequency
                    for word, frequency, encoded in field.postings(value):
                        length += frequency
                        postings.add(word, docnum, frequency, encoded)
                else:
                    for tbytes, frequency, weight, vbytes in field.index(value):
                        length += frequency
                        postings.add(tbytes, docnum, weight, vbytes)
                if not field.scorable:
                    length = 0
                elif length:
                    self._lengths.setdefault(name, {})[docnum] = length
            perdoc.add_field(name, field, value if field.stored else None, length)
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def _merge_segments(self, mergetype, optimize, merge):
        return list(self.segments)

    def add_reader(self, reader):
        raise NotImplementedError("BulkWriter does not copy other segments.")

    def _commit_toc(self, segments):
        """List the helper's segment after this writer's own (its documents come after), once it is written."""
        extra = self._helper.result() if self._helper is not None else None
        super()._commit_toc([*segments, extra] if extra is not None else segments)

    def _flush_segment(self):
        """Write every field's terms in order, each term's postings block by block (what ``add_postings`` does
        from the pool, with the lengths the segment stores: one byte each, hence the round trip)."""
        self.perdocwriter.close()
        fieldwriter = self.fieldwriter
        for name in sorted(self._postings):
            fieldwriter.start_field(name, self.schema[name])
            lengths = {
                docnum: byte_to_length(length_to_byte(length)) for docnum, length in self._lengths.get(name, {}).items()
            }
            # A str sorts as its UTF-8 bytes do (both by code point), so the terms come out in the index's order.
            for term, docnums, weights, values in self._postings[name].by_term():
                fieldwriter.start_term(term.encode("utf-8") if isinstance(term, str) else term)
                _write_postings(fieldwriter._postwriter, docnums, weights, values, lengths)
                fieldwriter.finish_term()
                if len(docnums) >= POSTING_ARRAYS_FROM:  # after the term's extent: see ``POSTING_ARRAYS_MAGIC``
                    fieldwriter._postfile.write(_posting_arrays(docnums, weights))
            fieldwriter.finish_field()
        fieldwriter.close()
        self._postings, self._lengths = {}, {}


class _FieldPostings:
    """One field's postings as they are added, in flat arrays (term number, document, weight) and a list of the
    encoded values (one shared ``bytes`` for the many single positions): about 25 bytes a posting where a tuple per
    posting took about 100, so a segment of 50,000 works fits in the memory of one process. ``whole_weights``: the
    weights are frequencies (ints); else Whoosh's own, kept as floats or ints as it gave them."""

    __slots__ = ("_numbers", "_terms", "_term_of", "_documents", "_weights", "_values", "_whole")

    def __init__(self, whole_weights: bool):
        self._numbers: dict = {}  # term -> its number, in first-seen order
        self._terms: list = []
        self._term_of, self._documents = array("I"), array("I")
        self._whole = whole_weights
        self._weights = array("I") if whole_weights else []
        self._values: list[bytes] = []

    def add(self, term, docnum: int, weight, value: bytes) -> None:
        number = self._numbers.get(term)
        if number is None:
            number = self._numbers[term] = len(self._terms)
            self._terms.append(term)
        self._term_of.append(number)
        self._documents.append(docnum)
        self._weights.append(weight)
        self._values.append(value)

    def by_term(self):
        """(term, document numbers, weights, values) for each term in sorted order, its postings in the order they
        were added (by document)."""
        import numpy as np

        term_of = np.frombuffer(self._term_of, dtype=np.uint32) if self._term_of else np.zeros(0, np.uint32)
        order = np.argsort(term_of, kind="stable")
        ends = np.cumsum(np.bincount(term_of, minlength=len(self._terms)))
        documents, weights, values = self._documents, self._weights, self._values
        for number in sorted(range(len(self._terms)), key=self._terms.__getitem__):
            picked = order[ends[number - 1] if number else 0 : ends[number]].tolist()
            yield (
                self._terms[number],
                [documents[i] for i in picked],
                [weights[i] for i in picked],
                [values[i] for i in picked],
            )


def _write_postings(writer, docnums: list[int], weights: list, values: list, lengths: dict[int, int]) -> None:
    """Write a term's postings as whoosh3 blocks (length, header pickle, data pickle) with the block statistics its
    ``add_posting`` would have gathered; ids (delta-encoded) and weights go in as arrays rather than the tuples
    Whoosh writes: its reader indexes either, and ``_whoosh.arrays`` reads arrays without converting each number."""
    postfile, limit, count = writer._postfile, writer._blocklimit, len(docnums)
    for start in range(0, count, limit):
        end = min(count, start + limit)
        ids = docnums[start:end]
        writer._ids = array("I", ids)
        writer._weights = array("f", weights[start:end])
        writer._values = [value for value in values[start:end] if value]
        writer._maxweight = max(0, max(weights[start:end]))
        known = [lengths[docnum] for docnum in ids if docnum in lengths]
        writer._minlength = min(known) if known else None
        writer._maxlength = max(known) if known else 0
        if not writer._blockcount:
            postfile.write(WHOOSH3_HEADER_MAGIC)
        writer._terminfo.add_block(writer)
        deltas = [ids[0], *(later - earlier for earlier, later in zip(ids, ids[1:], strict=False))]
        deltas = array("H" if max(deltas) < 65536 else "I", deltas)  # two bytes a posting where they suffice
        block_weights = None if all(weight == 1 for weight in writer._weights) else writer._weights
        fixed_size = writer._format.fixed_value_size()  # None for positions; 0 for ID fields, which have none
        fixed = fixed_size is not None and fixed_size >= 0
        packed = writer._mini_values() if fixed else PackedValues.pack(writer._values)
        data = pickle.dumps((deltas, block_weights, packed), 4)
        bounds = length_to_byte(writer._minlength), length_to_byte(writer._maxlength)
        header = pickle.dumps((len(ids), ids[-1], writer._maxweight, 0, *bounds), 4)  # 0: not compressed
        postfile.write_int(-(len(header) + len(data)) if end == count else len(header) + len(data))
        postfile.write(header)
        postfile.write(data)
        writer._blockcount += 1
        writer._new_block()


def _posting_arrays(docnums, weights) -> bytes:
    """A term's document numbers and weights as the plain arrays ``_whoosh.arrays`` reads (layout in
    ``_whoosh.schema``)."""
    ids = array("I", docnums)
    code, packed = (0, array("B")) if min(weights) == max(weights) == 1 else _narrowest(weights)
    if sys.byteorder == "big":  # the layout is little-endian
        ids.byteswap()
        packed.byteswap()
    header = POSTING_ARRAYS_HEADER.pack(len(ids), code)
    return b"".join((POSTING_ARRAYS_MAGIC, header, ids.tobytes(), packed.tobytes()))


def _narrowest(weights) -> tuple[int, array]:
    """The weights in the narrowest type that holds each exactly (``array`` refuses a float or too large a number),
    with its code in ``WEIGHT_CODES``."""
    for code, typecode in ((1, "B"), (2, "H")):
        try:
            return code, array(typecode, weights)
        except (TypeError, OverflowError):
            continue
    return 4, array("f", weights)
