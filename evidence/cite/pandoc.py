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
    return _answer(done.returncode, done.stdout, done.stderr)


class Running:
    """A pandoc run under way (``start``): the caller goes on with other work while pandoc formats, on the other
    core, and collects the answer with ``output``."""

    def __init__(self, process: subprocess.Popen, timeout: float):
        self._process, self._timeout = process, timeout

    def output(self) -> bytes:
        """pandoc's standard output; its complaint, as a sentence, when it failed or ran out of time."""
        try:
            out, err = self._process.communicate(timeout=self._timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise PandocError(f"pandoc did not finish within {self._timeout:.0f} seconds.") from None
        return _answer(self._process.returncode, out, err)

    def stop(self) -> None:
        """End the run without its answer (the caller failed meanwhile), leaving no pandoc behind."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.communicate()


def start(args: list[str], timeout: float = TIMEOUT_SECONDS) -> Running:
    """pandoc started on ``args``, its input all in files named there (nothing to write to it while it runs)."""
    try:
        process = subprocess.Popen(
            [executable(), *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    except OSError as error:
        raise PandocError(f"pandoc could not be started: {error.strerror or error}.") from None
    return Running(process, timeout)


def _answer(returncode: int, out: bytes, err: bytes) -> bytes:
    if returncode != 0:
        message = err.decode("utf-8", "replace").strip().splitlines()
        detail = message[-1] if message else f"exit status {returncode}"
        raise PandocError(f"pandoc failed: {detail[:300]}")
    return out
