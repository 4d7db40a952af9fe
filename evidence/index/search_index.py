"""Full-text index of the library (Whoosh, BM25F), kept in ``.index/`` as derived data.

Small interface on purpose (``sync``, ``search``, ``candidates``) so another engine could serve a larger library.
The index stores only the key and a fingerprint of each entry: the text lives in references.bib. A manifest beside
the index (SQLite, one row per entry) records the fingerprint of every indexed entry, so a changed references.bib
costs an update of the changed entries only, and a missing, stale-schema or damaged index is rebuilt from the .bib
with a note.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import math
import shutil
import sqlite3
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from evidence.errors import LibraryError, QuerySyntaxError
from evidence.index.fields import schema
from evidence.index.query import (
    _apply_field_aliases,
    _not_means_without,
    _parser,
    _plain_words_query,
    analyse,
    check_query_syntax,
    stem,
)
from evidence.model import Work

SCHEMA_VERSION = 6  # 4: classes moved to evidence.index._whoosh; 5: works searchable by pmid:; 6: one spelling
MANIFEST = "evidence-manifest.sqlite"  # what the index holds: one row per entry
_HAS_ENTRIES = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'entries'"
# From this many documents, queries Whoosh's matchers would walk a posting at a time are scored with numpy arrays
# (``_whoosh.arrays``; same scores): below it Whoosh answers a query in a few milliseconds, and importing numpy (0.2 s)
# would cost a one-off command more than it saves.
ARRAY_SCORING_FROM = 20_000


def fingerprint(work: Work) -> str:
    """Changes whenever anything the index holds about the work changes (and the schema version with it)."""
    # Fields in their order in the file: reordering an entry's fields reindexes it, which is harmless.
    parts = [str(SCHEMA_VERSION), work.key, work.entry_type, *itertools.chain.from_iterable(work.text.items())]
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=12).hexdigest()


def document(work: Work) -> dict:
    """The indexed fields of one work (plain text from the decoded .bib values)."""
    people = " ".join(p.display.replace(",", " ") for p in work.authors) or work.get("editor")
    title = " ".join(filter(None, (work.title, work.get("subtitle"))))
    annotation = " ".join(filter(None, (work.get("annotation"), work.get("note"))))
    return {
        "key": work.key,
        "doi": work.doi,
        "pmid": work.get("pmid").strip(),
        "title": title,
        "body": "\n".join(filter(None, (title, work.get("abstract"), annotation, work.get("keywords")))),
        "annotation": annotation,
        "keywords": work.get("keywords"),
        "authors": people,
        "journal": work.container,
        "year": work.year,
        "type": work.entry_type,
    }


def index_damage(opening: bool = False) -> tuple[type[BaseException], ...]:
    """What reading a damaged or half-written index raises (truncated files, bad pickles, a missing segment); any
    other exception is a bug in this code and is left to surface as one. ``opening``: unpickling the table of
    contents of an index another version of evidence wrote, whose classes this version lacks, raises ImportError
    or AttributeError too; there, and only there, they mean "rebuild"."""
    import pickle
    import struct
    import zlib

    from whoosh.index import IndexError as WhooshIndexError

    damage = (
        OSError,
        EOFError,
        ValueError,
        KeyError,
        IndexError,
        struct.error,
        pickle.UnpicklingError,
        zlib.error,
        WhooshIndexError,
    )
    return (*damage, ImportError, AttributeError) if opening else damage


@dataclass(frozen=True)
class RawHit:
    key: str
    score: float


class SearchIndex:
    """The Whoosh index of one library folder."""

    def __init__(self, path: Path, notify=None, processes: int | None = None):
        self.path = Path(path)
        self.processes = processes  # for a rebuild; None: as many as useful (see ``_whoosh.bulk``)
        self.notify = notify or (lambda message: None)
        self._searcher = None  # kept open between queries: opening costs more than a query on a large index
        self._lengths: list[float] | None = None  # the open searcher's document lengths, for claim candidates
        self._scorer = None  # the open searcher's array scorer (large libraries)

    @staticmethod
    def analyse(text: str) -> list[str]:
        return analyse(text)

    @staticmethod
    def stem(word: str) -> str:
        return stem(word)

    # Manifest -----------------------------------------------------------------------------------------------------
    # One row per indexed entry (key, fingerprint) in SQLite, so that a write of one work updates one row instead
    # of rewriting a 100,000-entry file; the schema version in SQLite's user_version.
    def _manifest(self, create: bool = False) -> sqlite3.Connection | None:
        """The manifest's database; None when it is absent, of another schema or damaged (the index is rebuilt)."""
        path = self.path / MANIFEST
        if not create and not path.is_file():
            return None
        try:
            connection = sqlite3.connect(path, timeout=30, isolation_level=None)
            try:
                version = connection.execute("PRAGMA user_version").fetchone()[0]
                if version == SCHEMA_VERSION and connection.execute(_HAS_ENTRIES).fetchone():
                    return connection
                if not create:
                    connection.close()
                    return None
                connection.execute("DROP TABLE IF EXISTS entries")
                connection.execute("CREATE TABLE entries (key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL)")
                connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                return connection
            except BaseException:
                connection.close()
                raise
        except sqlite3.DatabaseError:
            if not create:
                return None
        path.unlink(missing_ok=True)  # damaged: made anew
        return self._manifest(create=True)

    def _read_manifest(self) -> dict[str, str] | None:
        """Every indexed entry's fingerprint, by key; None when there is no manifest to trust."""
        connection = self._manifest()
        if connection is None:
            return None
        try:
            return dict(connection.execute("SELECT key, fingerprint FROM entries"))
        except sqlite3.DatabaseError:
            return None
        finally:
            connection.close()

    def _known(self, keys: list[str]) -> dict[str, str] | None:
        """The fingerprints of these entries only (None: no manifest to trust)."""
        connection = self._manifest()
        if connection is None:
            return None
        try:
            found = {}
            for offset in range(0, len(keys), 500):
                part = keys[offset : offset + 500]
                query = f"SELECT key, fingerprint FROM entries WHERE key IN ({', '.join('?' * len(part))})"
                found.update(connection.execute(query, part))
            return found
        except sqlite3.DatabaseError:
            return None
        finally:
            connection.close()

    def _write_manifest(self, fingerprints: dict[str, str], removed=(), whole: bool = True) -> None:
        """Record what the index now holds: all of it (``whole``), or these entries changed and ``removed`` gone."""
        try:
            connection = self._manifest(create=True)
            try:
                connection.execute("BEGIN IMMEDIATE")
                if whole:
                    connection.execute("DELETE FROM entries")
                connection.executemany("DELETE FROM entries WHERE key = ?", [(key,) for key in removed])
                connection.executemany(
                    "INSERT OR REPLACE INTO entries (key, fingerprint) VALUES (?, ?)", fingerprints.items()
                )
                connection.execute("COMMIT")
            finally:
                connection.close()
        except (OSError, sqlite3.Error) as error:
            raise LibraryError(f"Cannot write the search index at {self.path}: {error}.") from None

    # Building -----------------------------------------------------------------------------------------------------
    def _open_or_create(self, rebuild: bool):
        from whoosh import index as windex

        if rebuild:
            try:
                self._remove_index_files()
            except OSError as error:
                raise LibraryError(f"Cannot clear the search index at {self.path}: {error.strerror}.") from None
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise LibraryError(f"Cannot create the search index at {self.path}: {error.strerror}.") from None
        if rebuild or not windex.exists_in(str(self.path)):
            return windex.create_in(str(self.path), schema())
        return windex.open_dir(str(self.path))

    def _index_files(self):
        """Whoosh's files (all named after the index, ``MAIN``) and the manifest: what else the library keeps in the
        folder (the entry map, the saved parse of references.bib) is not the index's."""
        if self.path.is_dir():
            names = (MANIFEST, "evidence-manifest.json")  # and the manifest earlier versions kept as JSON
            yield from (e for e in self.path.iterdir() if e.name.startswith(("MAIN", "_MAIN")) or e.name in names)

    def _remove_index_files(self) -> None:
        if self.path.is_file() or self.path.is_symlink():
            self.path.unlink()
        for entry in list(self._index_files()):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)

    def sync_changed(self, changed: list[Work], removed: list[str] = ()) -> bool:
        """Bring the index in line when the caller knows it was in line with every other work (it has written only
        these, and removed the entries with the keys ``removed``, since the last sync): only they are compared and
        written, and the others are never looked at, so a write of one work costs one work. False when that cannot
        be done (no manifest to build on, a damaged index): the caller then syncs every work."""
        known = self._known([work.key for work in changed] + list(removed))
        if known is None:
            return False
        todo = [work for work in changed if known.get(work.key) != fingerprint(work)]
        gone = [key for key in removed if key in known]
        if not todo and not gone:
            return self._healthy()
        self.close()
        unlisted = {work.key for work in todo if work.key not in known}
        try:
            self._update(todo, gone, unlisted)
        except LibraryError:
            raise
        except index_damage(opening=True):
            return False  # the whole comparison rebuilds it
        self._write_manifest({work.key: fingerprint(work) for work in todo}, gone, whole=False)
        return True

    def adding(self) -> NewWorks:
        """A writer for many new works, given a batch at a time (a bulk import): see ``NewWorks``."""
        return NewWorks(self)

    def sync(self, works: Iterable[Work]) -> int:
        """Bring the index in line with ``works``; returns how many documents were written or removed.

        The works are read in one pass, each compared by its fingerprint and let go unless it changed, so a caller
        that decodes them as they come (``BibFile.each_work``) holds one at a time. When more than
        ``UPDATE_AT_MOST`` changed, or the index must be built anew, they are read once more and written as new
        segments (``_rebuild``), sliced in rounds: works that cannot be sliced (an iterator) are made a list first."""
        if not hasattr(works, "__getitem__"):  # a one-pass iterator would be spent, and a rebuild slices them
            works = list(works)
        old = self._read_manifest()
        if old is None:
            if any(self._index_files()):
                self.notify("The search index was out of date or unreadable; rebuilding it.")
            return self._rebuild(works)
        healthy = self._healthy(len(old))
        found = ([], set()) if healthy else self._unlisted(old)
        if found is None:  # unreadable, not only out of line with its manifest: whatever changed, built anew
            self.notify("The search index was damaged; rebuilding it from references.bib.")
            return self._rebuild(works)
        unlisted, doubled = found
        current: dict[str, str] = {}
        changed: list[Work] = []
        many = False
        for work in works:
            mark = current[work.key] = fingerprint(work)
            if old.get(work.key) != mark or work.key in doubled:
                many = many or len(changed) >= self.UPDATE_AT_MOST
                if not many:
                    changed.append(work)
        if healthy and old == current:
            return 0
        if many:
            return self._rebuild(works, current)
        removed = [key for key in [*old, *unlisted] if key not in current]
        removed += sorted(doubled)  # every copy deleted, then written once (an update deletes only the first)
        self.close()
        try:
            count = self._update(changed, removed)
        except LibraryError:
            raise
        except index_damage(opening=True):  # damage inside Whoosh's files: rebuild from the .bib
            self.notify("The search index was damaged; rebuilding it from references.bib.")
            return self._rebuild(works, current)
        self._write_manifest(current)
        return count

    # A full sync that finds more works changed than this builds the index anew: an update holds every changed work
    # and sends it through Whoosh's posting pool, where a rebuild holds one round's postings, half in each process.
    UPDATE_AT_MOST = 2_000

    def _rebuild(self, works, current: dict[str, str] | None = None) -> int:
        """The index built anew from ``works`` (sized and sliced) by the bulk writer, ``REBUILD_ROUND`` works at a
        time, each round written as new segments by two processes that make their own half's documents as they read
        the works: no process holds more than its half's postings. ``current``: the works' fingerprints, when a
        first pass has them already. The manifest goes first and is written last: a rebuild cut short leaves no
        manifest, so the next sync builds again."""
        if current is None:
            current = {work.key: fingerprint(work) for work in works}
        self.close()
        self._write_in_rounds(self._open_or_create(rebuild=True), works)
        self._write_manifest(current)
        return len(works)

    def _write_in_rounds(self, index, works, only: dict[str, str] | None = None) -> None:
        """Write ``works`` (sized and sliced: a list, or ``BibFile.each_work()``) into ``index`` as new segments, in
        rounds of one size, at most ``REBUILD_ROUND``, each by the bulk writer's two processes; ``only``: the keys
        of the works to write, the others passed over."""
        from evidence.index._whoosh.bulk import write_new_index

        rounds = max(1, -(-len(works) // self.REBUILD_ROUND))
        size = max(1, -(-len(works) // rounds))  # rounds of one size: no round larger than it need be
        for start in range(0, max(1, len(works)), size):
            write_new_index(index, _Documents(works[start : start + size], only), self.processes)

    # Works a rebuild (or a bulk import) writes in one round at most, half in each process: the fewer rounds, the
    # fewer segments every query walks (at 100,000 works a cold search took 0.30 s over 4 or 8 segments, 0.60 s over
    # 14); a process holds about 7 MB a thousand works while it writes, so 90 MB at this size, beside the library.
    REBUILD_ROUND = 25_000

    def _healthy(self, listed: int | None = None) -> bool:
        """Whether the index can be read, and holds as many documents as the manifest lists (``listed``, when
        given): a write killed after the index's commit and before the manifest's leaves documents it never listed."""
        from whoosh import index as windex

        try:
            with windex.open_dir(str(self.path)).reader() as reader:
                count = reader.doc_count()
        except index_damage(opening=True):  # unreadable segments: the index must be rebuilt
            return False
        return listed is None or count == listed

    def _lists_every_document(self, index) -> bool:
        """Whether the manifest lists as many entries as the index holds documents, so a key it does not list has
        none: a write killed between the index's commit and the manifest's leaves one more document than listed.
        Both counts from what each keeps of itself (Whoosh's table of contents, SQLite's table), no segment opened."""
        listed = self._listed_count()
        if listed is None:
            return False
        try:
            held = sum(segment.doc_count() for segment in index._segments())
        except index_damage(opening=True):
            return False
        return listed == held

    def _unlisted(self, listed: dict[str, str]) -> tuple[list[str], set[str]] | None:
        """The keys of documents the manifest does not list, and those listed that have more than one document: what
        a write killed between the two commits left (see ``_healthy``), for ``sync`` to remove and write again. None
        when the index cannot be read."""
        from whoosh import index as windex

        try:
            with windex.open_dir(str(self.path)).reader() as reader:
                counts = Counter(fields.get("key") for fields in reader.all_stored_fields())
        except index_damage(opening=True):
            return None
        return [key for key in counts if key not in listed], {key for key, n in counts.items() if n > 1}

    def _listed_count(self) -> int | None:
        connection = self._manifest()
        if connection is None:
            return None
        try:
            return connection.execute("SELECT count(*) FROM entries").fetchone()[0]
        except sqlite3.DatabaseError:
            return None
        finally:
            connection.close()

    def _update(self, changed: list[Work], removed: list[str], new: set[str] = frozenset()) -> int:
        """Write ``changed`` and delete ``removed`` in the existing index; the manifest is the caller's to record,
        after this succeeded. ``new``: the keys of works known to have no document yet, added without Whoosh's
        look-up of the old one (which opens every segment: on a large index, most of a one-work update)."""
        # Whoosh's own writer for updates; its multi-process writer (procs=2) gave the same work different scores
        # from one build to the next (a document's BM25 score halved), so it is not used.
        from evidence.index._whoosh.fixes import CachedLengthsWriter

        index = self._open_or_create(False)
        if not changed and not removed:
            return 0
        if new and not self._lists_every_document(index):
            new = frozenset()  # a document the manifest does not list may be one of theirs: each is looked up
        writer = CachedLengthsWriter(index, limitmb=256)
        try:
            for key in removed:
                writer.delete_by_term("key", key)
            for work in changed:
                if work.key in new:
                    writer.add_document(**document(work))
                else:
                    writer.update_document(**document(work))
            writer.commit(mergetype=_merge_small_segments)
        except BaseException:
            writer.cancel()
            raise
        return len(changed) + len(removed)

    # Searching ----------------------------------------------------------------------------------------------------
    def parse(self, text: str, default_and: bool = False):
        """A Whoosh query from user syntax, after our own checks for what Whoosh would silently misread."""
        from whoosh.qparser import QueryParserError

        text = text.strip()
        if text.endswith("?") and text.count('"') % 2 == 0:
            text = text.rstrip("?").rstrip()  # a question mark ending the query is punctuation, not a wildcard
        check_query_syntax(text)
        plain = _plain_words_query(text, default_and)
        if plain is not None:
            return plain
        rewritten = _apply_field_aliases(text)
        try:
            parsed = _parser(default_and).parse(rewritten)
        except (QueryParserError, ValueError) as error:
            raise QuerySyntaxError(f"The query '{text}' cannot be read: {error}.") from None
        return _not_means_without(parsed)

    def candidates(self, text: str, limit: int = 100) -> tuple[list[RawHit], list[str], dict[str, float]]:
        """Works sharing words with free text (a claim), BM25F-ranked; with the text's terms and their IDF.

        No query syntax: a claim is prose, and its brackets or colons must not be read as operators.
        """
        terms = list(dict.fromkeys(analyse(text)))
        if not terms:
            return [], [], {}
        searcher = self._open_searcher()
        try:
            if self._lengths is None:
                self._lengths = _body_lengths(searcher)
            hits = _best_by_term(searcher, terms, limit, self._lengths)
        except index_damage() as error:  # a damaged index is a library problem
            raise LibraryError(f"The search index at {self.path} cannot be read: {error}.") from None
        total = max(1, searcher.doc_count())
        idf = {term: math.log((total + 1) / (searcher.doc_frequency("body", term) + 0.5)) for term in terms}
        return hits, terms, idf

    def search(self, text: str, limit: int = 10, default_and: bool = False) -> tuple[list[RawHit], list[str]]:
        """Ranked keys for a query, and the (field, term) pairs it looked for, for highlighting."""
        query = self.parse(text, default_and)
        terms = sorted(
            {term.decode() if isinstance(term, bytes) else str(term) for _field, term in query.iter_all_terms()}
        )
        searcher = self._open_searcher()
        if searcher.doc_count_all() >= ARRAY_SCORING_FROM:
            from evidence.index._whoosh.arrays import Unsupported

            try:
                ranked = self._array_scorer(searcher).top(query, limit)
            except Unsupported:  # wildcards, ranges...: Whoosh's own matchers
                pass
            else:
                return [RawHit(key=searcher.stored_fields(n)["key"], score=score) for n, score in ranked], terms
        results = searcher.search(query, limit=limit)
        return [RawHit(key=hit["key"], score=float(hit.score)) for hit in results], terms

    def _array_scorer(self, searcher):
        """The array scorer of ``searcher`` (the one just opened), kept while that searcher is."""
        from evidence.index._whoosh.arrays import ArrayScorer

        if self._scorer is None or self._scorer.searcher is not searcher:
            self._scorer = ArrayScorer(searcher)
        return self._scorer

    def _open_searcher(self):
        """The searcher of the index as it is now: kept between queries, refreshed when another writer changed it."""
        from whoosh import index as windex

        try:
            if self._searcher is None:
                self._searcher, self._lengths = windex.open_dir(str(self.path)).searcher(), None
            elif not self._searcher.up_to_date():
                self._searcher, self._lengths = self._searcher.refresh(), None
        except index_damage(opening=True) as error:  # a damaged index is a library problem
            self.close()
            raise LibraryError(f"The search index at {self.path} cannot be opened: {error}.") from None
        return self._searcher

    def close(self) -> None:
        """Release the open searcher (its files); the next query opens the index again."""
        if self._searcher is not None:
            searcher, self._searcher, self._lengths = self._searcher, None, None
            searcher.close()


# Updates merge the segments below this many documents only: see ``_merge_small_segments``.
SMALL_SEGMENT = 2_000


class _Documents:
    """The indexed documents of ``works`` (a list, or ``BibFile.each_work()``), made as they are read: sized and
    sliced without making any, so each of the bulk writer's processes makes (and holds) only its own half.
    ``only``: the keys of the works to make documents of (None: all)."""

    def __init__(self, works, only=None):
        self._works, self._only = works, only

    def __len__(self) -> int:
        return len(self._works)

    def __getitem__(self, part: slice) -> _Documents:
        return _Documents(self._works[part], self._only)

    def __iter__(self):
        only = self._only
        return (document(work) for work in self._works if only is None or work.key in only)


def _merge_small_segments(writer, segments):
    """Whoosh's merge policy (``MERGE_SMALL``) over the small segments only: each update writes a segment of a few
    documents, and those are worth merging; the large ones a build or a bulk import wrote are left as they are, since
    merging them goes through Whoosh's posting pool (at 100,000 works, 330 MB and a second for a one-work update)."""
    from whoosh.writing import MERGE_SMALL

    large = [segment for segment in segments if segment.doc_count_all() >= SMALL_SEGMENT]
    return large + MERGE_SMALL(writer, [segment for segment in segments if segment.doc_count_all() < SMALL_SEGMENT])


class NewWorks:
    """Many new works into the index (a bulk import): each batch's works are checked against the manifest as they
    come and their fingerprints kept; at ``finish`` they are read again from the library as it now stands, and
    written as new segments by the bulk writer in rounds (``SearchIndex._write_in_rounds``: no posting pool, no
    look-up of old documents, two processes that each make their own half's documents), and then entered in the
    manifest. So the import holds no document between batches, and 100,000 works make a few segments, not one per
    batch. A work the manifest already knows (by key) goes through ``sync_changed`` at once."""

    def __init__(self, index: SearchIndex):
        self.index, self._pending = index, {}
        self._checked = False  # whether the index holds what its manifest lists (once, at the first batch)
        self._segments: set[str] = set()  # the segments written, all of new works only
        self._written: list[str] = []  # and the keys of their works

    def add(self, works: list[Work]) -> bool:
        """Take ``works`` in, to be written at ``finish``; False when that cannot be done here (no manifest to build
        on: the caller syncs all)."""
        if not self._checked:  # documents no manifest lists would be doubled: the caller's sync repairs them
            listed = self.index._listed_count()
            if listed is None or not self.index._healthy(listed):
                return False
            self._checked = True
        known = self.index._known([work.key for work in works])
        if known is None:
            return False
        old = [work for work in works if work.key in known]
        if old and not self.index.sync_changed(old):
            return False
        for work in works:
            if work.key not in known:
                self._pending.setdefault(work.key, fingerprint(work))
        return True

    def finish(self, works) -> None:
        """Write the works taken in, read from ``works``: the library's works from the first one an import added
        (``BibFile.each_work()`` sliced), of which the others are passed over; then the manifest."""
        pending, self._pending = self._pending, {}
        if not pending:
            return
        self.index.close()
        index = self.index._open_or_create(False)
        before = {segment.segment_id() for segment in index._segments()}
        try:
            self.index._write_in_rounds(index, works, pending)
        finally:  # a round written before a failure is the cancel's to drop
            with contextlib.suppress(Exception):
                self._segments |= {segment.segment_id() for segment in index._segments()} - before
        self.index._write_manifest(pending, whole=False)
        self._written.extend(pending)

    def cancel(self) -> None:
        """Undo every write: the segments written dropped whole, and their works taken out of the manifest, so the
        index is again what it was, its statistics (hence every score) too. On failure, the next sync repairs it."""
        self._pending = {}
        segments, written, self._segments, self._written = self._segments, self._written, set(), []
        if not segments:
            return
        from whoosh import index as windex

        self.index.close()
        try:
            writer = windex.open_dir(str(self.index.path)).writer()
            writer.commit(mergetype=lambda _writer, kept: [s for s in kept if s.segment_id() not in segments])
        except Exception:  # noqa: BLE001 - the manifest still lists the works, so the next sync removes them
            return
        self.index._write_manifest({}, written, whole=False)


def _best_by_term(searcher, terms: list[str], limit: int, lengths: list[float]) -> list[RawHit]:
    """The top ``limit`` documents for the claim's words OR-ed in ``body``, scored term by term.

    The same BM25F scores and order as ``searcher.search(_free_text_query(terms))`` (a test compares them), summed
    into one table a posting list at a time, with each document's length looked up in ``lengths`` (see
    ``_body_lengths``) rather than read from the segment per posting: a claim has ten to twenty words, and Whoosh's
    union of that many matchers, re-balanced at every document, was several times slower (bench/RESULTS.md)."""
    import heapq

    weighting = searcher.weighting
    k1 = weighting.K1
    b = weighting._field_B.get("body", weighting.B)
    average = searcher.avg_field_length("body") or 1
    totals: dict[int, float] = {}
    get = totals.get
    reader = searcher.reader()
    for term in terms:
        if ("body", term) not in reader:
            continue
        idf = searcher.idf("body", term)
        matcher = searcher.postings("body", term)
        is_active, docnum_of, weight_of, step = matcher.is_active, matcher.id, matcher.weight, matcher.next
        while is_active():
            docnum, tf = docnum_of(), weight_of()
            # whoosh.scoring.bm25, written out: idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * fl / avgfl)))
            score = idf * ((tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * lengths[docnum] / average)))
            totals[docnum] = get(docnum, 0.0) + score
            step()
    best = heapq.nsmallest(limit, totals.items(), key=lambda item: (-item[1], item[0]))  # Whoosh's tie order
    return [RawHit(key=searcher.stored_fields(docnum)["key"], score=float(score)) for docnum, score in best]


def _body_lengths(searcher) -> list[float]:
    """Every document's ``body`` length as Whoosh's scorer sees it, by document number (read once per searcher)."""
    from evidence.index._whoosh.schema import field_lengths

    return field_lengths(searcher, "body")


# Words only (letters and digits), joined by spaces, or all by AND, or all by OR: what most searches are.
