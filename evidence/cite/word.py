"""An article written in Word (.docx), read as the text evidence reads of any article.

pandoc's Word reader (with tracked changes and comments kept, and character styles named) feeds a Lua filter
(``word.lua``) that writes one line per paragraph, so every line number a message gives is the paragraph's number in
the document; headings become Markdown headings (a References heading is found as in Markdown), citations stay as
typed (``[@key]``, ``[@doi:10.x/y]``), tracked deletions are left out, and a claim is marked in Word by

- a **comment** on the claim's words whose text is ``#id`` or ``claim #id``, or
- a **character style** named ``claim #id`` (or ``claim:id``) applied to the claim's words,

each read as evidence's Markdown form ``[the words]{.claim #id}``. Other comments are not part of the article.
"""

from __future__ import annotations

from pathlib import Path

from evidence.cite import pandoc
from evidence.errors import BadInputError

WORD_SUFFIXES = (".docx",)
_FILTER = Path(__file__).with_name("word.lua")
_ZIP = b"PK\x03\x04"


def is_word_file(name: str, head: bytes) -> bool:
    """A .docx by its name, or any file that opens as a zip container (what every .docx is)."""
    return name.lower().endswith(WORD_SUFFIXES) or (head.startswith(_ZIP) and b"word/" in head[:4096])


def word_text(data: bytes, name: str) -> str:
    """The article's text, one paragraph per line (see the module)."""
    if not data.startswith(_ZIP):
        raise BadInputError(f"The article {name} is not a Word document (.docx): it does not open as one.")
    try:
        out = pandoc.run(["--from=docx+styles", "--track-changes=all", "--to=plain", f"--lua-filter={_FILTER}"], data)
    except pandoc.PandocError as error:
        raise BadInputError(f"The article {name} cannot be read as a Word document ({error}).") from None
    return out.decode("utf-8")
