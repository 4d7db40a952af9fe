"""An article's text from its file, whatever form it comes in: Markdown and plain text as written, a saved web page
as its visible text, a Word document as one line per paragraph (``cite.word``). The command line reads files
through it and the web app reads uploads through it, so both see the same text and refuse with the same sentences.
"""

from __future__ import annotations

from pathlib import Path

from evidence.cite.webpage import readable_article
from evidence.cite.word import is_word_file, word_text
from evidence.errors import BadInputError
from evidence.files import decode_bytes, read_bytes

# A whole book manuscript is about 2 MB of text; far beyond that a file is not an article, and claim mapping of it
# would take minutes (a 25 MB file took 170 s), so it is refused with a sentence up front.
ARTICLE_LIMIT = 10_000_000
WORD_LIMIT = 50_000_000  # a .docx is zipped, and carries its images


def article_text(data: bytes, name: str, what: str = "article", label: str | None = None) -> str:
    """The text evidence reads of an article file's bytes: ``name`` (the file's name) tells its kind, ``label``
    (default: the name) is how errors name it."""
    label = label or name
    limit = WORD_LIMIT if is_word_file(name, data[:4096]) else ARTICLE_LIMIT
    if len(data) > limit:
        raise BadInputError(
            f"The {what} {label} is {len(data) / 1e6:.1f} MB, more than the {limit / 1e6:.0f} MB evidence reads as "
            f"one {what}; split it into parts."
        )
    if limit == WORD_LIMIT:
        return word_text(data, name)
    return readable_article(decode_bytes(data, label, what), name)


def read_article(path: Path, what: str = "article") -> str:
    """``article_text`` of a file, refused with a sentence when it is missing, unreadable or too large."""
    path = Path(path)
    data = read_bytes(path, what, WORD_LIMIT if path.suffix.lower() == ".docx" else ARTICLE_LIMIT)
    return article_text(data, path.name, what, str(path))
