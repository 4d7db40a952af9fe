"""Meaning-based scores for `suggest`: one sentence embedding per work, kept in the library.

Words are not enough for claims: an article says "raises parasympathetic tone" where the abstract says "increased
vagal activity". The model is all-MiniLM-L6-v2 as int8 ONNX, run by ``meaning.encoder`` (installed with the
package; nothing is downloaded at run time). The vectors live in ``.embeddings/`` in the library, one row per work
with a fingerprint of the text it was made from, so only new or changed works are embedded again; the file also
records which state of references.bib it matches, so an unchanged library costs one ``stat`` per query. Commands
other than suggest, claims and report never import NumPy or ONNX Runtime.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

from evidence.errors import LibraryError
from evidence.files import write_atomic
from evidence.meaning.encoder import MODEL_ID as MODEL
from evidence.meaning.encoder import installed as available
from evidence.model import Work

FILE_NAME = f"{MODEL}.npz"
FORMAT = 1
__all__ = ["FILE_NAME", "MODEL", "EmbeddingIndex", "Encoder", "available", "embedding_text", "text_fingerprint"]


def embedding_text(work: Work) -> str:
    """What the model reads of a work: its title, the practitioner's note, then the abstract (the model reads only
    the first 256 word pieces, so the shortest, most telling parts come first)."""
    return ". ".join(filter(None, (work.title, work.get("annotation"), work.get("abstract"))))


def text_fingerprint(text: str) -> str:
    return hashlib.blake2b(f"{MODEL}\x1f{text}".encode(), digest_size=10).hexdigest()


class Encoder:
    """The model, loaded on first use, so commands that never embed never pay for loading it."""

    def __init__(self):
        self._model = None

    def _load(self):
        if self._model is None:
            from evidence.meaning.encoder import ModelError, SentenceEncoder

            try:
                self._model = SentenceEncoder()
            except (ImportError, ModelError) as error:  # a broken or partial install
                raise LibraryError(f"The embedding model could not be loaded: {error}.") from None
        return self._model

    def load(self) -> None:
        """Load the model now (a caller overlaps this with other work in a thread)."""
        self._load()

    def encode(self, texts: list[str]):
        """Unit-length float32 vectors, one row per text."""
        return self._load().encode(texts)


class EmbeddingIndex:
    """The vectors of one library's works, updated incrementally and saved atomically as one ``.npz`` file."""

    def __init__(
        self, folder: Path, encoder: Encoder | None = None, notify: Callable[[str], None] | None = None
    ) -> None:
        self.path = Path(folder) / FILE_NAME
        self.encoder = encoder or Encoder()
        self.notify = notify or (lambda message: None)
        self._keys: list[str] = []
        self._fingerprints: list[str] = []
        self._vectors = None
        self._signature: list[int] | None = None
        self._loaded = False
        self._rows: dict[str, int] | None = None
        self._sentences = None

    @property
    def sentences(self):
        """The cache of sentence vectors beside the works' vectors, made by the same model."""
        if self._sentences is None:
            from evidence.meaning.sentences import SentenceVectors

            self._sentences = SentenceVectors(self.path.parent, self.encoder)
        return self._sentences

    # State --------------------------------------------------------------------------------------------------------
    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        if not self.path.is_file():
            return
        import numpy

        try:
            with numpy.load(self.path, allow_pickle=False) as data:
                if int(data["format"]) != FORMAT or str(data["model"]) != MODEL:
                    raise ValueError("another format or model")
                keys, prints, vectors = list(data["keys"]), list(data["fingerprints"]), data["vectors"]
                signature = [int(n) for n in data["signature"]]
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):  # damaged: embed again from the .bib
            self.notify("The stored embeddings were unreadable or out of date; they will be made again.")
            return
        if len(keys) != len(prints) or vectors.shape[0] != len(keys):
            self.notify("The stored embeddings were inconsistent; they will be made again.")
            return
        self._keys, self._fingerprints = [str(k) for k in keys], [str(p) for p in prints]
        self._vectors = vectors.astype(numpy.float32, copy=False)
        self._signature = signature or None

    def is_current(self, signature: list[int] | None) -> bool:
        """True when the vectors were brought up to date against references.bib in exactly this state."""
        self._load()
        return signature is not None and self._signature == list(signature)

    def __len__(self) -> int:
        self._load()
        return len(self._keys)

    # Updating -----------------------------------------------------------------------------------------------------
    def sync(
        self,
        works: Iterable[Work],
        signature: list[int] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Embed the works that are new or changed, drop the removed ones, save; returns how many were embedded.
        ``works`` is read once, each work let go once its text is taken (``BibFile.each_work`` holds one at a
        time)."""
        import numpy

        self._load()
        wanted = [(work.key, embedding_text(work)) for work in works]
        prints = [text_fingerprint(text) for _key, text in wanted]
        old = {key: row for row, key in enumerate(self._keys)}
        reusable = {
            key
            for (key, _text), fingerprint in zip(wanted, prints, strict=True)
            if key in old and self._fingerprints[old[key]] == fingerprint
        }
        todo = [(key, text) for key, text in wanted if key not in reusable]
        if not todo and [k for k, _ in wanted] == self._keys:
            if signature is not None and signature != self._signature:
                self._signature = list(signature)
                self._save()
            return 0
        fresh = {}
        if progress and todo:
            progress(0, len(todo))
        for start in range(0, len(todo), 256):
            chunk = todo[start : start + 256]
            for (key, _text), vector in zip(chunk, self.encoder.encode([t for _k, t in chunk]), strict=True):
                fresh[key] = vector
            if progress:
                progress(min(start + 256, len(todo)), len(todo))
        dimension = next(iter(fresh.values())).shape[0] if fresh else (self._vectors.shape[1] if self._keys else 0)
        vectors = numpy.zeros((len(wanted), dimension), dtype=numpy.float32)
        for row, (key, _text) in enumerate(wanted):
            vectors[row] = fresh[key] if key in fresh else self._vectors[old[key]]
        self._keys, self._fingerprints, self._vectors = [k for k, _ in wanted], prints, vectors
        self._rows = None
        self._signature = list(signature) if signature is not None else None
        self._save()
        return len(todo)

    def _save(self) -> None:
        import numpy

        buffer = io.BytesIO()
        numpy.savez(
            buffer,
            format=numpy.int64(FORMAT),
            model=numpy.str_(MODEL),
            keys=numpy.array(self._keys, dtype=str),
            fingerprints=numpy.array(self._fingerprints, dtype=str),
            vectors=self._vectors if self._vectors is not None else numpy.zeros((0, 0), dtype=numpy.float32),
            signature=numpy.array(self._signature or [], dtype=numpy.int64),
        )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise LibraryError(f"Cannot create {self.path.parent}: {error.strerror}.") from None
        write_atomic(self.path, buffer.getvalue())
        for stale in self.path.parent.glob("*.npz"):  # another model's vectors (PyTorch's, before): never read again
            if stale.name != FILE_NAME:
                stale.unlink(missing_ok=True)

    # Scoring ------------------------------------------------------------------------------------------------------
    def vector(self, text: str):
        """The query's vector (ONNX Runtime computes outside the GIL, so a caller can run this in a thread)."""
        return self.encoder.encode([text])[0]

    def nearest(self, vector, limit: int, also: list[str] = ()) -> dict[str, float]:
        """Cosine similarity of a query ``vector`` to the ``limit`` closest works and to the works named in ``also``."""
        import numpy

        self._load()
        if not self._keys or limit < 1:
            return {}
        scores = self._vectors @ vector
        count = min(limit, len(self._keys))
        rows = numpy.argpartition(-scores, count - 1)[:count]
        found = {self._keys[row]: float(scores[row]) for row in rows.tolist()}
        if also:
            row_of = self._row_of()
            found.update({key: float(scores[row_of[key]]) for key in also if key in row_of})
        return found

    def _row_of(self) -> dict[str, int]:
        if self._rows is None:
            self._rows = {key: row for row, key in enumerate(self._keys)}
        return self._rows
