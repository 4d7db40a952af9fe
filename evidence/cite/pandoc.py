"""Running pandoc: the CSL engine of every reference list, and the reader and writer of Word and HTML articles.

pandoc 3 comes with the package (the ``pypandoc-binary`` wheel ships its executable for Linux, macOS and Windows),
so every install formats with the same citeproc as pandoc users and the CSL specification's authors. ``PYPANDOC_PANDOC``
names another pandoc 3 executable where a user wants their own. Each run is bounded in time and its failure becomes
one sentence (``PandocError``); nothing here knows what the run is for.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import subprocess
from pathlib import Path

from evidence.errors import EvidenceError

TIMEOUT_SECONDS = 300  # a 10,000-entry list takes pandoc about 40 s on two cores; a hang must still end


class PandocError(EvidenceError):
    """pandoc could not be found, or failed on what it was given."""

    exit_code = 3


@functools.cache
def executable() -> str:
    """The pandoc executable: ``PYPANDOC_PANDOC`` when set, else the one pypandoc-binary ships beside its module
    (found without importing pypandoc, whose path search runs pandoc to ask its version), else pypandoc's search."""
    chosen = os.environ.get("PYPANDOC_PANDOC")
    if chosen:
        return chosen
    spec = importlib.util.find_spec("pypandoc")
    if spec is not None and spec.origin:
        for name in ("pandoc", "pandoc.exe"):
            bundled = Path(spec.origin).parent / "files" / name
            if bundled.is_file():
                return str(bundled)
    try:
        import pypandoc

        return pypandoc.get_pandoc_path()
    except (ImportError, OSError) as error:
        raise PandocError(
            "pandoc is not installed: reinstall evidence (it brings pandoc with pypandoc-binary) "
            f"or set PYPANDOC_PANDOC to a pandoc 3 executable ({error})."
        ) from None


def run(args: list[str], stdin: bytes = b"", timeout: float = TIMEOUT_SECONDS) -> bytes:
    """pandoc's standard output for ``args`` and ``stdin``; its complaint, as a sentence, when it fails."""
    try:
        done = subprocess.run([executable(), *args], input=stdin, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise PandocError(f"pandoc did not finish within {timeout:.0f} seconds.") from None
    except OSError as error:
        raise PandocError(f"pandoc could not be started: {error.strerror or error}.") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = message[-1] if message else f"exit status {done.returncode}"
        raise PandocError(f"pandoc failed: {detail[:300]}")
    return done.stdout
