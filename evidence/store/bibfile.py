"""references.bib as blocks: parsing BibTeX text with bibtexparser v2, and the in-memory file the tool edits.

Reading uses an empty parse stack, so values keep their delimiters and @string macros stay unexpanded; every block
keeps its raw text, and blocks the tool does not change are written back exactly as read (the parser's failed
blocks included, verbatim and without the warning comments bibtexparser would add). Entries the tool creates or
edits use the canonical layout of ``bibtex.format_entry``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass, field

from evidence.errors import LibraryError
from evidence.keys import unique_key
from evidence.model import Work
from evidence.store import bibtex
from evidence.store.latex import decode_fields
from evidence.store.row_blocks import RowBlocks

# Past this many blocks to make from their rows for one lookup, they are made in one query for the stretch they span
_ONE_BY_ONE = 32


def _bibtexparser():
    """bibtexparser, imported when a file is parsed (a command served by the saved parse never needs it), with its
    logging silenced: it logs every unreadable block itself, and we report them as sentences with line numbers."""
    import logging

    import bibtexparser

    logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)
    return bibtexparser


@dataclass(eq=False, slots=True)
class Block:
    """One top-level block of the file: an entry (with its Work) or anything else, kept as raw text."""

    raw: str  # the block's exact text in the file, up to the next block (so the whitespace after it too)
    line: int
    work: Work | None = None
    failed: bool = False
    # (row, text, line) as the derived store holds this block: a write skips the blocks still as stored
    saved: tuple | None = field(default=None, repr=False)

    def __eq__(self, other) -> bool:
        if not isinstance(other, Block):
            return NotImplemented
        return (self.raw, self.line, self.work, self.failed) == (other.raw, other.line, other.work, other.failed)

    # What a library-wide lookup needs of an entry: a block read from the derived store answers these without
    # decoding its work (``derived.StoredBlock``), so a command that touches one work need not decode them all.
    @property
    def key(self) -> str | None:
        return None if self.work is None else self.work.key

    @property
    def doi(self) -> str:
        return "" if self.work is None else self.work.doi

    @property
    def citable_keys(self) -> tuple[str, ...]:
        return () if self.work is None else (self.work.key, *self.work.aliases)

    @property
    def newlines(self) -> int:
        return self.raw.count("\n")

    def work_in_passing(self) -> Work | None:
        """The block's work for a caller that reads every work once (``BibFile.each_work``): a block read from the
        derived store decodes it without keeping it, so a pass over a large library holds one work at a time."""
        return self.work

    def text_as_saved(self) -> bool:
        """Whether the block's text is still what its row (``saved``) was written from."""
        return self.saved is not None and self.saved[1] == self.raw

    def relocate(self, source: bytes, at: int) -> None:
        """A block held as text needs nothing when the file around it is written."""

    def unchanged_at(self, source: bytes, position: int) -> int | None:
        """The block's length in bytes when ``source`` holds it, as it is now, at ``position`` (as it was read
        from there, or last written there: ``saved``), else None. Compared by the record, not the text."""
        saved = self.saved
        if saved is None or saved[3] != position or saved[1] is not self.raw:
            return None
        return saved[4]


@dataclass
class BibFile:
    """references.bib in memory. Mutations mark the file dirty; ``Store.save_bib`` writes it back."""

    blocks: list[Block] = field(default_factory=list)
    strings: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    # The file as read (or last written), as UTF-8: blocks read from the derived store are cut from it only when
    # their text is asked for, so a command that writes one entry to a large file never decodes the rest.
    source: bytes = field(default=b"", repr=False)
    head: str = ""  # whatever precedes the first block (blank lines)
    read_as: str = field(default="", compare=False, repr=False)  # the fingerprint of the file ``source`` came from
    # the digests of ``source``'s full pieces (``fingerprint``), to extend as bytes are appended; None when
    # ``source`` is not the file's own bytes (its text re-encoded)
    source_pieces: list[str] | None = field(default=None, compare=False, repr=False)
    # the file's signature as read, when no change to it can keep that signature (``derived.settled``): a write
    # that finds the file under it knows the file unchanged without reading it again
    read_signature: list[int] | None = field(default=None, compare=False, repr=False)
    saved_as: str = field(default="", compare=False, repr=False)  # the file whose parse the blocks' rows hold
    # The keys of the works written since the search index was last in line with the file: the index need look at
    # no other. None when that is not known (the file was edited, or rows dropped): then it compares every work.
    unindexed: set[str] | None = field(default=None, compare=False, repr=False)
    # A file being imported: its @preamble and @comment blocks, (line, text), which the library copies as they are
    verbatim: list[tuple[int, str]] = field(default_factory=list, compare=False, repr=False)
    # Read while another command was appending (its journal open): the file as it was before, which this command
    # must not write to the derived rows or the index, as they are the appending command's to keep.
    appending_elsewhere: bool = field(default=False, compare=False, repr=False)

    @property
    def source_text(self) -> str:
        return self.source.decode("utf-8")

    @property
    def works(self) -> list[Work]:
        """Every work, decoded and kept: for callers that look works up many times. A single pass over all of
        them is ``each_work``'s."""
        return [block.work for block in self.blocks if block.work is not None]

    def each_work(self, start: int = 0) -> _EachWork:
        """Every work in file order (of the blocks from the ``start``-th on), decoded as it comes and not kept by the
        blocks: an export or an index rebuild of a 100,000-work library holds one work at a time instead of all of
        them (about 1.5 GB). Each iteration starts afresh, so a caller may pass over them twice."""
        return _EachWork([block for block in self.blocks[start:] if block.key is not None])

    def unindexed_works(self) -> list[Work] | None:
        """The works the search index has not seen as they are now (``unindexed``), or None when not known."""
        return None if self.unindexed is None else self.works_with_keys(self.unindexed)

    def works_with_keys(self, keys: set[str]) -> list[Work]:
        """The works whose keys are ``keys``, in file order; no other work is decoded."""
        hints = self._hints()
        if hints is None:
            return [block.work for block in self.blocks if block.key is not None and block.key in keys]
        numbers = [number for number, key in enumerate(hints[0]) if key is not None and key in keys]
        if len(numbers) > _ONE_BY_ONE:  # many blocks to make: their rows in one query
            self.blocks[numbers[0] : numbers[-1] + 1]
        return [self.blocks[number].work for number in numbers]

    def keys(self) -> set[str]:
        """Every key a manuscript may cite: the entries' keys and their aliases (``ids``)."""
        hints = self._hints()
        if hints is None:
            return {key for block in self.blocks for key in block.citable_keys}
        keys, _dois, aliases = hints
        found = {key for key in keys if key is not None}
        for joined in aliases:
            if joined:
                found.update(joined.split("\n"))
        return found

    def _hints(self) -> tuple[list, list, list] | None:
        """(keys, DOIs, aliases one a line) of every block in order, without making the blocks not yet read from
        the rows (``RowBlocks.hints``); None when the blocks are a plain list (ask each)."""
        return self.blocks.hints() if isinstance(self.blocks, RowBlocks) else None

    def _number_of(self, key: str) -> int | None:
        """The place of the first block whose key is ``key`` (as written), or None."""
        hints = self._hints()
        if hints is None:
            return next((number for number, block in enumerate(self.blocks) if block.key == key), None)
        try:
            return hints[0].index(key)
        except ValueError:
            return None

    def key_map(self) -> dict[str, Work]:
        """Every citable key, lower-cased, to its work; a work's own key wins over another work's alias (as in
        ``by_key``). For callers that look up many keys: ``by_key`` walks the whole file each time."""
        found = {alias.lower(): work for work in self.works for alias in work.aliases}
        found.update((work.key.lower(), work) for work in self.works)
        return found

    def by_key(self, key: str) -> Work | None:
        """The work with this key, else the work that keeps it as an alias."""
        lowered = key.lower()
        hints = self._hints()
        if hints is not None:
            keys, _dois, aliases = hints
            found = next((n for n, each in enumerate(keys) if each is not None and each.lower() == lowered), None)
            if found is None:
                found = next(
                    (n for n, joined in enumerate(aliases) if joined and lowered in joined.lower().split("\n")), None
                )
            return None if found is None else self.blocks[found].work
        for block in self.blocks:
            if block.key is not None and block.key.lower() == lowered:
                return block.work
        for block in self.blocks:
            if any(alias.lower() == lowered for alias in block.citable_keys[1:]):
                return block.work
        return None

    def add_alias(self, work: Work, alias: str) -> Work:
        """Keep ``alias`` as another key of ``work`` (its ``ids`` field), changing only that entry's text: the
        field is added before the closing brace, or its value extended, so the rest of the entry stays as written."""
        aliases = ", ".join(dict.fromkeys([*work.aliases, alias]))
        if "ids" not in work.fields:
            return self._edit_entry(
                work, lambda body: _with_fields(body, {"ids": "{" + aliases + "}"}), f"The alias {alias}"
            )
        value = "{" + aliases + "}"
        pattern = r"(?im)^(\s*ids\s*=\s*)(\{[^{}\n]*\}|\"[^\"\n]*\")"
        return self._edit_entry(
            work, lambda body: re.sub(pattern, lambda m: m.group(1) + value, body, count=1), f"The alias {alias}"
        )

    def add_fields(self, work: Work, raw_fields: dict[str, str]) -> Work:
        """Add fields the entry does not have (BibTeX-encoded values), before its closing brace, changing nothing
        else in the entry's text; a field it already has is never touched."""
        new = {name: value for name, value in raw_fields.items() if name.lower() not in work.fields}
        if not new:
            return work
        return self._edit_entry(work, lambda body: _with_fields(body, new), "Fields")

    def _edit_entry(self, work: Work, edit, what: str) -> Work:
        """Rewrite one entry's text with ``edit`` (its text without trailing space in, the new text out) and keep the
        result only if it reads back as one entry with the same key."""
        number = self._number_of(work.key)
        if number is not None:
            block = self.blocks[number]
            body = block.raw.rstrip()
            trailing = block.raw[len(body) :] or "\n"
            body = edit(body)
            reread = parse_bibtex(body + "\n", strings=self.strings).works
            if len(reread) != 1 or reread[0].key != work.key:
                raise LibraryError(f"{what} could not be added to the entry {work.key}.")
            block.raw, block.work = body + trailing, reread[0]
            return reread[0]
        raise LibraryError(f"The entry {work.key} is not in references.bib.")

    def doi_map(self) -> WorksByDoi:
        """The first work with each DOI; a work is decoded only when it is looked up."""
        mapping: dict[str, Block | Work | int] = {}
        hints = self._hints()
        if hints is not None:  # each DOI's block by its place, made only when looked up
            for number, doi in enumerate(hints[1]):
                if doi:
                    mapping.setdefault(doi, number)
            return WorksByDoi(mapping, self.blocks)
        for block in self.blocks:
            if block.doi:
                mapping.setdefault(block.doi, block)
        return WorksByDoi(mapping)

    def append(self, work: Work) -> None:
        """Add an entry at the end, one blank line after what is there."""
        if self.blocks:
            last = self.blocks[-1]
            if last.raw.strip():
                last.raw = last.raw.rstrip("\n") + "\n\n"
        raw = bibtex.format_entry(work.entry_type, work.key, work.fields) + "\n"
        self.blocks.append(Block(raw=raw, line=0, work=work))

    def append_raw(self, raw: str) -> None:
        """Add a block that is not an entry (an imported @preamble, @comment or unreadable block) verbatim."""
        if self.blocks and self.blocks[-1].raw.strip():
            self.blocks[-1].raw = self.blocks[-1].raw.rstrip("\n") + "\n\n"
        self.blocks.append(Block(raw=raw.rstrip("\n") + "\n", line=0, failed=not raw.lstrip().startswith("@")))

    def replace(self, work: Work) -> None:
        """Rewrite one entry in canonical layout, in place; the text around it stays as it was."""
        number = self._number_of(work.key)
        if number is not None:
            block = self.blocks[number]
            trailing = block.raw[len(block.raw.rstrip()) :]
            block.work = work
            block.raw = bibtex.format_entry(work.entry_type, work.key, work.fields) + (trailing or "\n")
            return
        self.append(work)

    def number_blocks(self, first: int = 0) -> None:
        """Give every block from ``first`` on the line it starts on in the rendered file (those before it did not
        move): added blocks have none yet, and an entry that grew (fields added) moves the ones after it."""
        if first:
            line = self.blocks[first - 1].line + self.blocks[first - 1].newlines
        else:
            line = self.head.count("\n") + 1
        for block in self.blocks[first:]:
            block.line = line
            line += block.newlines

    def render(self) -> str:
        text = self.head + "".join(block.raw for block in self.blocks)
        return text if not text or text.endswith("\n") else text + "\n"

    def unchanged_prefix(self) -> tuple[int, int]:
        """(bytes, blocks): how much of ``source`` the blocks still hold as it is, at the same place, from the start.
        A write need only add what follows: when that is the whole source, the rest is new entries at the end."""
        if self.head.encode("utf-8") != self.source[: len(self.head.encode("utf-8"))]:
            return 0, 0
        position, start = len(self.head.encode("utf-8")), 0
        if isinstance(self.blocks, RowBlocks):  # the blocks not yet made are known to stand where they stood
            position, start = self.blocks.unchanged_from_start(self.source, position)
        for number in range(start, len(self.blocks)):
            length = self.blocks[number].unchanged_at(self.source, position)
            if length is None:
                return position, number
            position += length
        return position, len(self.blocks)


class _EachWork:
    """``BibFile.each_work``: iterable any number of times, one work held at a time; sized and sliced by the blocks
    that hold a work (a slice decodes nothing), so the index's bulk writer can give each of its processes a half."""

    def __init__(self, blocks: list[Block]):
        self._blocks = blocks  # those that hold a work (a key)

    def __len__(self) -> int:
        return len(self._blocks)

    def __getitem__(self, part: slice) -> _EachWork:
        return _EachWork(self._blocks[part])

    def __iter__(self) -> Iterator[Work]:
        for block in self._blocks:
            work = block.work_in_passing()
            if work is not None:
                yield work


class WorksByDoi(MutableMapping):
    """DOI -> work, each work taken from its block only when looked up (a block read from the derived store decodes
    its work then), so building the map for a large library costs no decoding."""

    def __init__(self, found: dict[str, Block | Work | int], blocks: RowBlocks | None = None):
        self._found = found
        self._blocks = blocks  # where a value is a number: the blocks it is the place of

    def __getitem__(self, doi: str) -> Work:
        value = self._found[doi]
        if isinstance(value, int):
            value = self._blocks[value]
        return value.work if isinstance(value, Block) else value

    def __setitem__(self, doi: str, work: Work) -> None:
        self._found[doi] = work

    def __delitem__(self, doi: str) -> None:
        del self._found[doi]

    def __contains__(self, doi) -> bool:
        return doi in self._found

    def __iter__(self):
        return iter(self._found)

    def __len__(self) -> int:
        return len(self._found)


def _with_fields(body: str, raw_fields: dict[str, str]) -> str:
    """An entry's text with ``raw_fields`` added, one a line, before its closing brace."""
    inside = body[:-1].rstrip()
    added = "".join(f"\n  {name} = {value}," for name, value in raw_fields.items())
    return inside + ("" if inside.endswith(",") else ",") + added + "\n}"


def make_work(key: str, entry_type: str, raw_fields: dict[str, str], strings: dict[str, str] | None = None) -> Work:
    return Work(
        key=key, entry_type=entry_type.lower(), fields=dict(raw_fields), text=decode_fields(raw_fields, strings)
    )


_BRACE = re.compile(r"[{}]")
_CLOSING_QUOTE = re.compile(r'(?<!\\)"')
_FIELD_START = re.compile(r"^[A-Za-z_][\w-]*\s*=")


def _text_after_value(value: str) -> str:
    """What follows the closing delimiter of a braced or quoted value: bibtexparser's trace of a missing comma."""
    value = value.strip()
    if not value or value[0] not in '{"' or "=" not in value:
        return ""
    closing = None
    if value[0] == "{":
        depth = 0
        for match in _BRACE.finditer(value):
            depth += 1 if match.group() == "{" else -1
            if depth == 0:
                closing = match.start()
                break
    else:
        match = _CLOSING_QUOTE.search(value, 1)
        closing = match.start() if match else None
    if closing is None:
        return ""
    rest = value[closing + 1 :].strip()
    return rest if _FIELD_START.match(rest) else ""


def parse_bibtex(
    text: str,
    source: str = "references.bib",
    strings: dict[str, str] | None = None,
    importing: bool = False,
    first_line: int = 1,
    seen: dict[tuple[str, str], tuple[int, str]] | None = None,
) -> BibFile:
    """Parse BibTeX text into blocks, keeping every block's raw text and reporting what could not be read.

    ``strings`` are @string macros defined elsewhere (when only some entries of a file are parsed). ``importing``
    words the problems for a file being imported, whose unreadable blocks do not reach the library, and keeps its
    @preamble and @comment blocks in ``verbatim``. A part of a larger file (``parse_bibtex_parts``) starts on line
    ``first_line`` and shares ``seen`` with the parts before it: ('entry', key lower-cased) and ('string', key) to
    the line first on and the key as written."""
    fate = "was not imported (fix it and import the file again)" if importing else "was kept as it is"
    library = _bibtexparser().parse_string(text, parse_stack=[])
    bibmodel = _bibtexparser().model
    bib = BibFile(source=text.encode("utf-8"), strings=dict(strings or {}))
    lines = text.splitlines(keepends=True)
    starts = [min(block.start_line or 0, len(lines)) for block in library.blocks]
    bib.head = "".join(lines[: starts[0]]) if starts else text
    ends = starts[1:] + [len(lines)] if starts else []
    earlier = dict(seen or {})  # the keys of the parts before: one met again there is bibtexparser's duplicate
    seen = {} if seen is None else seen
    for block in library.blocks:
        if isinstance(block, bibmodel.String) and ("string", block.key) not in earlier:
            bib.strings[block.key.lower()] = bibtex.strip_delimiters(str(block.value))
            seen[("string", block.key)] = (0, block.key)
        elif importing and isinstance(block, bibmodel.Preamble | bibmodel.ExplicitComment) and block.raw.strip():
            bib.verbatim.append(((block.start_line or 0) + first_line, block.raw))
    for block, start, end in zip(library.blocks, starts, ends, strict=True):
        line = start + first_line
        raw = "".join(lines[start:end])
        if (
            isinstance(block, bibmodel.Entry) and earlier.get(("entry", block.key.lower()), (0, None))[1] == block.key
        ) or (isinstance(block, bibmodel.String) and ("string", block.key) in earlier):
            bib.problems.append(f"{source} line {line}: the key '{block.key}' is used again; this entry {fate}.")
            bib.blocks.append(Block(raw=raw, line=line, failed=True))
        elif isinstance(block, bibmodel.Entry):
            raw_fields = {f.key.lower(): str(f.value) for f in block.fields}
            work = make_work(block.key, block.entry_type, raw_fields, bib.strings)
            if ("entry", work.key.lower()) in seen:
                bib.problems.append(
                    f"{source} line {line}: the key '{work.key}' is used again "
                    f"(first on line {seen[('entry', work.key.lower())][0]})."
                )
                bib.blocks.append(Block(raw=raw, line=line, failed=True))
                continue
            seen[("entry", work.key.lower())] = (line, work.key)
            for name, value in raw_fields.items():
                swallowed = _text_after_value(value)
                if swallowed:
                    bib.problems.append(
                        f"{source} line {line}: in '{work.key}', a comma seems to be missing after the field "
                        f"'{name}': '{swallowed[:40]}' was read as part of its value; add the comma."
                    )
            bib.blocks.append(Block(raw=raw, line=line, work=work))
        elif isinstance(block, bibmodel.DuplicateBlockKeyBlock):
            bib.problems.append(f"{source} line {line}: the key '{block.key}' is used again; this entry {fate}.")
            bib.blocks.append(Block(raw=raw, line=line, failed=True))
        elif isinstance(block, bibmodel.DuplicateFieldKeyBlock) and isinstance(
            block.ignore_error_block, bibmodel.Entry
        ):
            entry = block.ignore_error_block
            raw_fields: dict[str, str] = {}
            for item in entry.fields:
                name = item.key.lower()
                if name in raw_fields:
                    again = (item.start_line or 0) + first_line
                    bib.problems.append(
                        f"{source} line {again}: in '{entry.key}', the field '{name}' is given again; "
                        "the first value is used."
                    )
                    continue
                raw_fields[name] = str(item.value)
            work = make_work(entry.key, entry.entry_type, raw_fields, bib.strings)
            if ("entry", work.key.lower()) in seen:
                bib.problems.append(f"{source} line {line}: the key '{work.key}' is used again; this entry {fate}.")
                bib.blocks.append(Block(raw=raw, line=line, failed=True))
                continue
            seen[("entry", work.key.lower())] = (line, work.key)
            bib.blocks.append(Block(raw=raw, line=line, work=work))
        elif isinstance(block, bibmodel.ParsingFailedBlock):
            bib.problems.append(f"{source} line {line}: this block is not valid BibTeX and {fate}.")
            bib.blocks.append(Block(raw=raw, line=line, failed=True))
        else:
            bib.blocks.append(Block(raw=raw, line=line))
    return bib


_BLOCK_START = re.compile(r"[ \t]*@")  # at the start of a line
_STRING = re.compile(r"@[ \t]*string[ \t]*[{(]", re.I)
# A file whose lines end otherwise than in line feeds (a lone CR, a form feed, U+2028...) is parsed whole: its lines
# as the parse numbers them (``str.splitlines``) are not those a part would start from.
_ODD_LINE_BREAK = re.compile("\r(?!\n)|[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def parse_bibtex_parts(
    lines: Callable[[], Iterable[str]], source: str, entries: int, importing: bool = True
) -> Iterator[BibFile]:
    """``parse_bibtex(text, source, importing=importing)`` as parts of about ``entries`` blocks each, in file order:
    the same blocks, works, problems (their lines the file's) and verbatim blocks, without holding the file's text
    or its whole parse. The first part's head is the file's; the others have none (each begins with a block).
    ``lines()`` gives the file's lines afresh (with their line ends, as a file opened with ``newline=''`` gives
    them): read twice, first for the @string macros, which a whole parse reads before its entries. A part begins
    at a line that starts with ``@`` where every brace before it is closed."""
    strings, odd = _strings_and_breaks(lines(), source)
    if odd:
        yield parse_bibtex("".join(lines()), source, importing=importing)
        return
    seen: dict[tuple[str, str], tuple[int, str]] = {}
    first_line, part, begun, depth = 1, [], 0, 0
    for line in lines():
        if depth == 0 and _BLOCK_START.match(line):
            if begun >= entries:
                text = "".join(part)
                yield parse_bibtex(text, source, strings, importing, first_line=first_line, seen=seen)
                first_line, part, begun = first_line + text.count("\n"), [], 0
            begun += 1
        part.append(line)
        depth += line.count("{") - line.count("}")  # braces that never close: no more cuts, which is safe
    yield parse_bibtex("".join(part), source, strings, importing, first_line=first_line, seen=seen)


def _strings_and_breaks(lines: Iterable[str], source: str) -> tuple[dict[str, str], bool]:
    """The @string macros of the whole file (each @string block from its line to the next line that starts with
    ``@``, parsed together), and whether a line ends otherwise than in a line feed."""
    blocks, taking, odd = [], False, False
    for line in lines:
        odd = odd or bool(_ODD_LINE_BREAK.search(line))
        if _BLOCK_START.match(line):
            taking = False
        if "@" in line and _STRING.search(line):
            taking = True
        if taking:
            blocks.append(line)
    return (parse_bibtex("".join(blocks) + "\n", source).strings if blocks else {}), odd


_ENTRY_KEY = re.compile(r"^(\s*@\s*\w+\s*[{(]\s*)([^,\s]+)")


def merge_edits(original: BibFile, ours: BibFile, theirs: BibFile) -> tuple[str, list[str]]:
    """The text of ``theirs`` (the file as it is now, edited by hand since ``original`` was read) with the changes
    this command made (``ours`` is ``original`` plus those changes) applied to it, and a sentence for each change
    that could not be applied as made.

    Entries are matched by key. An entry the command changed replaces the file's one if the hand left that one as
    it was; if the hand changed it too, the hand's version stays. An entry the command added is appended, under
    another key when the hand added one with the same key meanwhile. Blocks that are not entries and that the
    command added are appended. Nothing the hand wrote is dropped."""
    before = {block.work.key.lower(): block.raw.strip() for block in original.blocks if block.work is not None}
    before_blocks = {block.raw.strip() for block in original.blocks}
    raws = [block.raw for block in theirs.blocks]
    where = {block.work.key.lower(): n for n, block in enumerate(theirs.blocks) if block.work is not None}
    present = {block.raw.strip() for block in theirs.blocks}
    taken = {key.lower() for key in theirs.keys()}
    added: list[str] = []
    notes: list[str] = []
    for block in ours.blocks:
        raw = block.raw.strip()
        if block.work is None:
            if raw and raw not in before_blocks and raw not in present:
                added.append(raw)
            continue
        key = block.work.key
        if key.lower() in before:
            if before[key.lower()] == raw:
                continue  # this command left it as it was
            number = where.get(key.lower())
            if number is None:
                notes.append(f"{key} was deleted from references.bib while this command changed it; it stays deleted.")
            elif raws[number].strip() == before[key.lower()]:
                raws[number] = raw + (raws[number][len(raws[number].rstrip()) :] or "\n")
            else:
                notes.append(f"{key} was edited in references.bib while this command changed it; your edit was kept.")
            continue
        if raw in present:
            continue  # the same entry, added by hand too
        if key.lower() in taken:
            other = unique_key(key, taken)
            notes.append(f"references.bib gained another entry {key} meanwhile; the new work was added as {other}.")
            raw = _ENTRY_KEY.sub(lambda match, other=other: match.group(1) + other, raw, count=1)
            key = other
        taken.add(key.lower())
        added.append(raw)
    text = theirs.head + "".join(raws)
    for raw in added:
        text = (text.rstrip("\n") + "\n\n" if text.strip() else "") + raw + "\n"
    return (text if not text or text.endswith("\n") else text + "\n"), notes
