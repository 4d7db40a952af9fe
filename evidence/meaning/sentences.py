"""Sentence vectors for the works `suggest` shows, so each shows the sentences closest in meaning to the claim.

Embedding every sentence of every work would take ten times as long as embedding the works; only the sentences of
the works a claim's results list are embedded, once: the vectors are kept in ``.embeddings/`` by a fingerprint of
the sentence, and the same works come back claim after claim. They are kept in SQLite, so keeping a few more costs
a few rows, not a rewrite of every vector kept so far, and a lookup reads only the rows asked for. The table is
bounded (past ``LIMIT`` rows the oldest go), and a damaged file is simply made again.
"""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import closing
from pathlib import Path

from evidence.errors import LibraryError
from evidence.meaning.encoder import MODEL_ID

FILE_NAME = f"sentences-{MODEL_ID}.sqlite"
LIMIT = 500_000  # sentences kept (750 MB of float32): every sentence of a 50,000-abstract library
_SCHEMA = "CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)"


def fingerprint(sentence: str) -> str:
    return hashlib.blake2b(sentence.encode(), digest_size=10).hexdigest()


class SentenceVectors:
    """A cache of sentence vectors made by ``encoder`` (anything with ``encode(texts) -> rows``)."""

    def __init__(self, folder: Path, encoder) -> None:
        self.path = Path(folder) / FILE_NAME
        self.encoder = encoder
        self._seen: dict[str, object] = {}  # this process's lookups, so a repeated sentence is not read again

    def vectors(self, sentences: list[str]):
        """One unit vector per sentence (embedding, and then keeping, the ones not seen before)."""
        import numpy

        if not sentences:
            return numpy.zeros((0, 0), dtype=numpy.float32)
        prints = [fingerprint(sentence) for sentence in sentences]
        wanted = [p for p in dict.fromkeys(prints) if p not in self._seen]
        if wanted:
            self._seen.update(self._read(wanted))
            missing = [p for p in wanted if p not in self._seen]
            if missing:
                text_of = dict(zip(prints, sentences, strict=True))
                fresh = numpy.asarray(self.encoder.encode([text_of[p] for p in missing]), dtype=numpy.float32)
                self._seen.update(zip(missing, fresh, strict=True))
                self._write(missing, fresh)
        return numpy.stack([self._seen[p] for p in prints])

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=10)
            connection.execute(_SCHEMA)
            return connection
        except sqlite3.DatabaseError:  # not a database, or damaged: the cache is made again
            self.path.unlink(missing_ok=True)
            connection = sqlite3.connect(self.path, timeout=10)
            connection.execute(_SCHEMA)
            return connection
        except OSError as error:
            raise LibraryError(f"Cannot keep sentence vectors in {self.path.parent}: {error.strerror}.") from None

    def _read(self, keys: list[str]) -> dict[str, object]:
        import numpy

        if not self.path.is_file():
            return {}
        found = {}
        try:
            with closing(self._connect()) as connection:
                for start in range(0, len(keys), 500):  # SQLite's limit on parameters per statement
                    chunk = keys[start : start + 500]
                    marks = ",".join("?" * len(chunk))
                    for key, blob in connection.execute(
                        f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk
                    ):
                        vector = numpy.frombuffer(blob, dtype=numpy.float32)
                        if vector.size:
                            found[key] = vector
        except sqlite3.DatabaseError:
            return {}
        return found

    def _write(self, keys: list[str], vectors) -> None:
        try:
            with closing(self._connect()) as connection, connection:
                connection.executemany(
                    "INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)",
                    [(key, vector.tobytes()) for key, vector in zip(keys, vectors, strict=True)],
                )
                connection.execute("DELETE FROM vectors WHERE rowid <= (SELECT max(rowid) FROM vectors) - ?", (LIMIT,))
        except sqlite3.DatabaseError:  # another process holds it too long, or the disk is full: not kept this time
            return
