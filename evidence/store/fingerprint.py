"""What tells one state of references.bib from another: the SHA-256 of the digests of its 4 MiB pieces.

Hashing in pieces gives the same assurance as hashing the bytes whole, and two things besides. Bytes appended to the
file rehash only its last, unfinished piece and what follows, given the digests of the full pieces before it; and
those digests can be kept with the rows (``derived``), so that a command appending one entry to a large file that is
known unchanged since the rows were written (by a settled signature, ``derived.settled``) hashes a few megabytes,
not all of it. SHA-256: the machine's instructions make it the fastest strong hash in hashlib.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

PIECE = 1 << 22


def file_fingerprint(data: bytes, known: Sequence[str] = ()) -> tuple[str, list[str]]:
    """(the fingerprint of ``data``, the digests of its full pieces). ``known``: digests of full pieces from the
    start that are known to be those of ``data`` (its first bytes are as they were when they were taken: the file
    only grew, or was rewritten from a later point); the rest is hashed."""
    view = memoryview(data)
    try:
        pieces = list(known[: len(data) // PIECE])
        for start in range(len(pieces) * PIECE, len(data) - PIECE + 1, PIECE):
            pieces.append(hashlib.sha256(view[start : start + PIECE]).hexdigest())
        last = hashlib.sha256(view[len(pieces) * PIECE :]).hexdigest()
    finally:
        view.release()  # a bytearray viewed cannot grow: the library's source is appended to in place
    whole = hashlib.sha256(f"{len(data)} {' '.join(pieces)} {last}".encode("ascii"))
    return whole.hexdigest(), pieces


def known_before(pieces: Sequence[str] | None, unchanged: int) -> list[str]:
    """The digests among ``pieces`` that still hold when only the first ``unchanged`` bytes are as they were."""
    return list(pieces or ())[: unchanged // PIECE]
