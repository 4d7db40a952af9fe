"""JSON values read from a stream a piece at a time: the works of a 100,000-work export without holding its text.

Pure: reads through a ``read(size) -> str`` callable (a file's decoding reader, or ``io.StringIO(text).read``). The
stream is one or more top-level JSON values separated by white space, which is a JSON document, a JSON Lines file
and an array per line alike. The elements of a top-level array are yielded one by one; any other top-level value
whole. Decoding is the standard library's (``JSONDecoder.raw_decode``) on a window of the text: a value that does
not decode is decoded again with more text, and is an error only when the stream has no more (so a broken file is
read to its end before the error is told, as a whole read would).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

_DECODER = json.JSONDecoder()
_SPACE = " \t\n\r"
CHUNK = 1 << 20  # characters read at a time


class JSONStreamError(ValueError):
    """Not valid JSON at ``line`` (1-based), for the reason ``reason`` (the decoder's)."""

    def __init__(self, reason: str, line: int):
        super().__init__(f"line {line}: {reason}")
        self.reason, self.line = reason, line


class _Window:
    """The text not yet decoded, and how many lines were decoded before it."""

    def __init__(self, read: Callable[[int], str]):
        self.read, self.text, self.at, self.lines_before, self.ended = read, "", 0, 0, False

    def more(self, size: int = CHUNK) -> bool:
        """Read more text (dropping what was decoded); False at the end of the stream."""
        if self.ended:
            return False
        piece = self.read(size)
        if not piece:
            self.ended = True
            return False
        self.lines_before += self.text.count("\n", 0, self.at)
        self.text, self.at = self.text[self.at :] + piece, 0
        return True

    def line(self, position: int) -> int:
        return self.lines_before + self.text.count("\n", 0, position) + 1

    def skip_space(self) -> str:
        """The next character that is not white space ('' at the end), not consumed."""
        while True:
            text, at = self.text, self.at
            while at < len(text) and text[at] in _SPACE:
                at += 1
            self.at = at
            if at < len(text):
                return text[at]
            if not self.more():
                return ""

    def value(self):
        """Decode the value at the window's position, reading more while it is cut off by the window's end."""
        size = CHUNK
        self.skip_space()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.text, self.at)
            except json.JSONDecodeError as error:
                # a value cut off by the window's end reads as an error too: only the whole stream can tell
                if not self.more(size):  # where it went wrong; where the value began if that was at the end
                    position = error.pos if error.pos < len(self.text.rstrip()) else self.at
                    raise JSONStreamError(error.msg, self.line(position)) from None
                size *= 2  # a long value: fewer decodings of its start
                continue
            if end == len(self.text) and not self.ended and self.more(size):
                continue  # a number may go on past the window (``12`` of ``123``): decode it again
            self.at = end
            return value

    def take(self, character: str) -> bool:
        if self.skip_space() == character:
            self.at += 1
            return True
        return False


def json_values(read: Callable[[int], str]) -> Iterator:
    """Each top-level value of the stream, and each element of a top-level array in its place; raises
    ``JSONStreamError`` where the text is not JSON (after yielding what came before it)."""
    window = _Window(read)
    while (character := window.skip_space()) != "":
        if character != "[":
            yield window.value()
            continue
        window.at += 1
        if window.take("]"):
            continue
        while True:
            yield window.value()
            if window.take(","):
                continue
            if window.take("]"):
                break
            raise JSONStreamError("Expecting ',' delimiter or ']'", window.line(window.at))
