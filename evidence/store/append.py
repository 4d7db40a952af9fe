"""Adding to the end of references.bib without rewriting it, so that a crash leaves the old file or the new one.

Rewriting the whole file (``files.write_atomic``) is atomic but costs the whole file: tens of megabytes for one new
entry in a large library. An append costs what is added, but a crash part-way through it would leave half an entry.
So an append is journalled: before the first byte is written, a small journal beside the file records the file's
size and the length and hash of what is to be added; the journal is removed once the bytes are on disk. A journal
found later means an append did not finish. Under the lock it is settled (``recover``): a tail that is not
exactly what was to be added is cut off, which gives back the old file. A reader that finds a journal while the
append may still be running (``readable_length``) reads only the old file's bytes.
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


def append(path: Path, data: bytes) -> None:
    """Add ``data`` to the end of ``path`` (journalled: see the module). The caller holds the library's lock."""
    journal = journal_path(path)
    size = path.stat().st_size
    write_atomic(journal, json.dumps({"size": size, "length": len(data), "tail": _digest(data)}).encode())
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view) :]
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    except OSError as error:
        recover(path)  # the old file back, and no journal left behind
        raise LibraryError(f"Could not add to {path}: {error.strerror or error}; the old file is unchanged.") from None
    _remove(journal)


def _read_journal(journal: Path) -> dict | None:
    try:
        found = json.loads(journal.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}  # written atomically, so never half: unreadable means it is not ours to trust
    if not isinstance(found, dict) or not all(isinstance(found.get(k), int) for k in ("size", "length")):
        return {}
    return found


def _state(path: Path, found: dict) -> str:
    """'done' (the whole tail is on disk), 'partial' (the file grew, but not by exactly the tail: cut it off),
    or 'other' (the file is not the one the journal speaks of: a hand edit replaced it; leave it)."""
    size, length = found["size"], found["length"]
    try:
        current = path.stat().st_size
    except OSError:
        return "other"
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
