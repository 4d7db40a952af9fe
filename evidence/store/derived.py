"""Files derived from references.bib, under one freshness rule each, so commands skip parsing an unchanged file.

``.index/parsed-bib.json`` is the file as parsed, keyed by a hash of its bytes and of the parsing code;
``.index/entries.json`` is where each entry sits in the file, keyed by the file's size, modification time and inode,
so a read-only command can read the few entries it shows. Both are derived data: written atomically, ignored when
absent, stale or damaged (the next full read writes them again).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import itertools
import json
import os
from pathlib import Path

from evidence.errors import LibraryError
from evidence.files import write_atomic
from evidence.model import Work
from evidence.store import bibtex
from evidence.store.bibfile import BibFile, Block, parse_bibtex

ENTRY_MAP = "entries.json"  # where each entry sits in references.bib, for reading a few without parsing
PARSED_BIB = "parsed-bib.json"  # references.bib as parsed, reused while neither it nor the parser changes


def bib_signature(bib_path: Path, handle=None) -> list[int] | None:
    """Size, modification time and inode of references.bib: any edit or atomic replacement changes one of them."""
    try:
        status = os.fstat(handle.fileno()) if handle is not None else bib_path.stat()
    except OSError:
        return None
    return [status.st_size, status.st_mtime_ns, status.st_ino]


def read_saved_parse(index_dir: Path, fingerprint: str, text: str) -> BibFile | None:
    """The saved parse if it is of these bytes by this code; its first line says which, so a stale one is known
    without reading the rest (300 MB at 100,000 entries)."""
    wanted = {"file": fingerprint, "parser": _parser_version(), "length": len(text)}
    try:
        with open(index_dir / PARSED_BIB, "rb") as handle:
            if json.loads(handle.readline()) != wanted:
                return None
            return _bib_from_saved(json.loads(handle.read()), text)
    except (OSError, ValueError, KeyError, TypeError, IndexError):  # absent, stale or damaged: parse again
        return None


def _block_hash(raw: str) -> str:
    return hashlib.blake2b(raw.encode("utf-8"), digest_size=8).hexdigest()


def reparse_changed(index_dir: Path, text: str, source: str) -> BibFile | None:
    """``text`` parsed by reusing the saved parse of an earlier state of the file for the blocks that did not change.

    A hand edit changes one stretch of the file: the saved blocks that still match the text from its start (by
    length and hash) and from its end are taken as they are, and only the stretch between them is parsed. The
    result must be what a full parse gives; wherever that could differ the answer is None and the caller parses
    the whole file: the earlier file had problems or @string macros near the stretch, the stretch holds a problem,
    an unreadable block or an @string, a key now appears twice, or the stretch does not start and end between
    entries."""
    try:
        with open(index_dir / PARSED_BIB, "rb") as handle:
            header = json.loads(handle.readline())
            if header.get("parser") != _parser_version():
                return None
            data = json.loads(handle.read())
        rows, head = data["blocks"], int(data["head"])
        if data["problems"] or not rows:
            return None
        return _stitch(rows, head, data["strings"], text, source)
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):  # damaged: parse it all
        return None


def _stitch(rows: list, head: int, strings: dict, text: str, source: str) -> BibFile | None:
    first, position = 0, head  # the saved blocks that still stand at the start of the file...
    while first < len(rows) and _block_hash(text[position : position + rows[first][0]]) == rows[first][4]:
        position += rows[first][0]
        first += 1
    last, end = len(rows), len(text)  # ...and at its end
    while last > first and end - rows[last - 1][0] >= position:
        if _block_hash(text[end - rows[last - 1][0] : end]) != rows[last - 1][4]:
            break
        end -= rows[last - 1][0]
        last -= 1
    if first == len(rows) and position == len(text):
        return None  # only the head changed: parse it all
    # Widen the stretch until entries stand on both sides of it: comment blocks next to it could merge.
    while first > 0 and rows[first - 1][3] is None:
        first -= 1
        position -= rows[first][0]
    while last < len(rows) and rows[last][3] is None:
        end += rows[last][0]
        last += 1
    if first == 0:
        position = 0  # the head may have changed too: the stretch starts at the file's start
    if strings and any(row[3] is None for row in rows[first:last]):
        return None  # a removed or changed @string would change every entry using it
    middle = parse_bibtex(text[position:end], source, strings=strings)
    if middle.problems or any(block.failed for block in middle.blocks) or middle.strings != strings:
        return None
    bib = BibFile(source_text=text, strings=dict(strings), head=text[:head] if first else middle.head)
    cursor = head
    for size, _line, failed, saved, _hash in rows[:first]:
        bib.blocks.append(Block(raw=text[cursor : cursor + size], line=0, work=_work(saved), failed=failed))
        cursor += size
    if first and middle.head:
        bib.blocks[-1].raw += middle.head  # blank lines left where an entry was: the block before keeps them
    bib.blocks.extend(middle.blocks)
    cursor = end
    for size, _line, failed, saved, _hash in rows[last:]:
        bib.blocks.append(Block(raw=text[cursor : cursor + size], line=0, work=_work(saved), failed=failed))
        cursor += size
    if bib.head + "".join(block.raw for block in bib.blocks) != text:
        return None
    line, seen = bib.head.count("\n") + 1, set()
    for block in bib.blocks:
        block.line = line
        line += block.raw.count("\n")
        if block.work is not None:
            if block.work.key.lower() in seen:
                return None  # a key used twice: the full parse words that problem
            seen.add(block.work.key.lower())
    return bib


def _work(saved) -> Work | None:
    return None if saved is None else Work(key=saved[0], entry_type=saved[1], fields=saved[2], text=saved[3])


def save_parse(index_dir: Path, bib: BibFile, fingerprint: str) -> None:
    """Derived data like the index: written atomically, failures ignored (the next read parses again)."""
    if bib.head + "".join(block.raw for block in bib.blocks) != bib.source_text:
        return  # the blocks do not tile the text, so they could not be cut from it again
    of = {"file": fingerprint, "parser": _parser_version(), "length": len(bib.source_text)}
    about = {"head": len(bib.head), "strings": bib.strings, "problems": bib.problems}
    chunks = itertools.chain([json.dumps(of).encode() + b"\n"], _saved_parse_chunks(about, bib.blocks))
    with contextlib.suppress(OSError, LibraryError):
        index_dir.mkdir(exist_ok=True)
        write_atomic(index_dir / PARSED_BIB, chunks)


def remember_entries(index_dir: Path, bib: BibFile, signature: list[int] | None) -> None:
    """Record the byte span of every entry of ``bib`` (as read under ``signature``), so that a read-only command
    can fetch the few works it shows from the file instead of parsing all of it. Derived data: failures are
    ignored and the next full read writes it again."""
    text = bib.render()
    if signature is None or text != bib.source_text or len(text.encode("utf-8")) != signature[0]:
        return  # changed since read, or not plain UTF-8 on disk (a BOM, another encoding): spans would be wrong
    spans, position = {}, len(bib.head.encode("utf-8"))
    for block in bib.blocks:
        size = len(block.raw.encode("utf-8"))
        if block.work is not None:
            spans[block.work.key] = [position, size]
        position += size
    data = {"signature": signature, "strings": bib.strings, "spans": spans}
    with contextlib.suppress(OSError):
        index_dir.mkdir(exist_ok=True)
        write_atomic(index_dir / ENTRY_MAP, json.dumps(data, ensure_ascii=False).encode("utf-8"))


def works_by_key(index_dir: Path, bib_path: Path, keys: list[str]) -> dict[str, Work] | None:
    """The works with these keys, read from their recorded spans; None unless the record still describes the
    file (same signature) and every key is found where it says."""
    try:
        data = json.loads((index_dir / ENTRY_MAP).read_text(encoding="utf-8"))
        with open(bib_path, "rb") as handle:
            if data.get("signature") != bib_signature(bib_path, handle):
                return None
            spans = data["spans"]
            chunks = []
            for key in keys:
                start, size = spans[key]
                handle.seek(start)
                chunks.append(handle.read(size))
        text = b"".join(chunks).decode("utf-8")
    except (OSError, ValueError, KeyError, TypeError):
        return None
    works = {work.key: work for work in parse_bibtex(text, strings=data.get("strings")).works}
    return works if all(key in works for key in keys) else None


def _saved_parse_chunks(about: dict, blocks: list[Block], per_chunk: int = 2000):
    """``about`` with its "blocks" as JSON, a few thousand blocks at a time: the whole text of a 100,000-entry parse
    (300 MB), and its encoding, would be in memory at once."""
    yield json.dumps(about, ensure_ascii=False)[:-1].encode("utf-8") + b', "blocks": ['
    for start in range(0, len(blocks), per_chunk):
        rows = [
            [len(b.raw), b.line, b.failed, None if b.work is None else _saved_work(b.work), _block_hash(b.raw)]
            for b in blocks[start : start + per_chunk]
        ]
        yield (b", " if start else b"") + json.dumps(rows, ensure_ascii=False)[1:-1].encode("utf-8")
    yield b"]}"


def _saved_work(work: Work) -> list:
    return [work.key, work.entry_type, work.fields, work.text]


def _bib_from_saved(data: dict, text: str) -> BibFile:
    """The BibFile ``parse_bibtex`` gave for ``text``, from what ``save_parse`` kept: each block's raw text is
    cut from ``text`` again by its length."""
    bib = BibFile(source_text=text, strings=data["strings"], problems=data["problems"], head=text[: data["head"]])
    position = data["head"]
    for size, line, failed, saved, _hash in data["blocks"]:
        bib.blocks.append(Block(raw=text[position : position + size], line=line, work=_work(saved), failed=failed))
        position += size
    if position != len(text):
        raise ValueError("the saved blocks do not cover the file")
    return bib


def _installed_version(package: str) -> str:
    """The package's version as its install records it (the dist-info folder's name), found without importing the
    package or importlib.metadata, which a command served by the saved parse would otherwise pay for."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.origin:
        return ""
    site = Path(spec.origin).parent.parent
    found = sorted(p.name for p in site.glob(f"{package}-*.dist-info"))
    return found[-1] if found else ""


@functools.cache
def _parser_version() -> str:
    """Changes with the code that turns BibTeX into works (``bibfile``, ``latex``, ``bibtex``, ``model``,
    ``markup``, this module, bibtexparser and pylatexenc), so a saved parse is never reused by code that would parse
    differently."""
    from evidence import markup, model
    from evidence.store import bibfile, latex

    digest = hashlib.blake2b(digest_size=10)
    for module in (bibfile, latex, bibtex, model, markup):
        digest.update(Path(module.__file__).read_bytes())
    digest.update(Path(__file__).read_bytes())
    for package in ("bibtexparser", "pylatexenc"):
        digest.update(_installed_version(package).encode())
    return digest.hexdigest()
