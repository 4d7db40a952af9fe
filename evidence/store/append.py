"""Adding to the end of references.bib without rewriting it, so that a crash leaves the old file or the new one.

Rewriting the whole file (``files.write_atomic``) is atomic but costs the whole file: tens of megabytes for one new
entry in a large library. An append costs what is added, but a crash part-way through it would leave half an entry.
So an append is journalled: before the first byte is written, a small journal beside the file records the file's
size and the length and hash of what is to be added; the journal is removed once the bytes are on disk. A journal
found later means an append did not finish. Under the lock it is settled (``recover``): a tail that is not
exactly what was to be added is cut off, which gives back the old file. A reader that finds a journal while the
append may still be running (``readable_length``) reads only the old file's bytes.

A bulk import appends in batches, so as not to hold every new work in memory at once, yet must add all of them or
none. So it opens one journal for all its appends (``begin``): the file's size and inode before the first batch,
and no tail. Until it is closed (``end``), readers read the old file's bytes only, and a crash is settled by
cutting the file back to that size, unless the file was replaced or edited since (another inode, or other bytes
before that size: a hand edit, which is left as it is).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

from evidence.errors import LibraryError
from evidence.files import write_atomic


def journal_path(path: Path) -> Path:
    """The journal of appends to ``path``: beside it, hidden, so that deleting derived data cannot lose it."""
    return path.with_name(f".{path.name}.append")


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def begin(path: Path) -> None:
    """Open one journal for the appends to come (see the module): until ``end``, they are undone together."""
    with path.open("rb") as handle:
        status = os.fstat(handle.fileno())
        before = _prefix_digest(handle, status.st_size)
    found = {"size": status.st_size, "open": True, "inode": status.st_ino, "before": before}
    write_atomic(journal_path(path), json.dumps(found).encode())


def _prefix_digest(handle, size: int) -> str:
    """The hash of the first ``size`` bytes: a file edited in place since ``begin`` is not the one to cut back."""
    digest = hashlib.sha256()
    handle.seek(0)
    while size > 0 and (chunk := handle.read(min(size, 1 << 22))):
        digest.update(chunk)
        size -= len(chunk)
    return digest.hexdigest()


def end(path: Path) -> None:
    """Close the journal ``begin`` opened: the appends made under it stand."""
    _remove(journal_path(path))


def append(path: Path, data: bytes) -> None:
    """Add ``data`` to the end of ``path`` (journalled: see the module). The caller holds the library's lock."""
    journal = journal_path(path)
    opened = _read_journal(journal)
    if opened and opened.get("open"):  # under a journal ``begin`` opened: undone with the other appends, or kept
        try:
            _write_all(path, data)
        except OSError as error:
            raise LibraryError(f"Could not add to {path}: {error.strerror or error}.") from None
        return
    size = path.stat().st_size
    write_atomic(journal, json.dumps({"size": size, "length": len(data), "tail": _digest(data)}).encode())
    try:
        _write_all(path, data)
    except OSError as error:
        recover(path)  # the old file back, and no journal left behind
        raise LibraryError(f"Could not add to {path}: {error.strerror or error}; the old file is unchanged.") from None
    _remove(journal)


def _write_all(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view) :]
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _read_journal(journal: Path) -> dict | None:
    try:
        found = json.loads(journal.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}  # written atomically, so never half: unreadable means it is not ours to trust
    if not isinstance(found, dict) or not isinstance(found.get("size"), int):
        return {}
    if found.get("open") is True:
        return found if isinstance(found.get("inode"), int) else {}
    return found if isinstance(found.get("length"), int) else {}


def _state(path: Path, found: dict) -> str:
    """'done' (the whole tail is on disk), 'partial' (the file grew, but not by exactly the tail: cut it off),
    or 'other' (the file is not the one the journal speaks of: a hand edit replaced it; leave it)."""
    try:
        status = path.stat()
    except OSError:
        return "other"
    size, current = found["size"], status.st_size
    if found.get("open"):  # a bulk import's: everything after ``size`` is undone, in the same file only
        if status.st_ino != found["inode"] or current < size:
            return "other"
        with path.open("rb") as handle:
            return "partial" if _prefix_digest(handle, size) == found.get("before") else "other"
    length = found["length"]
    if current == size:
        return "partial"  # nothing was added yet: cutting to the same size changes nothing
    if not size < current <= size + length:
        return "other"
    if current == size + length:
        with path.open("rb") as handle:
            handle.seek(size)
            if _digest(handle.read(length)) == found.get("tail"):
                return "done"
    return "partial"


def recover(path: Path) -> bool:
    """Settle an append that did not finish, under the lock: cut off a partial tail (the old file again) or keep a
    complete one; True when the file was cut."""
    journal = journal_path(path)
    found = _read_journal(journal)
    if found is None:
        return False
    cut = False
    if found and _state(path, found) == "partial" and path.stat().st_size != found["size"]:
        with path.open("r+b") as handle:
            handle.truncate(found["size"])
            os.fsync(handle.fileno())
        cut = True
    _remove(journal)
    return cut


def readable_length(path: Path) -> int | None:
    """How many bytes of ``path`` a reader should take: all (None) unless an append is unfinished, running or
    crashed, when only the old file's bytes are complete."""
    found = _read_journal(journal_path(path))
    if not found:
        return None
    return found["size"] if _state(path, found) == "partial" else None


def _remove(journal: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        journal.unlink()
    with contextlib.suppress(OSError):
        descriptor = os.open(journal.parent, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
