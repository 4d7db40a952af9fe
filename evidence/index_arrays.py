"""Ranking the common queries with array arithmetic over Whoosh's own postings.

Whoosh ranks a query by walking a tree of matchers one posting at a time in Python: at 100,000 works a common word
has tens of thousands of postings per field, and a query took 40 ms at the median and 170 ms for the commonest words.
Here each term's posting list is read a block at a time into numpy arrays and scored in one expression (Whoosh's
BM25F with the index's own statistics), and And, Or, disjunction-max and AndNot combine whole score arrays, one slot
per document. The scores and order are Whoosh's (tests compare them on several segments with deletions); a query
with a part this does not score (phrases, wildcards, ranges, Or with a coordination bonus) raises ``Unsupported``
and is left to Whoosh.
"""

from __future__ import annotations

import io
import pickle
import zlib
from array import array

import numpy as np
from whoosh import query as wquery
from whoosh.codec.whoosh3 import W3TermsReader
from whoosh.reading import TermNotFound

from .index_schema import (
    POSTING_ARRAYS_HEADER,
    POSTING_ARRAYS_MAGIC,
    WEIGHT_CODES,
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
        elif kind in (wquery.Or, wquery.DisjunctionMax):
            if kind is wquery.Or and (query.scale or query.minmatch):
                raise Unsupported("Or with a coordination bonus")
            if kind is wquery.DisjunctionMax and query.tiebreak:
                raise Unsupported("disjunction-max with a tie-break")
            parts = [self._evaluate(sub) for sub in query.subqueries]
            found, scores = _union(parts, kind is wquery.DisjunctionMax, self.size)
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
    """A term's postings in one segment, read straight from the whoosh3 postings file: the term's extent in one
    read, then each block's header and data unpickled, without a matcher's per-block bookkeeping. None when the
    segment is not whoosh3's or the term is stored another way."""
    terms = getattr(leaf, "_terms", None)
    postfile = getattr(terms, "_postfile", None)
    if type(terms) is not W3TermsReader or postfile is None or info.is_inlined():
        return None
    offset, length = info.extent()
    length = length[0] if isinstance(length, tuple) else length  # whoosh3 reads it back as a 1-tuple
    arrays = _read_posting_arrays(postfile, offset + length)
    if arrays is not None:
        return arrays
    raw = postfile.get(offset, length)
    stream = io.BytesIO(raw)
    stream.seek(4)  # the postings header tag
    ids, weights, ends, total = [], [], [], 0
    while True:
        head = stream.read(4)
        if len(head) < 4:
            break
        size = int.from_bytes(head, "big", signed=True)
        start = stream.tell()
        count, last_id, _max_weight, compression, _min_length, _max_length = pickle.load(stream)
        data = raw[stream.tell() : start + abs(size)]
        block_ids, block_weights, _values = pickle.loads(zlib.decompress(data) if compression else data)
        ids.append(_numbers(block_ids, np.int64))
        if block_weights is None or isinstance(block_weights, float):
            weights.append(np.full(count, 1.0 if block_weights is None else block_weights))
        else:
            weights.append(_numbers(block_weights, np.float64))
        total += count
        ends.append((total, last_id))
        stream.seek(start + abs(size))
        if size < 0:  # the last block
            break
    deltas = np.concatenate(ids).astype(np.int64)
    # Each block's ids are deltas from its own first id, which is absolute: make it a delta from the block before.
    for end, last_id in ends[:-1]:
        deltas[end] -= last_id
    weights = np.concatenate(weights).astype(np.float64)
    return np.cumsum(deltas), weights


def _read_posting_arrays(postfile, position: int) -> Hits | None:
    """The plain arrays ``index_bulk`` writes after a common term's blocks (layout in ``index_schema``), or None where
    there are none (a rarer term, or a segment Whoosh's own writer wrote)."""
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
    """A block's numbers as an array: without a copy from the arrays ``index_bulk`` writes, converted from the
    tuples Whoosh's own writer pickles."""
    if isinstance(values, array):
        return np.frombuffer(values, dtype=f"{'f' if values.typecode in 'fd' else 'u'}{values.itemsize}")
    return np.asarray(values, dtype=dtype)
