"""What is derived from references.bib, one row per block in SQLite, so commands skip parsing an unchanged file and a
write costs the blocks it changed.

``.index/library.sqlite`` holds the file as parsed (each block's length, line, hash and byte offset, in file order,
and apart from them each parsed work under the hash of itself) under one freshness rule: the hash of the
file's bytes and of the parsing code it was parsed from, in ``meta``. The same rows are the entry map: each block's
byte offset and size, so a read-only command can read the few entries it shows from the file, while the file's size,
modification time and inode (recorded once the index is in line with it) still match. Derived data: ignored when
absent, stale or damaged (the next full read writes it again), written in one SQLite transaction, so a crash leaves
the rows before or after the change.

A block read from the rows remembers which row it is and the text it had (``Block.saved``); a write compares by
identity, so adding one work to a 10,000-entry file inserts one row instead of writing the whole parse again. The
works live in a table of their own, by their own hash, so that when an edit moves every block after it, only the
small rows of positions are rewritten (one statement), never the works' pages.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import importlib.util
import json
import os
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

from evidence.model import Work
from evidence.store import bibtex
from evidence.store.bibfile import BibFile, Block, parse_bibtex
from evidence.store.row_blocks import RowBlocks

DERIVED_DB = "library.sqlite"  # the parse of references.bib and where each entry sits in it
SCHEMA = 4
# Rows are hashed in fixed runs of this many as well as one by one: after a hand edit, the runs that still match the
# file (one hash each) are passed over, and only the blocks of the runs that do not are hashed one by one.
CHUNK = 512
_TABLES = (
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS blocks (seq INTEGER PRIMARY KEY, size INTEGER NOT NULL, line INTEGER NOT NULL, "
    "failed INTEGER NOT NULL, key TEXT, doi TEXT, aliases TEXT, hash TEXT NOT NULL, work_id TEXT, "
    "start INTEGER NOT NULL, bytes INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS blocks_by_key ON blocks (key)",
    "CREATE INDEX IF NOT EXISTS blocks_by_work ON blocks (work_id)",
    "CREATE TABLE IF NOT EXISTS works (id TEXT PRIMARY KEY, work TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS chunks (first INTEGER PRIMARY KEY, last INTEGER NOT NULL, hash TEXT NOT NULL)",
)
# what a block is made from (``StoredBlock.of_row``): the block hashes and sizes are for writes and catch-ups only
_ROW = "SELECT seq, line, failed, work_id, start, bytes, key, doi, aliases FROM blocks"
ROWS_FROM = f"{_ROW} WHERE seq >= ? ORDER BY seq"
ROWS_BETWEEN = f"{_ROW} WHERE seq BETWEEN ? AND ? ORDER BY seq"
# what a read takes of every row: what lookups over the whole library need, and where each block ends
COLUMNS = "SELECT bytes, key, doi, aliases FROM blocks ORDER BY seq"


def bib_signature(bib_path: Path, handle=None) -> list[int] | None:
    """Size, modification time and inode of references.bib: any edit or atomic replacement changes one of them."""
    try:
        status = os.fstat(handle.fileno()) if handle is not None else bib_path.stat()
    except OSError:
        return None
    return [status.st_size, status.st_mtime_ns, status.st_ino]


def settled(signature: list[int] | None) -> bool:
    """Whether a file under ``signature`` cannot be changed from now on without its signature changing: its
    modification time lies further in the past than the clock that stamps it could blur (``git``'s "racy" rule).
    An edit within the same tick as the last one, keeping the size, would otherwise pass for no edit. Whole-second
    (or whole-millisecond) times say the file system keeps coarse ones (FAT keeps two seconds)."""
    if signature is None:
        return False
    mtime = signature[1]
    margin = 2_000_000_000 if mtime % 1_000_000 == 0 else 50_000_000
    return time.time_ns() - mtime > margin


def connect(index_dir: Path, create: bool = False) -> sqlite3.Connection | None:
    """The derived database; None when it is absent (and not to be made) or of another schema. One made for
    ``create`` replaces a file of another schema or a damaged one (``sqlite3.DatabaseError`` on the way)."""
    path = index_dir / DERIVED_DB
    if not create and not path.is_file():
        return None
    if create:
        index_dir.mkdir(exist_ok=True)
    try:
        connection = sqlite3.connect(path, timeout=30, isolation_level=None)
        if connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA:
            return connection
        connection.close()
    except sqlite3.DatabaseError:
        if not create:
            return None
    if not create:
        return None
    path.unlink(missing_ok=True)
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    for statement in _TABLES:
        connection.execute(statement)
    connection.execute(f"PRAGMA user_version = {SCHEMA}")
    return connection


def read_meta(connection: sqlite3.Connection) -> dict:
    """The meta values that read as JSON: a damaged one is as good as absent, so what needs it is made again."""
    found = {}
    for name, value in connection.execute("SELECT name, value FROM meta"):
        with contextlib.suppress(ValueError, TypeError):
            found[name] = json.loads(value)
    return found


def set_meta(connection: sqlite3.Connection, **values) -> None:
    connection.executemany(
        "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
        [(name, json.dumps(value, ensure_ascii=False)) for name, value in values.items()],
    )


def _saved_rows(
    index_dir: Path, fingerprint: str | None, signature: list[int] | None
) -> tuple[dict, list[int], tuple[list, list, list]] | None:
    """The meta values, and the rows' columns in file order (``COLUMNS``): each block's length in bytes, and its
    key, DOI and aliases; None when there are none to trust (absent, damaged, by other parsing code, not one row for
    each number from 0 on, or not of the file whose bytes hash to ``fingerprint``; with no ``fingerprint``, not
    recorded under ``signature`` with the digests of the file's pieces: known before any row is read)."""
    try:
        connection = connect(index_dir)
        if connection is None:
            return None
        try:
            connection.execute("BEGIN")  # the meta and the rows as one state: no save comes between them
            meta = read_meta(connection)
            if meta.get("parser") != parser_version():
                return None
            if fingerprint is None and (signature is None or meta.get("signature") != signature):
                return None
            if fingerprint is None and recorded_pieces(meta) is None:
                return None
            if fingerprint is not None and fingerprint != meta.get("file"):
                return None
            count, low, high = connection.execute("SELECT count(*), min(seq), max(seq) FROM blocks").fetchone()
            if count and (low, high) != (0, count - 1):
                return None  # the numbers are the primary key, so distinct: 0 to count - 1 is every one
            lengths, keys, dois, aliases = [], [], [], []
            for length, key, doi, joined in connection.execute(COLUMNS):
                lengths.append(length)
                keys.append(key)
                dois.append(doi)
                aliases.append(joined)
        finally:
            connection.close()
    except (sqlite3.DatabaseError, ValueError, TypeError):
        return None
    return meta, lengths, (keys, dois, aliases)


def read_saved_parse(
    index_dir: Path, fingerprint: str | None, source: bytes, signature: list[int] | None = None
) -> BibFile | None:
    """The saved parse if it is of these bytes (``source``, the file as UTF-8) by this code; no block is made from
    its row, nor its text cut from ``source``, until it is asked for (``RowBlocks``). ``signature``: the file's,
    taken after its bytes were read. With no ``fingerprint`` (the caller has not hashed the file, whose signature
    is settled: ``settled``), the rows are taken when they were recorded under ``signature`` (``remember_rows``),
    and their fingerprint and pieces' digests are the file's (``read_as``, ``source_pieces``). When the index was
    last brought in line with this file, the parse says so (``unindexed``)."""
    saved = _saved_rows(index_dir, fingerprint, signature)
    if saved is None:
        return None
    meta, lengths, hints = saved
    pieces = recorded_pieces(meta)
    if fingerprint is None:
        fingerprint = meta["file"]
    if meta.get("file") != fingerprint or meta.get("length") != len(source):
        return None
    try:
        head = meta["head_bytes"]
        if head + sum(lengths) != len(source):
            return None  # the rows do not tile the file
        bib = BibFile(source=source, strings=meta["strings"], problems=meta["problems"], head=source[:head].decode())
    except (KeyError, TypeError, ValueError):
        return None
    made = _BlocksOfRows(index_dir, source, SavedWorks(index_dir, bib.strings))
    bib.blocks = RowBlocks(source, head, lengths, hints, made, fingerprint)
    bib.saved_as = bib.read_as = fingerprint
    bib.source_pieces = pieces
    if meta.get("indexed") == fingerprint:  # the index was last brought in line with this very file
        bib.unindexed = set()
    return bib


class _BlocksOfRows:
    """``RowBlocks``' maker: the blocks of the rows from ``first`` on, one for each (start, length) of ``spans``,
    each as its row describes it, while the rows are still those of the file ``rows_of`` and stand where ``spans``
    say. Rows another command has rewritten since (a search catching up with a hand edit) no longer describe
    ``source``: then the blocks are those of ``source`` parsed whole, which is what its rows were made from (parsed
    once, however many blocks are asked for after)."""

    def __init__(self, index_dir: Path, source: bytes, works: SavedWorks):
        self._index_dir, self._source, self._works = index_dir, source, works
        self._parsed: list[Block] | None = None

    def __call__(self, first: int, spans: list[tuple[int, int]], rows_of: str) -> list[Block]:
        if self._parsed is None:
            rows = self._rows(first, len(spans), rows_of)
            blocks = []
            with _collector_paused():
                for number, (row, span) in enumerate(zip(rows, spans, strict=False), start=first):
                    if row[0] != number or (row[4], row[5]) != span:
                        break
                    blocks.append(StoredBlock.of_row(self._source, row, self._works))
            if len(blocks) == len(spans):
                return blocks
            self._parsed = parse_bibtex(self._source.decode("utf-8")).blocks
        return self._parsed[first : first + len(spans)]

    def _rows(self, first: int, count: int, rows_of: str) -> list[tuple]:
        with contextlib.suppress(sqlite3.DatabaseError, ValueError, TypeError):
            connection = connect(self._index_dir)
            if connection is not None:
                try:
                    connection.execute("BEGIN")  # the meta and the rows as one state
                    if read_meta(connection).get("file") == rows_of:
                        return connection.execute(ROWS_BETWEEN, (first, first + count - 1)).fetchall()
                finally:
                    connection.close()
        return []


@contextlib.contextmanager
def _collector_paused():
    """Python's cycle collector held off while rows become blocks: a row, a block and its tuples hold no cycle, and
    the collector's passes over a heap growing by hundreds of thousands of them cost as much as making them."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def settle(index_dir: Path, bib: BibFile, first: int) -> None:
    """Swap the blocks from the ``first``-th on, just saved, for blocks read back from their rows (``StoredBlock``),
    so that their text and decoded works can go: a bulk import written in batches then holds one small object per
    entry, not every work it has written. Left as they are when the rows are not those of ``bib`` as it stands."""
    if not bib.saved_as or bib.saved_as != bib.read_as:
        return
    try:
        connection = connect(index_dir)
        if connection is None:
            return
        try:
            if read_meta(connection).get("file") != bib.saved_as:
                return
            rows = connection.execute(ROWS_FROM, (first,)).fetchall()
        finally:
            connection.close()
    except sqlite3.DatabaseError:
        return
    if len(rows) != len(bib.blocks) - first:
        return
    # one SavedWorks for every batch settled, so a pass over all the works holds one run of them, not one a batch
    known = bib.blocks[0] if bib.blocks else None
    shared = isinstance(known, StoredBlock) and known._works.strings == bib.strings
    works = known._works if shared else SavedWorks(index_dir, bib.strings)
    settled = []
    for block, row in zip(bib.blocks[first:], rows, strict=True):
        if block.saved is None or (row[0], row[4], row[5]) != (block.saved[0], block.saved[3], block.saved[4]):
            return
        settled.append(StoredBlock.of_row(bib.source, row, works))
    bib.blocks[first:] = settled


def block_hash(raw: bytes) -> str:
    return hashlib.blake2b(raw, digest_size=8).hexdigest()


INSERT_BLOCK = (
    "INSERT OR REPLACE INTO blocks (seq, size, line, failed, key, doi, aliases, hash, work_id, start, bytes) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_WORK = "INSERT OR IGNORE INTO works (id, work) VALUES (?, ?)"


def block_row(number: int, block: Block, line: int, start: int, raw: bytes, work_id: str | None) -> tuple:
    """The row of a block written anew (``raw``: its text as UTF-8, at byte ``start``), as ``INSERT_BLOCK`` takes it."""
    aliases = "\n".join(block.citable_keys[1:]) or None
    row = (number, len(block.raw), line, int(block.failed), block.key, block.doi or None, aliases)
    return (*row, block_hash(raw), work_id, start, len(raw))


def work_entry(work: Work) -> tuple[str, str]:
    """(id, text): a work as stored, named by its own text, as two blocks may read alike (even two empty ones)."""
    text = stored_work(work)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest(), text


def chunk_hash(data) -> str:
    """The hash of a run of blocks' bytes: SHA-256, which hashes a long run fastest here (as in the fingerprint)."""
    return hashlib.sha256(data).hexdigest()[:32]


def refresh_chunks(connection: sqlite3.Connection, source: bytes, count: int, dirty, span) -> None:
    """Hash again the runs numbered ``dirty`` (the ``CHUNK`` rows from ``number * CHUNK``) of a file of ``count``
    blocks, and drop the runs past its end. ``span(seq)``: the byte range in ``source`` of the block in that row."""
    connection.execute("DELETE FROM chunks WHERE first >= ?", (count,))
    hashes = []
    view = memoryview(source)
    try:
        for number in sorted(dirty):
            first = number * CHUNK
            if first < count:
                last = min(count, first + CHUNK) - 1
                hashes.append((first, last, chunk_hash(view[span(first)[0] : span(last)[1]])))
    finally:
        view.release()
    connection.executemany("INSERT OR REPLACE INTO chunks (first, last, hash) VALUES (?, ?, ?)", hashes)


def _works_of(connection: sqlite3.Connection, seqs: list[int], count: int) -> tuple[list[str], set[str]]:
    """The works (and the keys) the rows ``seqs`` and those from ``count`` on name now, before they are replaced or
    dropped."""
    found = set(connection.execute("SELECT work_id, key FROM blocks WHERE seq >= ?", (count,)))
    for offset in range(0, len(seqs), 500):
        part = seqs[offset : offset + 500]
        query = f"SELECT work_id, key FROM blocks WHERE seq IN ({', '.join('?' * len(part))})"
        found.update(connection.execute(query, part))
    return sorted({ident for ident, _ in found if ident is not None}), {key for _, key in found if key is not None}


_PENDING = object()


class SavedWorks:
    """The stored works of one parse, fetched by id when a block first needs its work. The first few are fetched one
    by one (a write of one work touches a few); past that, the caller is reading them all, so the rest come in one
    query. By id, which is the hash of the work's own text, so a row another command has rewritten since cannot be
    mistaken for this one: a work no longer stored is read again from its block's text.

    A pass over every work (``BibFile.each_work``) reads them instead in runs of ``RUN`` rows in file order
    (``text_in_passing``), keeping one run at a time."""

    SINGLY = 32
    RUN = 1000

    def __init__(self, index_dir: Path, strings: dict[str, str]):
        self.index_dir, self.strings = index_dir, strings
        self._fetched: dict[str, str] | None = None
        self._asked = 0
        self._connection: sqlite3.Connection | None = None  # one for the lookups one by one, closed after them
        self._connection_pid = 0  # the process it was opened in: a forked one (the index's helper) opens its own
        self._run: dict[str, str] = {}  # the works of the rows from ``_run_from`` on, by id (``text_in_passing``)
        self._run_from: int | None = None

    def text_of(self, work_id: str) -> str | None:
        if self._fetched is not None:
            return self._fetched.get(work_id)
        self._asked += 1
        try:
            if self._connection is None or self._connection_pid != os.getpid():
                self._connection = sqlite3.connect(self.index_dir / DERIVED_DB, timeout=30)
                self._connection_pid = os.getpid()
            if self._asked <= self.SINGLY:
                # read to the end, so the statement holds no read lock between lookups
                found = self._connection.execute("SELECT work FROM works WHERE id = ?", (work_id,)).fetchall()
                return found[0][0] if found else None
            self._fetched = dict(self._connection.execute("SELECT id, work FROM works"))
        except sqlite3.DatabaseError:
            self._fetched = {}
        self._close()
        return self._fetched.get(work_id)

    def text_in_passing(self, work_id: str, seq: int) -> str | None:
        """The work ``work_id`` of the block stored in row ``seq``, read with the next ``RUN`` rows' works, which a
        pass in file order asks for next; ``text_of`` when the row holds another work now (rows rewritten since)."""
        if self._fetched is not None:
            return self._fetched.get(work_id)
        if self._run_from is None or not self._run_from <= seq < self._run_from + self.RUN:
            self._run, self._run_from = {}, seq
            try:
                connection = sqlite3.connect(self.index_dir / DERIVED_DB, timeout=30)
                try:
                    self._run = dict(connection.execute(RUN_OF_WORKS, (seq, seq + self.RUN - 1)))
                finally:
                    connection.close()
            except sqlite3.DatabaseError:
                pass
        found = self._run.get(work_id)
        return found if found is not None else self.text_of(work_id)

    def _close(self) -> None:
        if self._connection is not None and self._connection_pid == os.getpid():
            self._connection.close()
        self._connection = None


RUN_OF_WORKS = (
    "SELECT works.id, works.work FROM blocks JOIN works ON works.id = blocks.work_id WHERE blocks.seq BETWEEN ? AND ?"
)


class StoredBlock(Block):
    """A block read from the rows: its text cut from the file's bytes, its key, DOI and aliases from their columns,
    and its work fetched and decoded, only when first asked for, so a command that writes one work to a large
    library decodes one, not all."""

    # slots: a command that reads every work (an export, an index rebuild) holds one of these per entry
    __slots__ = ("_source", "at", "_length", "_raw", "_works", "work_id", "_work", "_hints")

    def __init__(self, source: bytes, seq: int, line: int, start: int, length: int, failed, work_id, hints, works):
        # as its row says: the block stands at ``start`` in ``source`` (``at`` moves when a write moves it)
        self._source, self.at, self._length, self._raw = source, start, length, None
        self.line, self.failed, self._works = line, bool(failed), works
        self.saved = (seq, None, line, start, length)
        self.work_id, self._hints = work_id, hints  # (key, DOI, aliases one a line) from the row's columns
        self._work = _PENDING if work_id is not None or hints[0] is not None else None

    @classmethod
    def of_row(cls, source: bytes, row: tuple, works: SavedWorks) -> StoredBlock:
        """The block of a row as ``ROWS_FROM`` and ``ROWS_BETWEEN`` fetch it."""
        seq, line, failed, work_id, start, length, key, doi, aliases = row
        return cls(source, seq, line, start, length, failed, work_id, (key, doi, aliases), works)

    @property
    def raw(self) -> str:
        if self._raw is not None:
            return self._raw
        return self._source[self.at : self.at + self._length].decode("utf-8")

    @raw.setter
    def raw(self, value: str) -> None:
        self._raw = value  # changed: written anew

    @property
    def newlines(self) -> int:
        if self._raw is None:
            return self._source.count(b"\n", self.at, self.at + self._length)
        return self._raw.count("\n")

    def unchanged_at(self, source: bytes, position: int) -> int | None:
        if self._raw is None:
            return self._length if source is self._source and self.at == position else None
        return Block.unchanged_at(self, source, position)

    def text_as_saved(self) -> bool:
        return self._raw is None or Block.text_as_saved(self)

    def relocate(self, source: bytes, at: int) -> None:
        """The write put this block, unchanged, at ``at`` of ``source`` (the file as written)."""
        if self._raw is None:
            self._source, self.at = source, at

    @property
    def work(self) -> Work | None:
        if self._work is _PENDING:
            self._work = self._decoded(self._works.text_of(self.work_id))
            if self._work is None or self._work.key != self._hints[0]:
                self._work, self.work_id = self._reread(), None
        return self._work

    def work_in_passing(self) -> Work | None:
        if self._work is not _PENDING:
            return self._work
        work = self._decoded(self._works.text_in_passing(self.work_id, self.saved[0]))
        return work if work is not None and work.key == self._hints[0] else self.work

    @staticmethod
    def _decoded(text: str | None) -> Work | None:
        try:
            return _work(text)
        except (ValueError, TypeError, KeyError):  # damaged: the block's own text says what it holds
            return None

    def _reread(self) -> Work | None:
        """The work as the block's own text gives it: its stored work is gone, damaged or another's."""
        reread = parse_bibtex(self.raw.rstrip() + "\n", strings=self._works.strings).works
        return reread[0] if reread else None

    @work.setter
    def work(self, value: Work | None) -> None:
        self._work, self.work_id = value, None  # changed: the stored work no longer describes it

    @property
    def key(self) -> str | None:
        return self._hints[0] if self._work is _PENDING else Block.key.fget(self)

    @property
    def doi(self) -> str:
        return (self._hints[1] or "") if self._work is _PENDING else Block.doi.fget(self)

    @property
    def citable_keys(self) -> tuple[str, ...]:
        if self._work is _PENDING:
            key, _doi, aliases = self._hints
            if key is None:
                return ()
            return (key, *aliases.split("\n")) if aliases else (key,)
        return Block.citable_keys.fget(self)


def _unchanged_work(block: Block) -> str | None:
    """The id of the block's stored work while it is undecoded, so unchanged (only the block's spacing may have
    changed); None when the work must be stored anew."""
    if isinstance(block, StoredBlock) and block.work_id is not None and block._work is _PENDING:
        return block.work_id
    return None


def _work(saved: str | None) -> Work | None:
    if saved is None:
        return None
    key, entry_type, fields, text = json.loads(saved)
    decoded = {name: fields[name] if value is None else value for name, value in text}
    return Work(key=key, entry_type=entry_type, fields=fields, text=decoded)


def stored_work(work: Work | None) -> str | None:
    """A work as stored: its decoded text kept only where it differs from the field as written (null where it is
    the same: most values hold no LaTeX), which halves what a load reads and decodes."""
    if work is None:
        return None
    text = [[name, None if work.fields.get(name) == value else value] for name, value in work.text.items()]
    return json.dumps([work.key, work.entry_type, work.fields, text], ensure_ascii=False)


def save_parse(index_dir: Path, bib: BibFile, fingerprint: str, kept: int = 0) -> None:
    """Keep ``bib`` (the parse of the file whose bytes hash to ``fingerprint``) as rows: only the blocks that are not
    already stored as they are, where the rows describe the state ``bib`` was read from; all of them otherwise.
    ``kept``: how many blocks from the start stand in ``bib.source`` as their rows say (the write left them where
    they were), so are not even looked at. Derived data like the index: failures are ignored (the next read parses
    again). The works written are added to ``bib.unindexed``, the ones the search index has yet to see."""
    pending, bib.unindexed = bib.unindexed, None  # unknown, unless the rows are written one by one below
    for attempt in range(2):
        try:
            rows, written_keys, kept = _write_rows(index_dir, bib, fingerprint, kept)
            break
        except sqlite3.DatabaseError:  # damaged in a way reading did not show (a table gone): made again, once
            if attempt:
                return
            with contextlib.suppress(OSError):
                (index_dir / DERIVED_DB).unlink()
        except OSError:
            return
    if rows is None:
        return
    for block, row in zip(bib.blocks[kept:], rows, strict=True):
        block.saved = row
        block.relocate(bib.source, row[3])
    bib.saved_as = fingerprint
    if isinstance(bib.blocks, RowBlocks):  # the rows of the blocks not yet made stand: they describe this file too
        bib.blocks.rows_of = fingerprint
    if pending is not None and written_keys is not None:
        bib.unindexed = pending | written_keys


def _write_rows(
    index_dir: Path, bib: BibFile, fingerprint: str, kept: int
) -> tuple[list[tuple] | None, set[str] | None, int]:
    """One transaction: a crash, or another command saving at the same time, leaves whole states only. Returns the
    rows of the blocks from the ``kept``-th on (None, and nothing written, when the blocks do not tile
    ``bib.source``, so could not be cut from it again), the keys of the works stored anew (None when all were, or a
    work's row went: not one by one), and ``kept`` (0 when the rows were written whole)."""
    connection = connect(index_dir, create=True)
    try:
        connection.execute("BEGIN IMMEDIATE")
        meta = read_meta(connection)
        whole = not bib.saved_as or meta.get("file") != bib.saved_as or meta.get("parser") != parser_version()
        if whole:
            connection.execute("DELETE FROM blocks")
            connection.execute("DELETE FROM works")
        before = bib.blocks[kept - 1].saved if kept and not whole else None
        if before is None or before[0] != kept - 1:
            kept = 0  # the rows before the first change are not known to stand: look at every block
        # A block still in its row as stored is not written again; one that only moved (an entry before it grew)
        # has its line and byte offset updated; any other is written whole.
        rows, written, works, moved = [], [], [], []
        start = before[3] + before[4] if kept else len(bib.head.encode("utf-8"))
        new_works: set[str] = set()  # the keys of the works stored anew (not a block's spacing only)
        for number, block in enumerate(bib.blocks[kept:], start=kept):
            saved = None if whole else block.saved
            if saved is not None and saved[0] == number and block.text_as_saved():
                length, text = saved[4], saved[1]  # a block not yet cut from the file stays so
                if (saved[2], saved[3]) != (block.line, start):
                    shift = (block.line - saved[2], start - saved[3])
                    if moved and moved[-1][:2] == shift and moved[-1][3] == number - 1:
                        moved[-1] = (*shift, moved[-1][2], number)  # the rows after an edit move together
                    else:
                        moved.append((*shift, number, number))
            else:
                text = block.raw
                raw = text.encode("utf-8")
                length = len(raw)
                work_id = _unchanged_work(block)
                if work_id is None and block.work is not None:
                    work_id, _ = entry = work_entry(block.work)
                    works.append(entry)
                    new_works.add(block.key)
                    if len(works) >= 1000:  # stored as they come: a large import need not hold them all twice
                        connection.executemany(INSERT_WORK, works)
                        works.clear()
                written.append(block_row(number, block, block.line, start, raw, work_id))
            rows.append((number, text, block.line, start, length))
            start += length
        if start != len(bib.source):
            connection.execute("ROLLBACK")
            return None, None, kept
        # the works of the rows about to be replaced or dropped: removed below unless another row still has them
        replaced, dropped = (
            ([], set()) if whole else _works_of(connection, [row[0] for row in written], len(bib.blocks))
        )
        connection.executemany(INSERT_BLOCK, written)
        connection.executemany(INSERT_WORK, works)
        connection.executemany("UPDATE blocks SET line = line + ?, start = start + ? WHERE seq BETWEEN ? AND ?", moved)
        connection.execute("DELETE FROM blocks WHERE seq >= ?", (len(bib.blocks),))
        connection.executemany(
            "DELETE FROM works WHERE id = ? AND NOT EXISTS (SELECT 1 FROM blocks WHERE work_id = ?)",
            [(work_id, work_id) for work_id in replaced],
        )
        count = len(bib.blocks)  # the runs holding a row written anew, and the last (it may have grown or shrunk)
        dirty = range(-(-count // CHUNK)) if whole else {row[0] // CHUNK for row in written} | {(count - 1) // CHUNK}

        def span(seq: int) -> tuple[int, int]:
            saved = rows[seq - kept] if seq >= kept else bib.blocks[seq].saved
            return saved[3], saved[3] + saved[4]

        refresh_chunks(connection, bib.source, count, dirty, span)
        set_meta(connection, **_meta(bib.source, bib.head, bib.strings, bib.problems, fingerprint, bib.source_pieces))
        connection.execute("COMMIT")
    finally:
        connection.close()
    written_keys = {row[4] for row in written if row[4] is not None}
    return rows, None if whole or dropped - written_keys else new_works, kept


def save_parts(
    index_dir: Path, parts: Iterable[BibFile], source: bytes, fingerprint: str, pieces: list[str] | None = None
) -> bool:
    """Keep the parse of the file ``source`` (whose bytes hash to ``fingerprint``), given in parts in file order
    (``bibfile.parse_bibtex_parts``), as rows written part by part in one transaction, so that the full parse of a
    large file holds one part's works at a time; ``read_saved_parse`` then gives the file as parsed. False, with
    nothing written, when the parts do not tile ``source`` or the rows cannot be written (derived data: the caller
    parses the file whole)."""
    try:
        connection = connect(index_dir, create=True)
    except (OSError, sqlite3.DatabaseError):
        return False
    try:
        connection.execute("BEGIN IMMEDIATE")
        for table in ("blocks", "works", "chunks"):
            connection.execute(f"DELETE FROM {table}")  # noqa: S608 - the table names are the three above
        head, strings, problems = None, {}, []
        starts: list[int] = []  # each block's byte offset, and the end of the last: the runs' hashes need them
        number = 0
        for part in parts:
            if head is None:
                head, strings = part.head, part.strings
                starts.append(len(head.encode("utf-8")))
            elif part.head:
                raise ValueError("a part after the first with text before its first block")
            problems.extend(part.problems)
            rows, works = [], []
            for block in part.blocks:
                raw = block.raw.encode("utf-8")
                work_id = None
                if block.work is not None:
                    work_id, _ = entry = work_entry(block.work)
                    works.append(entry)
                rows.append(block_row(number, block, block.line, starts[-1], raw, work_id))
                starts.append(starts[-1] + len(raw))
                number += 1
            connection.executemany(INSERT_BLOCK, rows)
            connection.executemany(INSERT_WORK, works)
        if head is None or starts[-1] != len(source):
            connection.execute("ROLLBACK")
            return False
        refresh_chunks(connection, source, number, range(-(-number // CHUNK)), lambda seq: starts[seq : seq + 2])
        set_meta(connection, **_meta(source, head, strings, problems, fingerprint, pieces))
        connection.execute("COMMIT")
    except (OSError, sqlite3.DatabaseError, ValueError):
        with contextlib.suppress(sqlite3.Error):
            connection.execute("ROLLBACK")
        return False
    except BaseException:  # an undecodable line, an interrupt: nothing is kept of the parts written so far
        with contextlib.suppress(sqlite3.Error):
            connection.execute("ROLLBACK")
        raise
    finally:
        connection.close()
    return True


def _meta(source: bytes, head: str, strings: dict, problems: list, fingerprint: str, pieces: list[str] | None) -> dict:
    """The meta values of a parse: what ``read_saved_parse`` checks the rows against, and the file's own parts.
    ``pieces``: the digests of the file's full pieces, when known (``fingerprint.file_fingerprint``)."""
    return {
        "file": fingerprint,
        "pieces": None if pieces is None else [fingerprint, pieces],
        "parser": parser_version(),
        "length": len(source),
        "head": len(head),
        "head_bytes": len(head.encode("utf-8")),
        "strings": strings,
        "problems": problems,
        "signature": None,  # the entry map is trusted again once the index is in line with this file
    }


def remember_entries(index_dir: Path, bib: BibFile, signature: list[int] | None) -> None:
    """Record that the rows describe references.bib as it is under ``signature`` (its size, time and inode), so
    that a read-only command can fetch the few works it shows from the file instead of parsing all of it. Derived
    data: failures are ignored and the next full read records it again."""
    if bib.saved_as and bib.unchanged_prefix() == (len(bib.source), len(bib.blocks)):
        remember_rows(index_dir, bib.saved_as, signature)


def remember_rows(index_dir: Path, fingerprint: str, signature: list[int] | None) -> None:
    """``remember_entries`` for rows known to be of the file whose bytes hash to ``fingerprint``: the index is in
    line with that file (``indexed``), and the file is under ``signature``. A signature not yet ``settled`` is not
    recorded: a later edit could keep it, and the rows would be trusted for a file they do not describe (the next
    command hashes the file, finds it the one indexed, and records it then)."""
    if signature is None:
        return
    with contextlib.suppress(OSError, sqlite3.DatabaseError):
        connection = connect(index_dir)
        if connection is None:
            return
        try:
            connection.execute("BEGIN IMMEDIATE")
            meta = read_meta(connection)
            last = connection.execute("SELECT start + bytes FROM blocks ORDER BY seq DESC LIMIT 1").fetchone()
            end = last[0] if last else meta.get("head_bytes", 0)
            # of this parse, and plain UTF-8 on disk (no BOM, no other encoding): else the spans would be wrong
            if meta.get("file") == fingerprint and end == signature[0]:
                set_meta(connection, indexed=fingerprint, signature=signature if settled(signature) else None)
            connection.execute("COMMIT")
        finally:
            connection.close()


def recorded_pieces(meta: dict) -> list[str] | None:
    """The digests of the file's full pieces as the rows recorded them, when recorded for the rows' own file."""
    pieces = meta.get("pieces")
    if not isinstance(pieces, list) or len(pieces) != 2 or pieces[0] != meta.get("file"):
        return None
    return pieces[1] if isinstance(pieces[1], list) else None


def has_entry_map(index_dir: Path) -> bool:
    return (index_dir / DERIVED_DB).is_file()


def works_by_key(
    index_dir: Path, bib_path: Path, keys: list[str], verified: list[int] | None = None
) -> dict[str, Work] | None:
    """The works with these keys, read from where the rows say they sit; None unless the rows still describe the
    file (it is under the signature recorded with them, or under ``verified``: the one it had when this command
    found it, by its hash, to be the file of the rows) and every key is found where they say."""
    try:
        connection = connect(index_dir)
        if connection is None:
            return None
        try:
            meta = read_meta(connection)
            wanted = list(dict.fromkeys(keys))
            spans = {}
            for offset in range(0, len(wanted), 500):  # SQLite's limit on parameters is 999 in older builds
                part = wanted[offset : offset + 500]
                query = f"SELECT key, start, bytes FROM blocks WHERE key IN ({', '.join('?' * len(part))})"
                spans.update((key, (start, size)) for key, start, size in connection.execute(query, part))
            if len(spans) != len(wanted):
                return None
        finally:
            connection.close()
        with open(bib_path, "rb") as handle:
            expected = verified if verified is not None else meta.get("signature")
            if expected is None or expected != bib_signature(bib_path, handle):
                return None
            chunks = []
            for start, size in spans.values():
                handle.seek(start)
                chunks.append(handle.read(size))
        text = b"".join(chunks).decode("utf-8")
    except (OSError, ValueError, KeyError, TypeError, sqlite3.DatabaseError):
        return None
    works = {work.key: work for work in parse_bibtex(text, strings=meta.get("strings")).works}
    return works if all(key in works for key in keys) else None


def entry_keys(
    index_dir: Path, bib_path: Path, offset: int, limit: int, lacking: str = ""
) -> tuple[int, list[str]] | None:
    """How many entries the file holds (those without the field ``lacking``, when given), and the keys of ``limit``
    of them from the ``offset``-th on, in the file's order, from the rows; None unless the rows describe the file
    as it is (its signature is the one recorded)."""
    where = "b.key IS NOT NULL"
    arguments: tuple = ()
    if lacking:  # the field as written, in the stored work's fields (``stored_work``): absent, or only braces
        where += " AND trim(coalesce(json_extract(w.work, '$[2].' || ?), ''), '{} ') = ''"
        arguments = (json.dumps(lacking),)
    tables = "blocks b JOIN works w ON w.id = b.work_id" if lacking else "blocks b"
    try:
        connection = connect(index_dir)
        if connection is None:
            return None
        try:
            expected = read_meta(connection).get("signature")
            if expected is None or expected != bib_signature(bib_path):
                return None
            total = connection.execute(f"SELECT COUNT(*) FROM {tables} WHERE {where}", arguments).fetchone()[0]
            rows = connection.execute(
                f"SELECT b.key FROM {tables} WHERE {where} ORDER BY b.seq LIMIT ? OFFSET ?", (*arguments, limit, offset)
            )
            return total, [key for (key,) in rows]
        finally:
            connection.close()
    except (OSError, ValueError, sqlite3.DatabaseError):
        return None


def _installed_version(package: str) -> str:
    """The package's version as its install records it (the dist-info folder's name), found without importing the
    package or importlib.metadata, which a command served by the saved parse would otherwise pay for."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.origin:
        return ""
    site = Path(spec.origin).parent.parent
    found = sorted(p.name for p in site.glob(f"{package}-*.dist-info"))
    return found[-1] if found else ""


@functools.cache
def parser_version() -> str:
    """Changes with the code that turns BibTeX into works (``bibfile``, ``latex``, ``bibtex``, ``model``,
    ``markup``, this module, bibtexparser and pylatexenc), so a saved parse is never reused by code that would parse
    differently."""
    from evidence import markup, model
    from evidence.store import bibfile, latex

    digest = hashlib.blake2b(digest_size=10)
    for module in (bibfile, latex, bibtex, model, markup):
        digest.update(Path(module.__file__).read_bytes())
    digest.update(Path(__file__).read_bytes())
    for package in ("bibtexparser", "pylatexenc"):
        digest.update(_installed_version(package).encode())
    return digest.hexdigest()
