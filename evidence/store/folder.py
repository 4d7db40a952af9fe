"""The library folder on disk: its paths, the lock, records/, and reading and writing references.bib.

The only module that writes the library. Every write goes to a temporary file in the same folder, is fsynced, then
renamed over the old file (``files.write_atomic``), except new entries at the end of references.bib, which are
appended under a journal (``append``): a crash leaves the old file or the new one either way. Parsing is
``bibfile``'s job, decoding ``latex``'s, the files derived from references.bib ``derived``'s, and editing claims.toml
``ledger``'s.
"""

from __future__ import annotations

import contextlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from evidence.errors import LibraryError
from evidence.files import decode_bytes, read_buffer, read_text, text_encoding, utf8_lines, write_atomic
from evidence.model import Work
from evidence.store import append, derived, hand_edit, ledger
from evidence.store.bibfile import BibFile, make_work, merge_edits, parse_bibtex, parse_bibtex_parts
from evidence.store.fingerprint import file_fingerprint, known_before

BIB_NAME = "references.bib"
RECORDS_DIR = "records"
INDEX_DIR = ".index"
EMBEDDINGS_DIR = ".embeddings"  # the model's vectors (evidence.meaning): derived, never committed
CLAIMS_NAME = "claims.toml"
ARTICLES_DIR = "articles"
CONFIG_NAME = "evidence.toml"
LOCK_NAME = ".lock"
# A full parse of references.bib goes to the rows this many blocks at a time (``Store._parse_in_parts``)
PARSE_PART = 2_000


# ---------------------------------------------------------------------------------------------------------------------
# The library folder


def _file_holds(path: Path, bib: BibFile) -> bool | None:
    """Whether references.bib still holds what ``bib`` was read from: by its signature when the read's was settled
    (no change keeps it), else compared in pieces with ``bib.source`` when that is the file's own bytes, else by
    fingerprint; None when the file cannot be read (nothing to merge into)."""
    try:
        with open(path, "rb") as handle:
            if bib.read_signature is not None and derived.bib_signature(path, handle) == bib.read_signature:
                return True
            if bib.source_pieces is None:  # the source is the file's text re-encoded: its bytes differ
                return file_fingerprint(handle.read())[0] == bib.read_as
            if os.fstat(handle.fileno()).st_size != len(bib.source):
                return False
            position = 0
            while chunk := handle.read(1 << 22):
                if not bib.source.startswith(chunk, position):
                    return False
                position += len(chunk)
            return position == len(bib.source)
    except OSError:
        return None


def _plain_utf8(data: bytes) -> bool:
    """Whether the file's bytes are its text's UTF-8 as they are (no byte-order mark, no UTF-16), so that the saved
    rows' byte offsets are offsets in the file itself; a saved parse of these very bytes proves them valid."""
    return not data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"))


def record_filename(doi: str) -> str:
    """A file name that maps one-to-one to a DOI: lower-cased and percent-encoded."""
    return quote(doi.lower(), safe="-._()") + ".json"


class Store:
    """A library folder. Paths, reading and writing; no decisions about what to write."""

    def __init__(self, root: Path):
        self.root = Path(root)

    make_work = staticmethod(make_work)

    # Paths --------------------------------------------------------------------------------------------------------
    @property
    def bib_path(self) -> Path:
        return self.root / BIB_NAME

    @property
    def records_dir(self) -> Path:
        return self.root / RECORDS_DIR

    @property
    def index_dir(self) -> Path:
        return self.root / INDEX_DIR

    @property
    def embeddings_dir(self) -> Path:
        return self.root / EMBEDDINGS_DIR

    @property
    def claims_path(self) -> Path:
        return self.root / CLAIMS_NAME

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME

    def link_supports(
        self, claim_id: str, keys: list[str], stance: str, passages: dict[str, tuple[str, str]], claim_text: str = ""
    ) -> list[str]:
        """Add supports to a claim in claims.toml (``ledger.link_supports``); the keys newly linked."""
        return ledger.link_supports(
            self.claims_path, self.read_claims_text(), claim_id, keys, stance, passages, claim_text
        )

    def read_claims_text(self) -> str:
        """The text of claims.toml, or '' when the library has none yet."""
        return read_text(self.claims_path, "claim ledger") if self.claims_path.exists() else ""

    def article_texts(self) -> dict[str, str]:
        """Every article in articles/ (Markdown or text) by file name."""
        folder = self.root / ARTICLES_DIR
        if not folder.is_dir():
            return {}
        return {
            path.name: read_text(path, "article")
            for path in sorted(folder.iterdir())
            if path.suffix.lower() in (".md", ".markdown", ".txt") and path.is_file()
        }

    def state_stamp(self) -> tuple:
        """What changes whenever anything a verdict rests on changes: the size, time and inode of references.bib,
        claims.toml, evidence.toml and every article (the claims of one are judged against the others), and the
        times of records/ and its folders (every record is written by replacing its file, which changes its
        folder's time). For a caller that keeps a verdict between requests."""

        def stamp(path: Path) -> tuple:
            try:
                status = path.stat()
            except OSError:
                return ()
            return (status.st_size, status.st_mtime_ns, status.st_ino)

        def inside(folder: Path, folders: bool) -> list[Path]:
            return sorted(p for p in folder.iterdir() if p.is_dir() == folders) if folder.is_dir() else []

        articles = self.root / ARTICLES_DIR
        paths = [self.bib_path, self.claims_path, self.config_path, articles, *inside(articles, False)]
        paths += [self.records_dir, *inside(self.records_dir, True)]
        return tuple((path.name, stamp(path)) for path in paths)

    def read_config_text(self) -> str:
        """The text of evidence.toml, or '' when the library has none."""
        return read_text(self.config_path, "settings file") if self.config_path.exists() else ""

    # Creation and checks ------------------------------------------------------------------------------------------
    @classmethod
    def init(cls, root: Path) -> Store:
        """Create an empty library (or complete a partial one); never touch existing files."""
        root = Path(root)
        try:
            root.mkdir(parents=True, exist_ok=True)
            (root / RECORDS_DIR).mkdir(exist_ok=True)
            (root / ARTICLES_DIR).mkdir(exist_ok=True)
        except PermissionError:
            raise LibraryError(f"Cannot create the library folder {root} (permission denied).") from None
        except FileExistsError:
            raise LibraryError(f"{root} exists and is not a folder.") from None
        store = cls(root)
        if not store.bib_path.exists():
            write_atomic(store.bib_path, b"")
        gitignore = root / ".gitignore"
        if not gitignore.exists():
            write_atomic(gitignore, f"{INDEX_DIR}/\n{EMBEDDINGS_DIR}/\n{LOCK_NAME}\n".encode())
        return store

    def require(self) -> Store:
        """Fail with a sentence unless this folder is a library."""
        if not self.root.is_dir():
            raise LibraryError(
                f"There is no library at {self.root}; create one with 'evidence init {self.root}' or pass --library."
            )
        if not self.bib_path.exists():
            raise LibraryError(f"{self.root} is not a library: it has no {BIB_NAME} (run 'evidence init {self.root}').")
        return self

    # Lock ---------------------------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def locked(self, on_wait=None, timeout: float = 600.0):
        """Hold the library's write lock. The OS drops it when a process dies, so a killed command never blocks."""
        import filelock  # here: read-only commands (search above all) do not pay 20 ms to import it

        lock = filelock.FileLock(str(self.root / LOCK_NAME))
        try:
            try:
                lock.acquire(timeout=0.2)
            except filelock.Timeout:
                if on_wait:
                    on_wait("Another evidence command is writing to this library; waiting for it to finish.")
                lock.acquire(timeout=timeout)
        except filelock.Timeout:
            raise LibraryError(
                f"The library {self.root} stayed locked by another command for {timeout:.0f} s."
            ) from None
        except PermissionError:
            raise LibraryError(f"The library {self.root} is read-only, so it cannot be changed.") from None
        try:
            try:
                append.recover(self.bib_path)  # an append a crash cut short: the old file back
            except OSError as error:
                raise LibraryError(
                    f"An unfinished addition to {self.bib_path} could not be undone: {error.strerror or error}."
                ) from None
            yield self
        finally:
            lock.release()

    # references.bib -----------------------------------------------------------------------------------------------
    def load_bib(self) -> BibFile:
        """references.bib, parsed; from the saved parse while the file's bytes (by their hash) and the parsing code
        are unchanged: parsing is the largest cost of every command that loads the library (bench/RESULTS.md, issue 8).
        The file's size and time stand in for the hash only once they are settled (``derived.settled``): before,
        an edit that keeps the size within the clock's resolution would pass for no edit. The file is held as bytes
        and no entry is decoded until it is needed."""
        self.require()
        before = derived.bib_signature(self.bib_path)
        data = read_buffer(self.bib_path, "library file")
        signature = derived.bib_signature(self.bib_path)  # after the read: what the bytes are known to be under
        length = append.readable_length(self.bib_path)  # after the read: an append begun since is journalled
        if length is not None and self._settle_unattended_append():
            return self.load_bib()  # a killed command's append, undone: the file as it now is
        if length is not None:
            del data[length:]  # an append is running: the file as it was before it
        # Unchanged while read and since the rows were recorded under this signature: their fingerprint is the
        # file's, and hashing 150 MB is most of a one-work write to a 100,000-work library (bench/writes.py).
        steady = length is None and signature is not None and before == signature and derived.settled(before)
        bib = None
        if steady and signature[0] == len(data) and _plain_utf8(data):
            bib = derived.read_saved_parse(self.index_dir, None, data, signature)
        if bib is not None:
            fingerprint, pieces = bib.read_as, bib.source_pieces
        else:
            fingerprint, pieces = file_fingerprint(data)
        if bib is None and _plain_utf8(data):  # the rows' offsets are the file's own; else decoded below
            bib = derived.read_saved_parse(self.index_dir, fingerprint, data, signature)
        elif bib is None:  # the text's UTF-8 differs from the file's bytes: a write rewrites it whole (as plain UTF-8)
            data = bytearray(decode_bytes(data, self.bib_path, "library file").encode("utf-8"))
            pieces = None
        # While another command appends, the rows and the index are that command's to write: the file as it was
        # before is parsed here and kept to this command alone.
        if bib is None and length is None:  # edited since: parse only what changed where that gives a full parse
            bib = hand_edit.reparse_changed(self.index_dir, data, BIB_NAME, fingerprint, pieces)
        if bib is None and length is None and pieces is not None:  # else all of it, a part at a time
            bib = self._parse_in_parts(data, fingerprint, pieces)
        if bib is None:  # or at once, where the rows cannot be written or the file is not plain UTF-8
            bib = parse_bibtex(decode_bytes(data, self.bib_path, "library file"), BIB_NAME)
            bib.source, bib.source_pieces = data, pieces
            if length is None:
                derived.save_parse(self.index_dir, bib, fingerprint)
        bib.read_as, bib.source_pieces, bib.appending_elsewhere = fingerprint, pieces, length is not None
        bib.read_signature = signature if steady and pieces is not None else None
        return bib

    def _parse_in_parts(self, data: bytearray, fingerprint: str, pieces: list[str]) -> BibFile | None:
        """The full parse of references.bib (``data``, plain UTF-8 on disk, whose fingerprint is ``fingerprint``, and
        whose full pieces' digests are ``pieces``) written to the rows ``PARSE_PART`` blocks at a time and read back
        from them, so that the parse of a large
        file is never held whole (1.8 GB at 100,000 works); None where the rows cannot be written here, or the
        bytes are not UTF-8 (the caller parses at once, and says why)."""
        text_encoding(data[:4096], self.bib_path, "library file")  # a NUL byte: refused, as a whole read refuses it
        parts = parse_bibtex_parts(lambda: utf8_lines(data), BIB_NAME, PARSE_PART, importing=False)
        try:
            if not derived.save_parts(self.index_dir, parts, data, fingerprint, pieces):
                return None
        except UnicodeDecodeError:
            return None
        return derived.read_saved_parse(self.index_dir, fingerprint, data, derived.bib_signature(self.bib_path))

    def _settle_unattended_append(self) -> bool:
        """Settle an append journal no command is behind (one killed part-way: the lock is free) as the next writer
        would, so that reading does not pay for reading around it until then; False when a writer holds the lock
        (its append is running) or the lock cannot be taken (a read-only library)."""
        import filelock

        lock = filelock.FileLock(str(self.root / LOCK_NAME))
        try:
            lock.acquire(timeout=0)
        except (filelock.Timeout, OSError):
            return False
        try:
            append.recover(self.bib_path)
        except OSError:
            return False
        finally:
            lock.release()
        return True

    @contextlib.contextmanager
    def appending_together(self):
        """Let the appends made within, once ``hold_appends`` was called, be undone together (``append.begin``): a
        bulk import written in batches adds all its works or, when it fails or is killed part-way, none. A small
        import never calls it, so pays nothing for it (its one write is journalled as any append). The caller holds
        the lock."""
        try:
            yield
        except BaseException:
            append.recover(self.bib_path)  # the file as it was before the first batch
            raise
        append.end(self.bib_path)

    def hold_appends(self) -> None:
        """From here to the end of ``appending_together``, appends stand or fall together."""
        append.begin(self.bib_path)

    def save_bib(self, bib: BibFile, notify=None) -> bool:
        """Write the file if its text changed; True when something was written.

        The file is read again just before it is replaced: if it was edited (by hand, in an editor that knows
        nothing of the lock) since ``bib`` was read, this command's changes are merged into the file as it is now,
        so the edit survives, and ``bib`` becomes the merged file. ``notify`` hears of changes that could not be
        applied as made. Only what changed is encoded, and new entries at the end are appended: a write of one
        entry to a large file neither decodes nor copies the rest."""
        if bib.blocks and not bib.blocks[-1].raw.endswith("\n"):
            bib.blocks[-1].raw += "\n"  # the file ends with a line break, and the blocks still tile it
        prefix, first = bib.unchanged_prefix()
        if bib.read_as and (prefix, first) == (len(bib.source), len(bib.blocks)):
            return False  # nothing changed here; whatever the file holds now is left to it
        tail = ("" if first else bib.head) + "".join(block.raw for block in bib.blocks[first:])
        tail_bytes = tail.encode("utf-8")
        del tail  # a large write holds the file's text once, as bytes
        if not first:
            prefix = 0
        held = bib.read_as and _file_holds(self.bib_path, bib)
        if held is False and self._merge_edits(bib, notify):
            data, first = bib.source, 0
            write_atomic(self.bib_path, bytes(data))
            bib.read_as, bib.source_pieces = file_fingerprint(data)
        elif held and bib.source_pieces is not None and tail_bytes.startswith(bib.source[prefix:]):
            # only new entries at the end: add their bytes instead of writing every entry again
            added = tail_bytes[len(bib.source) - prefix :]
            append.append(self.bib_path, added)
            unchanged = len(bib.source)
            bib.source += added  # in place: the blocks cut from it stay where they are
            bib.read_as, bib.source_pieces = file_fingerprint(bib.source, known_before(bib.source_pieces, unchanged))
        else:
            known = known_before(bib.source_pieces, prefix) if bib.source_pieces is not None else []
            data = bytearray(bib.source[:prefix])
            data += tail_bytes
            del tail_bytes
            write_atomic(self.bib_path, data)
            bib.source, first = data, 0
            bib.read_as, bib.source_pieces = file_fingerprint(data, known)
        bib.read_signature = None  # written just now: a change could keep its signature, so the next write reads it
        # What was just written is already parsed: keep that parse, so the next command need not parse it again.
        # The blocks before the first change stand where they stood, in the same bytes: their lines and rows hold.
        bib.number_blocks(first)
        derived.save_parse(self.index_dir, bib, bib.read_as, first)
        return True

    def settle(self, bib: BibFile, first: int) -> None:
        """Let go of what a write held of the blocks from ``first`` on (``derived.settle``): they are read back from
        the rows and the file when next needed."""
        derived.settle(self.index_dir, bib, first)

    def _merge_edits(self, bib: BibFile, notify) -> bool:
        """Apply this command's changes to the file as edited since ``bib`` was read (``merge_edits``), making
        ``bib`` the merged file; False when the file is no longer text, so there is nothing to merge into."""
        try:
            current = decode_bytes(self.bib_path.read_bytes(), self.bib_path, "library file")
        except (OSError, LibraryError):
            return False
        original = parse_bibtex(bib.source_text, BIB_NAME)
        text, notes = merge_edits(original, bib, parse_bibtex(current, BIB_NAME))
        for sentence in notes if notify else ():
            notify(sentence)
        merged = parse_bibtex(text, BIB_NAME)
        bib.blocks, bib.strings, bib.problems, bib.head = merged.blocks, merged.strings, merged.problems, merged.head
        bib.source = bytearray(text.encode("utf-8"))
        return True

    # Reading a few entries without parsing the whole file ---------------------------------------------------------
    def bib_signature(self, handle=None) -> list[int] | None:
        return derived.bib_signature(self.bib_path, handle)

    def catch_up(self) -> hand_edit.CaughtUp | None:
        """After a hand edit, the saved rows brought in line with references.bib by parsing only what changed, and
        without holding the library in memory: what a search needs to go on reading only its hits. None when that
        cannot be done here (an append under way, a file not plain UTF-8, an edit while reading): load it instead."""
        self.require()
        signature = self.bib_signature()
        data = read_buffer(self.bib_path, "library file")
        if signature is None or signature != self.bib_signature() or not _plain_utf8(data):
            return None
        if append.readable_length(self.bib_path) is not None:
            return None
        caught = hand_edit.catch_up(self.index_dir, data, *file_fingerprint(data), BIB_NAME)
        if caught is not None:
            caught.signature = signature
        return caught

    def remember_caught_up(self, caught: hand_edit.CaughtUp) -> None:
        """``remember_entries`` once the index has taken in what ``catch_up`` found."""
        derived.remember_rows(self.index_dir, caught.fingerprint, caught.signature)

    def remember_entries(self, bib: BibFile, signature: list[int] | None) -> None:
        derived.remember_entries(self.index_dir, bib, signature)

    def has_entry_map(self) -> bool:
        return derived.has_entry_map(self.index_dir)

    def works_by_key(self, keys: list[str], verified: list[int] | None = None) -> dict[str, Work] | None:
        return derived.works_by_key(self.index_dir, self.bib_path, keys, verified)

    def entry_keys(self, offset: int, limit: int, lacking: str = "") -> tuple[int, list[str]] | None:
        return derived.entry_keys(self.index_dir, self.bib_path, offset, limit, lacking)

    # records/ -----------------------------------------------------------------------------------------------------
    def record_path(self, doi: str) -> Path:
        return self.records_dir / record_filename(doi)

    def read_record(self, doi: str) -> dict | None:
        """The stored Crossref envelope ({doi, fetched, source, message}) for a DOI, or None."""
        return _read_envelope(self.record_path(doi))

    def write_record(self, doi: str, message: dict, source: str, fetched: datetime | None = None) -> None:
        envelope = {"doi": doi, "fetched": _stamp(fetched), "source": source, "message": message}
        _write_envelope(self.record_path(doi), envelope)

    # records/<service>/: what PubMed, Europe PMC and OpenAlex answered, one file a work --------------------------
    def answer_path(self, service: str, ident: str) -> Path:
        """Each service's answers in a folder of their own, so no name can collide with a Crossref record's."""
        return self.records_dir / service / record_filename(ident)

    def read_answer(self, service: str, ident: str) -> dict | None:
        """The stored answer ({ident, service, fetched, raw}; raw None: the service knew no such work), or None
        when the service was never asked about ``ident`` (a DOI, or 'pmid:N')."""
        envelope = _read_envelope(self.answer_path(service, ident))
        return envelope if isinstance(envelope, dict) and "raw" in envelope else None

    def write_answer(self, service: str, ident: str, raw: str | None, fetched: datetime | None = None) -> None:
        envelope = {"ident": ident, "service": service, "fetched": _stamp(fetched), "raw": raw}
        _write_envelope(self.answer_path(service, ident), envelope)


def _stamp(fetched: datetime | None) -> str:
    return (fetched or datetime.now(UTC)).isoformat(timespec="seconds")


def _read_envelope(path: Path):
    """A stored answer, or None when there is none or it is damaged (then it is fetched again)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_envelope(path: Path, envelope: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(envelope, ensure_ascii=False, indent=1, sort_keys=True).encode())
