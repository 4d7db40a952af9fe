"""The characters metadata must never carry into a file or a terminal: one table for each, the second built on the
first, so what is stripped on the way in and what is hidden on the way out cannot drift apart."""

from __future__ import annotations

# C0 controls but tab, line feed and carriage return, and DEL: a NUL makes a file binary, an ESC reaches a terminal.
STORED_CONTROLS = {code: None for code in (*range(0, 9), 11, 12, *range(14, 32), 127)}

# What a terminal acts on instead of showing: the above, the carriage return (it rewrites the line), the C1 controls
# (U+009B is a one-character CSI) and the bidirectional overrides that reorder text.
TERMINAL_UNSAFE = {
    **STORED_CONTROLS,
    **{code: None for code in (13, *range(0x80, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A))},
}


def strip_controls(text: str) -> str:
    """``text`` without NUL, ESC and the other control characters no bibliographic value holds (tabs and line breaks
    stay)."""
    return text.translate(STORED_CONTROLS) if not text.isprintable() else text


def terminal_safe(text: str) -> str:
    """``text`` with nothing a terminal would obey: metadata from Crossref or a file must only ever be shown."""
    return text.translate(TERMINAL_UNSAFE)
