"""What tells one state of references.bib from another: the SHA-256 of the digests of its 4 MiB pieces.

Hashing in pieces gives the same assurance as hashing the bytes whole, and two things besides. Bytes appended to the
file rehash only its last, unfinished piece and what follows, given the digests of the full pieces before it; and
those digests can be kept with the rows (``derived``), so that a command appending one entry to a large file that is
known unchanged since the rows were written (by a settled signature, ``derived.settled``) hashes a few megabytes,
not all of it. SHA-256: the machine's instructions make it the fastest strong hash in hashlib. A large file's pieces
are hashed on two threads (``on_two_threads``): hashlib lets go of the interpreter while it hashes, so the two halves
take the time of one where the machine has a second core.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

PIECE = 1 << 22
# Below this many pieces still to hash, a second thread costs more than it saves
SHARED_FROM = 4

First = TypeVar("First")
Second = TypeVar("Second")


def file_fingerprint(data: bytes, known: Sequence[str] = ()) -> tuple[str, list[str]]:
    """(the fingerprint of ``data``, the digests of its full pieces). ``known``: digests of full pieces from the
    start that are known to be those of ``data`` (its first bytes are as they were when they were taken: the file
    only grew, or was rewritten from a later point); the rest is hashed."""
    view = memoryview(data)
    try:
        pieces = list(known[: len(data) // PIECE])
        starts = range(len(pieces) * PIECE, len(data) - PIECE + 1, PIECE)
        if len(starts) >= SHARED_FROM:
            half = len(starts) // 2
            early, late = on_two_threads(
                lambda: _piece_digests(view, starts[:half]), lambda: _piece_digests(view, starts[half:])
            )
            pieces += early + late
        else:
            pieces += _piece_digests(view, starts)
        last = hashlib.sha256(view[len(pieces) * PIECE :]).hexdigest()
    finally:
        view.release()  # a bytearray viewed cannot grow: the library's source is appended to in place
    whole = hashlib.sha256(f"{len(data)} {' '.join(pieces)} {last}".encode("ascii"))
    return whole.hexdigest(), pieces


def known_before(pieces: Sequence[str] | None, unchanged: int) -> list[str]:
    """The digests among ``pieces`` that still hold when only the first ``unchanged`` bytes are as they were."""
    return list(pieces or ())[: unchanged // PIECE]


def _piece_digests(view: memoryview, starts: Sequence[int]) -> list[str]:
    return [hashlib.sha256(view[start : start + PIECE]).hexdigest() for start in starts]


def on_two_threads(first: Callable[[], First], second: Callable[[], Second]) -> tuple[First, Second]:
    """(``first()``, ``second()``), the first run here while the second runs on a thread of its own: for work that
    lets go of the interpreter (hashing large buffers). An error in either is raised here, once both are done."""
    outcome: list = []

    def run() -> None:
        try:
            outcome.append((True, second()))
        except BaseException as error:  # noqa: BLE001 - handed to the caller's thread, which raises it there
            outcome.append((False, error))

    thread = threading.Thread(target=run, name="evidence-hash", daemon=True)
    thread.start()
    try:
        mine = first()
    finally:
        thread.join()
    succeeded, theirs = outcome[0]
    if not succeeded:
        raise theirs
    return mine, theirs
