"""Ranking the common queries with array arithmetic over Whoosh's own postings.

Whoosh ranks a query by walking a tree of matchers one posting at a time in Python: at 100,000 works a common word
has tens of thousands of postings per field, and the commonest words were slowest (bench/RESULTS.md, issue 8).
Here each term's posting list is read whole into numpy arrays (from the plain arrays ``_whoosh.bulk`` writes after a
common term's blocks, else block by block) and scored in one expression (Whoosh's BM25F with the index's own
statistics); And, Or, disjunction-max and AndNot combine whole score arrays, one slot per document, and a phrase
checks its words' positions only in the works holding every word. The scores and order are Whoosh's (tests compare
them on several segments with deletions); a query with a part this does not score (wildcards, ranges, Or with a
coordination bonus) raises ``Unsupported`` and is left to Whoosh.
"""

from __future__ import annotations

import functools
import io
import itertools
import pickle
import zlib
from array import array

import numpy as np
from whoosh import query as wquery
from whoosh.codec.whoosh3 import W3TermsReader
from whoosh.reading import TermNotFound

from evidence.index._whoosh.schema import (
    POSTING_ARRAYS_HEADER,
    POSTING_ARRAYS_MAGIC,
    WEIGHT_CODES,
    PackedValues,
    field_lengths,
)


class Unsupported(Exception):
    """The query has a part only Whoosh's matchers score."""


Hits = tuple  # (document numbers, sorted and unique; their scores)


class ArrayScorer:
    """Scores queries against one open searcher; per-field document lengths and the live-document mask are read
    once and kept for the searcher's lifetime."""

    def __init__(self, searcher):
        self.searcher = searcher
        self.size = searcher.doc_count_all()
        self._leaves = list(searcher.reader().leaf_readers())
        self._lengths: dict[str, np.ndarray] = {}
        self._decoders: dict[str, object] = {}  # field -> cached decoding of a posting's positions
        self._alive = None

    def top(self, query, limit: int) -> list[tuple[int, float]]:
        """(document number, score) of the best ``limit`` matches, best first, ties by document number as Whoosh
        orders them."""
        found, scores = self._evaluate(query)
        live = self._live()[found]
        found, scores = found[live], scores[live]
        if not len(found) or limit <= 0:
            return []
        if len(found) > limit:  # everything scoring at least the limit-th best, ties included, then sorted exactly
            threshold = np.partition(scores, len(found) - limit)[len(found) - limit]
            keep = scores >= threshold
            found, scores = found[keep], scores[keep]
        order = np.lexsort((found, -scores))[:limit]
        return [(int(found[i]), float(scores[i])) for i in order]

    # Query tree ---------------------------------------------------------------------------------------------------
    def _evaluate(self, query) -> Hits:
        """The matching documents (sorted) and their scores."""
        kind = type(query)
        if kind is wquery.Term:
            found, scores = self._term(query.fieldname, query.text)
        elif kind is wquery.And:
            found, scores = self._evaluate(query.subqueries[0]) if query.subqueries else _NONE
            for sub in query.subqueries[1:]:
                other, other_scores = self._evaluate(sub)
                found, mine, theirs = np.intersect1d(found, other, assume_unique=True, return_indices=True)
                scores = scores[mine] + other_scores[theirs]
        elif kind is wquery.Or or issubclass(kind, wquery.DisjunctionMax):
            if kind is wquery.Or and (query.scale or query.minmatch):
                raise Unsupported("Or with a coordination bonus")
            if kind is not wquery.Or and query.tiebreak:
                raise Unsupported("disjunction-max with a tie-break")
            parts = [self._evaluate(sub) for sub in query.subqueries]
            found, scores = _union(parts, kind is not wquery.Or, self.size)
        elif kind is wquery.Phrase:
            found, scores = self._phrase(query)
        elif kind is wquery.AndNot:
            found, scores = self._evaluate(query.a)
            keep = ~np.isin(found, self._evaluate(query.b)[0], assume_unique=True)
            found, scores = found[keep], scores[keep]
        elif kind is wquery.Not:  # Whoosh's inverse matcher scores 1.0 wherever the inner query does not match
            inner = np.zeros(self.size, dtype=bool)
            inner[self._evaluate(query.query)[0]] = True
            found = np.flatnonzero(~inner)
            scores = np.ones(len(found))
            return found, scores
        elif query is wquery.NullQuery or kind is type(wquery.NullQuery):
            return _NONE
        else:
            raise Unsupported(kind.__name__)
        boost = getattr(query, "boost", 1.0)
        return found, (scores * boost if boost != 1.0 else scores)

    # Terms --------------------------------------------------------------------------------------------------------
    def _term(self, fieldname: str, text) -> Hits:
        """Whoosh's BM25F for one term in one field (``whoosh.scoring.bm25`` as an array expression)."""
        searcher = self.searcher
        if fieldname not in searcher.schema:
            return _NONE
        try:
            tbytes = searcher.schema[fieldname].to_bytes(text)
        except ValueError:
            return _NONE
        docnums, frequencies = self._postings(fieldname, tbytes)
        if not len(docnums):
            return _NONE
        weighting = searcher.weighting
        k1, b = weighting.K1, weighting._field_B.get(fieldname, weighting.B)
        idf, average = searcher.idf(fieldname, tbytes), searcher.avg_field_length(fieldname) or 1
        lengths = self._field_lengths(fieldname)[docnums]
        return docnums, idf * ((frequencies * (k1 + 1)) / (frequencies + k1 * ((1 - b) + b * lengths / average)))

    def _postings(self, fieldname: str, tbytes: bytes) -> Hits:
        """Document numbers (whole index) and frequencies of a term, deleted documents included (``top`` drops
        them)."""
        ids, weights = [], []
        for leaf, offset in self._leaves:
            try:
                info = leaf.term_info(fieldname, tbytes)
            except TermNotFound:
                continue
            read = _read_whoosh3_postings(leaf, info)
            if read is None:  # another codec: one posting at a time through Whoosh's matcher
                matcher = leaf.postings(fieldname, tbytes)
                matcher = getattr(matcher, "child", matcher)  # the deletion filter: ``top`` applies the live mask
                leaf_ids, leaf_weights = [], []
                while matcher.is_active():
                    leaf_ids.append(matcher.id())
                    leaf_weights.append(matcher.weight())
                    matcher.next()
                read = np.asarray(leaf_ids, dtype=np.int64), np.asarray(leaf_weights, dtype=np.float64)
            ids.append(read[0] + offset)
            weights.append(read[1])
        if not ids:
            return _NONE
        return (ids[0], weights[0]) if len(ids) == 1 else (np.concatenate(ids), np.concatenate(weights))

    # Phrases -----------------------------------------------------------------------------------------------------
    def _phrase(self, query) -> Hits:
        """Whoosh's phrase: the works with every word, its words in order, each within ``slop`` positions of the one
        before, scored as the sum of the words' own scores (its span matcher wraps an intersection of the words'
        matchers). The words' documents and scores come from whole posting lists; positions are decoded only for
        the works that have every word."""
        searcher, fieldname = self.searcher, query.fieldname
        if fieldname not in searcher.schema:
            return _NONE
        field = searcher.schema[fieldname]
        if not field.format or not field.format.supports("positions"):
            raise Unsupported("a phrase in a field without positions")  # Whoosh reports it as an error
        try:
            tbytes = [field.to_bytes(word) for word in query.words]
        except ValueError:
            return _NONE
        if not tbytes:
            return _NONE
        parts = [self._term(fieldname, word) for word in query.words]
        found = functools.reduce(lambda a, b: np.intersect1d(a, b, assume_unique=True), (p[0] for p in parts))
        if not len(found):
            return _NONE
        scores = _tree_sum([part_scores[np.searchsorted(ids, found)] for ids, part_scores in parts])
        keep = self._in_order(fieldname, tbytes, found, query.slop)
        return found[keep], scores[keep]

    def _in_order(self, fieldname: str, tbytes: list[bytes], found: np.ndarray, slop: int) -> np.ndarray:
        """Which of ``found`` (each holding every word) have the words in order, each 1 to ``slop`` positions after
        the one before: a chain of positions followed word by word, as (work, position) keys in one array."""
        ends = None
        for term in tbytes:
            owners, positions = self._positions(fieldname, term, found)
            keys = owners * _STRIDE + positions  # ascending: works in order, each work's positions in order
            if ends is None:
                ends = keys
            else:
                reached = []
                for step in range(1, max(1, slop) + 1):
                    wanted = ends + step
                    at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
                    reached.append(wanted[keys[at] == wanted])
                ends = reached[0] if len(reached) == 1 else np.unique(np.concatenate(reached))
            if not len(ends):
                break
        matched = np.zeros(len(found), dtype=bool)
        matched[ends // _STRIDE] = True
        return matched

    def _positions(self, fieldname: str, tbytes: bytes, found: np.ndarray) -> Hits:
        """For every position of the term in the works ``found`` (each holding it): the work's index in ``found``
        and the position."""
        decode = self._decoders.get(fieldname)
        if decode is None:
            read = self.searcher.schema[fieldname].format.decode_positions
            decode = self._decoders[fieldname] = functools.lru_cache(maxsize=1 << 16)(lambda v: tuple(read(v)))
        values = []  # one per work of ``found``, in order: the segments hold consecutive document numbers
        for leaf, offset in self._leaves:
            low, high = np.searchsorted(found, (offset, offset + leaf.doc_count_all()))
            if low < high:
                values.extend(_values_of(leaf, fieldname, tbytes, found[low:high] - offset))
        decoded = list(map(decode, values))
        counts = np.fromiter(map(len, decoded), dtype=np.int64, count=len(decoded))
        positions = np.fromiter(itertools.chain.from_iterable(decoded), dtype=np.int64, count=int(counts.sum()))
        return np.repeat(np.arange(len(found), dtype=np.int64), counts), positions

    def _field_lengths(self, fieldname: str) -> np.ndarray:
        lengths = self._lengths.get(fieldname)
        if lengths is None:
            lengths = self._lengths[fieldname] = np.asarray(field_lengths(self.searcher, fieldname))
        return lengths

    def _live(self) -> np.ndarray:
        if self._alive is None:
            alive = np.ones(self.size, dtype=bool)
            for leaf, offset in self._leaves:
                if leaf.has_deletions():
                    deleted = [docnum for docnum in range(leaf.doc_count_all()) if leaf.is_deleted(docnum)]
                    alive[np.asarray(deleted, dtype=np.int64) + offset] = False
            self._alive = alive
        return self._alive


_NONE: Hits = (np.zeros(0, dtype=np.int64), np.zeros(0))
# Positions are keyed as work index * _STRIDE + position, so one array holds the positions of every work.
_STRIDE = 1 << 32


def _union(parts: list[Hits], maximum: bool, size: int) -> Hits:
    """Documents matching any part, scored by the sum of their parts' scores (Or) or the best (disjunction-max),
    gathered in one slot per document of the index: cheaper than sorting the parts together."""
    parts = [part for part in parts if len(part[0])]
    if len(parts) <= 1:
        return parts[0] if parts else _NONE
    scores = np.full(size, -np.inf) if maximum else np.zeros(size)
    matched = np.zeros(size, dtype=bool)
    for ids, part_scores in parts:  # a part's ids are unique, so each assignment below touches a slot once
        scores[ids] = np.maximum(scores[ids], part_scores) if maximum else scores[ids] + part_scores
        matched[ids] = True
    found = np.flatnonzero(matched)
    return found, scores[found]


def _read_whoosh3_postings(leaf, info) -> Hits | None:
    """A term's postings in one segment, read straight from the whoosh3 postings file: the arrays written after its
    blocks where there are some, else the term's extent in one read and each block unpickled, without a matcher's
    per-block bookkeeping. None when the segment is not whoosh3's or the term is stored another way."""
    extent = _whoosh3_extent(leaf, info)
    if extent is None:
        return None
    postfile, offset, length = extent
    arrays = _read_posting_arrays(postfile, offset + length)
    if arrays is not None:
        return arrays
    raw = postfile.get(offset, length)
    ids, weights = [], []
    for count, _last_id, where in _blocks(raw):
        block_ids, block_weights, _values = _contents(raw, where)
        ids.append(_absolute(block_ids))
        if block_weights is None or isinstance(block_weights, float):
            weights.append(np.full(count, 1.0 if block_weights is None else block_weights))
        else:
            weights.append(_numbers(block_weights, np.float64))
    return np.concatenate(ids), np.concatenate(weights).astype(np.float64)


def _values_of(leaf, fieldname: str, tbytes: bytes, wanted: np.ndarray) -> list:
    """The posting value (encoded positions) of the term in each of the segment's documents ``wanted`` (sorted,
    each holding the term), unpickling only the blocks that hold them."""
    info = leaf.term_info(fieldname, tbytes)
    extent = _whoosh3_extent(leaf, info)
    if extent is None:  # another codec, or a term inlined in the terms file: Whoosh's matcher
        matcher = leaf.postings(fieldname, tbytes)
        matcher = getattr(matcher, "child", matcher)  # the deletion filter
        values = []
        for docnum in wanted.tolist():
            matcher.skip_to(docnum)
            values.append(matcher.value())
        return values
    postfile, offset, length = extent
    raw = postfile.get(offset, length)
    values, next_wanted = [], 0
    for _count, last_id, where in _blocks(raw):
        if next_wanted == len(wanted):
            break
        if wanted[next_wanted] > last_id:
            continue
        end = int(np.searchsorted(wanted, last_id, side="right"))
        block_ids, _weights, block_values = _contents(raw, where)
        indexes = np.searchsorted(_absolute(block_ids), wanted[next_wanted:end]).tolist()
        if isinstance(block_values, PackedValues):
            values.extend(block_values.take(indexes))
        else:
            values.extend(block_values[index] for index in indexes)
        next_wanted = end
    return values


def _whoosh3_extent(leaf, info):
    """(postings file, offset, length) of a term's blocks in a whoosh3 segment; None for another codec or a term
    inlined in the terms file."""
    terms = getattr(leaf, "_terms", None)
    postfile = getattr(terms, "_postfile", None)
    if type(terms) is not W3TermsReader or postfile is None or info.is_inlined():
        return None
    offset, length = info.extent()
    return postfile, offset, (length[0] if isinstance(length, tuple) else length)  # whoosh3 reads a 1-tuple back


def _blocks(raw: bytes):
    """(posting count, last document number, where its contents lie) for each whoosh3 block of a term's extent,
    headers unpickled as the walk goes, contents left for ``_contents``."""
    stream = io.BytesIO(raw)
    stream.seek(4)  # the postings header tag
    while True:
        head = stream.read(4)
        if len(head) < 4:
            return
        size = int.from_bytes(head, "big", signed=True)
        start = stream.tell()
        count, last_id, _max_weight, compression, _min_length, _max_length = pickle.load(stream)
        yield count, last_id, (stream.tell(), start + abs(size), compression)
        stream.seek(start + abs(size))
        if size < 0:  # the last block
            return


def _contents(raw: bytes, where: tuple) -> tuple:
    """A block's (ids as deltas, weights, values)."""
    begin, end, compression = where
    data = raw[begin:end]
    return pickle.loads(zlib.decompress(data) if compression else data)


def _absolute(block_ids) -> np.ndarray:
    """A block's document numbers: stored as deltas, the first from 0."""
    return np.cumsum(_numbers(block_ids, np.int64).astype(np.int64))


def _tree_sum(parts: list[np.ndarray]) -> np.ndarray:
    """The parts' sum in the order Whoosh's intersection adds them (halves first, as ``make_binary_tree`` builds
    it), so scores match to the last bit."""
    if len(parts) == 1:
        return parts[0]
    half = len(parts) // 2
    return _tree_sum(parts[:half]) + _tree_sum(parts[half:])


def _read_posting_arrays(postfile, position: int) -> Hits | None:
    """The plain arrays ``_whoosh.bulk`` writes after a common term's blocks (layout in ``_whoosh.schema``), or None
    where there are none (a rarer term, or a segment Whoosh's own writer wrote)."""
    magic_size, header_size = len(POSTING_ARRAYS_MAGIC), POSTING_ARRAYS_HEADER.size
    head = postfile.get(position, magic_size + header_size)
    if head[:magic_size] != POSTING_ARRAYS_MAGIC or len(head) < magic_size + header_size:
        return None
    count, code = POSTING_ARRAYS_HEADER.unpack_from(head, magic_size)
    start = position + magic_size + header_size
    ids = np.frombuffer(postfile.get(start, 4 * count), dtype="<u4").astype(np.int64)
    dtype = WEIGHT_CODES[code]
    if dtype is None:
        return ids, np.ones(count)
    weights = np.frombuffer(postfile.get(start + 4 * count, np.dtype(dtype).itemsize * count), dtype=dtype)
    return ids, weights.astype(np.float64)


def _numbers(values, dtype) -> np.ndarray:
    """A block's numbers as an array: without a copy from the arrays ``_whoosh.bulk`` writes, converted from the
    tuples Whoosh's own writer pickles."""
    if isinstance(values, array):
        return np.frombuffer(values, dtype=f"{'f' if values.typecode in 'fd' else 'u'}{values.itemsize}")
    return np.asarray(values, dtype=dtype)
