"""Safe file I/O shared by the adapters: atomic replacement and strict, explained text decoding.

Sits below the adapters (store, index, csl) and above core: it touches the disk but decides nothing.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from evidence.errors import BadInputError, LibraryError


def write_atomic(path: Path, data: bytes | Iterable[bytes]) -> None:
    """Replace ``path`` with ``data`` (bytes, or chunks of them: a large file need not be in memory twice) so that a
    reader sees the old file or the new one, never a mix.

    A symlink is written through (its target is replaced, the link stays a link), and the file keeps its permission
    bits: a shared ``0644`` references.bib must not turn private, nor a link in a dotfiles repository into a copy."""
    path = _through_links(Path(path))
    mode = _mode_of(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except FileNotFoundError:
        raise LibraryError(f"The folder {path.parent} does not exist.") from None
    except PermissionError:
        raise LibraryError(f"The folder {path.parent} is not writable.") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in (data,) if isinstance(data, bytes | bytearray) else data:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise LibraryError(f"Could not write {path}: {error.strerror or error}; the old file is unchanged.") from None
    except BaseException:  # the chunks failed, or an interrupt: no half-written temporary file is left behind
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _through_links(path: Path) -> Path:
    """The file a (possibly chained) symlink points at; the path itself when it is no link."""
    if path.is_symlink():
        return Path(os.path.realpath(path))
    return path


def _mode_of(path: Path) -> int:
    """The permission bits to give the new file: the old file's, else what the umask allows a new file."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


@functools.cache
def _umask() -> int:
    """The process's umask, read once (reading it means setting it, so not on every write)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def read_text(path: Path, what: str = "file", max_bytes: int | None = None) -> str:
    """Text of a file that should be UTF-8 (a UTF-8 or UTF-16 byte-order mark is honoured); a sentence otherwise.

    ``max_bytes`` refuses, before reading, a file too large to be what it is said to be."""
    return read_bytes_and_text(path, what, max_bytes)[1]


def read_bytes_and_text(path: Path, what: str = "file", max_bytes: int | None = None) -> tuple[bytes, str]:
    """``read_text``, with the bytes the text was decoded from (to fingerprint exactly what was read)."""
    data = read_bytes(path, what, max_bytes)
    return data, decode_bytes(data, path, what)


@contextlib.contextmanager
def open_text(path: Path, what: str = "file"):
    """``read_text`` a piece or a line at a time: yields a ``TextPieces``, with the same checks and the same
    sentences (UTF-8 or a byte-order mark, never binary), so a large file need not be in memory whole."""
    path = Path(path)
    encoding = text_encoding(read_head(path, what), path, what)
    with _told_why_not(path, what), open(path, encoding=encoding, newline="") as handle:  # line ends as they are
        yield TextPieces(handle, path, what)


class TextPieces:
    """A text file being read (``open_text``): ``read(size)`` ('' at the end), or its lines, each with its end."""

    def __init__(self, handle, path: Path, what: str):
        self._handle, self._path, self._what = handle, path, what

    def read(self, size: int) -> str:
        with self._undecodable():
            return self._handle.read(size)

    def __iter__(self):
        with self._undecodable():
            yield from self._handle

    @contextlib.contextmanager
    def _undecodable(self):
        try:
            yield
        except UnicodeDecodeError:  # the whole file decoded, for the sentence that says where and why
            decode_bytes(read_bytes(self._path, self._what), self._path, self._what)
            raise BadInputError(f"The {self._what} {self._path} is not text in one encoding.") from None


def utf8_lines(data: bytes, piece: int = 1 << 20) -> Iterator[str]:
    """The lines of UTF-8 bytes, each with its end, as a file opened with ``newline=''`` gives them, decoded about
    ``piece`` bytes at a time (cut after a line feed, so never inside a character or a CR LF): the text of a large
    file is never held whole. Raises ``UnicodeDecodeError`` where the bytes are not UTF-8."""
    position = 0
    while position < len(data):
        end = data.find(b"\n", position + piece)
        end = len(data) if end < 0 else end + 1
        yield from io.StringIO(data[position:end].decode("utf-8"), newline="")
        position = end


def read_head(path: Path, what: str = "file", size: int = 4096) -> bytes:
    """The first ``size`` bytes of a file (to tell its format), with ``read_bytes``'s sentences."""
    with _told_why_not(path, what), open(path, "rb") as handle:
        return handle.read(size)


@contextlib.contextmanager
def _told_why_not(path: Path, what: str):
    """A file that cannot be opened, said in a sentence."""
    try:
        yield
    except FileNotFoundError:
        raise BadInputError(f"The {what} {path} does not exist.") from None
    except IsADirectoryError:
        raise BadInputError(f"The {what} {path} is a folder, not a file.") from None
    except PermissionError:
        raise BadInputError(f"The {what} {path} cannot be read (permission denied).") from None


def read_bytes(path: Path, what: str = "file", max_bytes: int | None = None) -> bytes:
    """The bytes of a file, refused with a sentence when missing, a folder, unreadable or over ``max_bytes``."""
    path = Path(path)
    with _told_why_not(path, what):
        size = path.stat().st_size if max_bytes is not None and path.is_file() else 0
        if max_bytes is not None and size > max_bytes:
            raise BadInputError(
                f"The {what} {path} is {size / 1e6:.1f} MB, more than the {max_bytes / 1e6:.0f} MB "
                f"evidence reads as one {what}; split it into parts."
            )
        return path.read_bytes()


def read_buffer(path: Path, what: str = "file") -> bytearray:
    """The bytes of a file in a buffer that can grow in place (an append to a large file need not copy it), refused
    with the same sentences as ``read_bytes``."""
    path = Path(path)
    with _told_why_not(path, what):
        with open(path, "rb") as handle:
            buffer = bytearray(os.fstat(handle.fileno()).st_size)
            view, filled = memoryview(buffer), 0
            while filled < len(buffer):
                count = handle.readinto(view[filled:])
                if not count:
                    break
                filled += count
            view.release()
            if filled < len(buffer):
                del buffer[filled:]  # shorter than it was a moment ago
            rest = handle.read()
            if rest:
                buffer += rest  # longer
            return buffer


def text_encoding(head: bytes, path: Path | str, what: str = "file") -> str:
    """The encoding a text file's first 4,096 bytes (``head``) say it is in: UTF-16 by its byte-order mark, else
    UTF-8 (with or without a mark); refused with a sentence when they hold a NUL byte but no such mark."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if b"\x00" in head[:4096] and not head.startswith(b"\xef\xbb\xbf"):
        raise BadInputError(f"The {what} {path} is a binary file, not text.")
    return "utf-8-sig"


def decode_bytes(data: bytes, path: Path | str, what: str = "file") -> str:
    if text_encoding(data[:4096], path, what) == "utf-16":
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise BadInputError(f"The {what} {path} starts like UTF-16 but is not valid UTF-16.") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        byte = data[error.start : error.start + 1].hex().upper()
        hint = " (it looks like Windows-1252 or Latin-1; save it as UTF-8)" if _looks_like_cp1252(data) else ""
        raise BadInputError(
            f"The {what} {path} is not UTF-8: byte 0x{byte} on line {line} cannot be read{hint}."
        ) from None


def _looks_like_cp1252(data: bytes) -> bool:
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return True
