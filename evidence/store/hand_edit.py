"""Bringing the saved rows of references.bib (``store.derived``) in line with a file edited by hand, at the cost of
what the edit changed.

A hand edit changes one stretch of the file. The runs of rows (``derived.CHUNK`` blocks each, one hash per run) that
still match the file from its start and from its end are passed over with one hash each; inside the runs that do
not, the blocks still matching are found one by one; only the stretch between is parsed. Then, in the same
transaction, its rows replace the old ones and the rows after it are moved in one statement, so no other entry is
decoded, and no object is made for it. The result must be what a full parse gives; wherever that could differ the
answer is None and the caller parses the whole file: the earlier file had problems, the stretch holds a problem, an
unreadable block or an @string (or sits next to one where the file has @strings), a key now appears twice, or the
text before the first entry now holds one.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from evidence.model import Work
from evidence.store import derived, fingerprint
from evidence.store.bibfile import BibFile, parse_bibtex
from evidence.store.fingerprint import on_two_threads

_ROW = "seq, size, line, failed, work_id, hash, start, bytes, key, doi, aliases"
_LINE, _WORK, _HASH, _START, _BYTES, _KEY = 2, 4, 5, 6, 7, 8  # the columns of a row, as fetched
# Up to this many new keys are looked for among the others by SQLite; past it, every other key is fetched
_KEYS_ASKED = 500


@dataclass
class CaughtUp:
    """What a catch-up changed: the works of the blocks parsed again and the keys no longer in the file, for the
    search index to take in; ``indexed``: whether the index was in line with the file as the rows described it (if
    not, these are not all it is missing)."""

    fingerprint: str
    changed: list[Work] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    indexed: bool = False
    signature: list[int] | None = None  # the file's size, time and inode as read


def reparse_changed(
    index_dir: Path, source: bytes, name: str, fingerprint: str, pieces: list[str] | None = None
) -> BibFile | None:
    """``source`` (the file as UTF-8, whose bytes hash to ``fingerprint``, its full pieces to ``pieces``) as
    parsed, from the rows once brought in line with it (``catch_up``); None where only a full parse can say. The
    works the search index has yet to see are in ``unindexed`` when known."""
    caught = catch_up(index_dir, source, fingerprint, pieces, name)
    if caught is None:
        return None
    bib = derived.read_saved_parse(index_dir, fingerprint, source)
    if bib is not None and caught.indexed and not caught.removed:
        bib.unindexed = {work.key for work in caught.changed}
    return bib


def catch_up(index_dir: Path, source: bytes, fingerprint: str, pieces: list[str] | None, name: str) -> CaughtUp | None:
    """Bring the rows in line with ``source``, parsing only the stretch a hand edit changed; None where that could
    differ from a full parse (see the module), or when there are no rows to build on."""
    try:
        connection = derived.connect(index_dir)
        if connection is None:
            return None
        try:
            connection.execute("BEGIN IMMEDIATE")  # read and write as one: another command's save cannot come between
            caught = _catch_up(connection, source, fingerprint, pieces, name)
            connection.execute("COMMIT" if caught is not None else "ROLLBACK")
            return caught
        finally:
            connection.close()
    except (sqlite3.DatabaseError, KeyError, TypeError, ValueError, IndexError, UnicodeDecodeError):
        return None  # damaged rows: the full parse writes them again


def _catch_up(
    connection: sqlite3.Connection, source: bytes, fingerprint: str, pieces: list[str] | None, name: str
) -> CaughtUp | None:
    meta = derived.read_meta(connection)
    if meta.get("parser") != derived.parser_version() or meta["problems"]:
        return None
    indexed = meta.get("indexed") == meta.get("file")
    if meta.get("file") == fingerprint:
        return CaughtUp(fingerprint, indexed=indexed)
    head, strings = int(meta["head_bytes"]), meta["strings"]
    count = connection.execute("SELECT count(*) FROM blocks").fetchone()[0]
    runs = connection.execute(
        "SELECT c.first, c.last, c.hash, b.start, e.start + e.bytes FROM chunks c "
        "JOIN blocks b ON b.seq = c.first JOIN blocks e ON e.seq = c.last ORDER BY c.first"
    ).fetchall()
    if not count or not _runs_tile(runs, count, head, meta["length"]) or b"@" in source[:head]:
        return None
    first, position, last, end = _unchanged_ends(
        connection, runs, count, head, source, _same_bytes(derived.recorded_pieces(meta), pieces)
    )
    rows = _Rows(connection)
    # Widen the stretch until entries stand on both sides of it: comment blocks next to it could merge.
    while first > 0 and rows[first - 1][_KEY] is None:
        first -= 1
        position -= rows[first][_BYTES]
    while last < count and rows[last][_KEY] is None:
        end += rows[last][_BYTES]
        last += 1
    if first == 0:
        position = 0  # the head may have changed too: the stretch starts at the file's start
    old = connection.execute(f"SELECT {_ROW} FROM blocks WHERE seq >= ? AND seq < ? ORDER BY seq", (first, last))
    old = old.fetchall()
    if strings and any(row[_KEY] is None for row in old):
        return None  # a removed or changed @string would change every entry using it
    middle = parse_bibtex(source[position:end].decode("utf-8"), name, strings=strings)
    if middle.problems or any(block.failed for block in middle.blocks) or middle.strings != strings:
        return None
    new_keys = [block.key.lower() for block in middle.blocks if block.key is not None]
    if len(set(new_keys)) != len(new_keys) or _keys_elsewhere(connection, set(new_keys), first, last):
        return None  # a key used twice: the full parse words that problem
    gap = len(middle.head.encode("utf-8"))  # blank lines left where an entry was: the block before keeps them
    start = position + gap if first else gap
    line = 1 + source.count(b"\n", 0, position) + middle.head.count("\n")
    written, works = [], []
    for number, block in enumerate(middle.blocks, start=first):
        raw = block.raw.encode("utf-8")
        work_id = None
        if block.work is not None:
            work_id, _ = entry = derived.work_entry(block.work)
            works.append(entry)
        written.append(derived.block_row(number, block, line, start, raw, work_id))
        line, start = line + block.newlines, start + len(raw)
    if start != end:
        return None
    moved = len(middle.blocks) - (last - first)
    if last < count:
        after = rows[last]
        if end - after[_START] + meta["length"] != len(source):
            return None  # the rows after the stretch do not end the file: not what was matched
        shift = (line - after[_LINE], end - after[_START])
    elif end != len(source):
        return None
    # The old rows go, the ones after move (their numbers too, when the stretch holds more or fewer blocks: through
    # negative numbers, as two rows may not hold one number even for a moment), and the new ones come in.
    connection.execute("DELETE FROM blocks WHERE seq >= ? AND seq < ?", (first, last))
    if last < count and moved:
        connection.execute(
            "UPDATE blocks SET seq = -1 - (seq + ?), line = line + ?, start = start + ? WHERE seq >= ?",
            (moved, *shift, last),
        )
        connection.execute("UPDATE blocks SET seq = -1 - seq WHERE seq < 0")
    elif last < count and shift != (0, 0):
        connection.execute("UPDATE blocks SET line = line + ?, start = start + ? WHERE seq >= ?", (*shift, last))
    connection.executemany(derived.INSERT_BLOCK, written)
    connection.executemany(derived.INSERT_WORK, works)
    if first and gap:
        before = rows[first - 1]
        grown = source[before[_START] : position + gap]
        connection.execute(
            "UPDATE blocks SET bytes = ?, size = ?, hash = ? WHERE seq = ?",
            (len(grown), len(grown.decode("utf-8")), derived.block_hash(grown), first - 1),
        )
    connection.executemany(
        "DELETE FROM works WHERE id = ? AND NOT EXISTS (SELECT 1 FROM blocks WHERE work_id = ?)",
        [(row[_WORK], row[_WORK]) for row in old if row[_WORK] is not None],
    )
    total = count + moved
    touched = max(first - 1, 0) // derived.CHUNK
    if moved:  # every run from the stretch on holds other rows now
        dirty = range(touched, -(-total // derived.CHUNK))
    else:
        dirty = {number // derived.CHUNK for number in range(max(first - 1, 0), max(first + len(written), 1))}
    derived.refresh_chunks(connection, source, total, dirty, _Spans(connection))
    if first == 0:
        derived.set_meta(connection, head=len(middle.head), head_bytes=gap)
    known = None if pieces is None else [fingerprint, pieces]
    derived.set_meta(connection, file=fingerprint, pieces=known, length=len(source), signature=None)
    removed = {row[_KEY] for row in old if row[_KEY] is not None} - {block.key for block in middle.blocks}
    return CaughtUp(fingerprint, [block.work for block in middle.blocks if block.work], sorted(removed), indexed)


def _runs_tile(runs: list, count: int, head: int, length: int) -> bool:
    """Whether the runs are the fixed runs of ``count`` rows, in order, covering the file from its head to its end."""
    if len(runs) != -(-count // derived.CHUNK):
        return False
    position = head
    for number, (first, last, _hash, start, end) in enumerate(runs):
        if first != number * derived.CHUNK or last != min(count, first + derived.CHUNK) - 1 or start != position:
            return False
        position = end
    return position == length


def _unchanged_ends(
    connection: sqlite3.Connection, runs: list, count: int, head: int, source: bytes, same_bytes: int = 0
):
    """(first, position, last, end): the rows before ``first`` and from ``last`` on still stand in ``source``, the
    first ending at byte ``position``, the others from byte ``end``. Whole runs first, then block by block.
    ``same_bytes``: how many bytes from the start are known to be as they were (their pieces' digests are the
    recorded ones), so the runs within them are not hashed again."""
    view = memoryview(source)
    try:
        low, position = _runs_from_start(view, runs, head, same_bytes)
        high, end = len(runs), len(source)
        for size in _runs_from_end(view, runs, low, position):
            end -= size
            high -= 1
        first = runs[low - 1][1] + 1 if low else 0  # the rows of the runs that did not match
        last = runs[high][0] if high < len(runs) else count
        window = connection.execute(
            f"SELECT {_ROW} FROM blocks WHERE seq >= ? AND seq < ? ORDER BY seq", (first, last)
        ).fetchall()
        opening = first
        blake = hashlib.blake2b
        for row in window:
            length = row[_BYTES]
            if blake(view[position : position + length], digest_size=8).hexdigest() != row[_HASH]:
                break
            position += length
            first += 1
        for row in reversed(window[first - opening :]):
            length = row[_BYTES]
            if end - length < position or blake(view[end - length : end], digest_size=8).hexdigest() != row[_HASH]:
                break
            end -= length
            last -= 1
    finally:
        view.release()
    return first, position, last, end


def _same_bytes(before: list[str] | None, now: list[str] | None) -> int:
    """How many bytes from the start the file is known to hold as it did: its full pieces (``fingerprint.PIECE``)
    whose digests, taken for its fingerprint, are the ones recorded with the rows."""
    same = 0
    for old, new in zip(before or (), now or (), strict=False):
        if old != new:
            break
        same += 1
    return same * fingerprint.PIECE


def _runs_from_start(view: memoryview, runs: list, head: int, same_bytes: int) -> tuple[int, int]:
    """(how many runs, the byte they end at): the runs from the first that still stand where they stood."""
    matched, position = 0, head
    for _first, _last, digest, start, stop in runs:
        if stop > same_bytes and derived.chunk_hash(view[position : position + stop - start]) != digest:
            break
        position += stop - start
        matched += 1
    return matched, position


def _runs_from_end(view: memoryview, runs: list, low: int, position: int) -> list[int]:
    """The sizes of the runs from the last back towards the ``low``-th that the file's last bytes still hold, as far
    as they match without reaching below byte ``position``. Where an edit sits near the start this is the whole
    file, so its two halves are hashed at once (``on_two_threads``), the earlier one in the hope that the later
    matches whole: the time of half the file where the machine has a second core."""
    sizes = [stop - start for _first, _last, _digest, start, stop in runs]
    ends, end = [0] * len(runs), len(view)
    for number in range(len(runs) - 1, low - 1, -1):  # where each run ends if every run after it matches
        ends[number] = end
        end -= sizes[number]

    def matching(numbers: range) -> list[int]:
        found = []
        for number in numbers:
            at = ends[number] - sizes[number]
            if at < position or derived.chunk_hash(view[at : ends[number]]) != runs[number][2]:
                break
            found.append(sizes[number])
        return found

    middle = (low + len(runs)) // 2
    later, earlier = range(len(runs) - 1, middle - 1, -1), range(middle - 1, low - 1, -1)
    if len(earlier) < 2:
        return matching(range(len(runs) - 1, low - 1, -1))
    from_end, before = on_two_threads(lambda: matching(later), lambda: matching(earlier))
    return from_end + before if len(from_end) == len(later) else from_end


def _keys_elsewhere(connection: sqlite3.Connection, keys: set[str], first: int, last: int) -> bool:
    """Whether a row outside ``first``..``last`` holds one of ``keys`` (lower-cased, as a full parse compares).
    SQLite lowers ASCII letters only: it is asked for the rows whose key it lowers to one of ``keys``, and for those
    whose key holds any character outside printable ASCII, which Python's lowering may bring to one of them (the
    Kelvin sign to k); Python compares what comes back, so the other 100,000 keys are never fetched."""
    if not keys:
        return False
    plain = sorted(key for key in keys if key.isascii())
    if len(plain) > _KEYS_ASKED:
        others = connection.execute(
            "SELECT key FROM blocks WHERE key IS NOT NULL AND (seq < ? OR seq >= ?)", (first, last)
        )
    else:
        others = connection.execute(
            "SELECT key FROM blocks WHERE key IS NOT NULL AND (seq < ? OR seq >= ?) "
            f"AND (lower(key) IN ({', '.join('?' * len(plain)) or 'NULL'}) OR key GLOB '*[^ -~]*')",
            (first, last, *plain),
        )
    return any(key.lower() in keys for (key,) in others)


class _Rows:
    """Rows by number, fetched one at a time, each once: the stretch's neighbours are all a catch-up reads outside
    it, and the rows before the stretch stay as they are."""

    def __init__(self, connection: sqlite3.Connection):
        self.connection, self._fetched = connection, {}

    def __getitem__(self, seq: int) -> tuple:
        if seq not in self._fetched:
            found = self.connection.execute(f"SELECT {_ROW} FROM blocks WHERE seq = ?", (seq,)).fetchone()
            if found is None:
                raise IndexError(seq)
            self._fetched[seq] = found
        return self._fetched[seq]


class _Spans:
    """``span(seq)`` for ``derived.refresh_chunks``: a row's byte range as the rows now say."""

    def __init__(self, connection: sqlite3.Connection):
        self.connection = connection

    def __call__(self, seq: int) -> tuple[int, int]:
        start, length = self.connection.execute("SELECT start, bytes FROM blocks WHERE seq = ?", (seq,)).fetchone()
        return start, start + length
