"""The library folder on disk: references.bib, records/, the lock. The only module that writes the library.

Reading uses bibtexparser v2 with an empty parse stack, so values keep their delimiters and @string macros stay
unexpanded; every block keeps its raw text, and blocks we do not change are written back exactly as read (the
parser's failed blocks included, verbatim and without the warning comments bibtexparser would add). Entries the tool
creates or edits use the canonical layout of ``bibtex.format_entry``. Every write goes to a temporary file in the
same folder, is fsynced, then renamed over the old file.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import json
import logging
import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, unquote

import bibtexparser
from bibtexparser import model as bibmodel

from evidence.errors import LibraryError
from evidence.files import read_bytes_and_text, read_text, write_atomic
from evidence.model import MONTHS, Work, split_names
from evidence.store import bibtex

# bibtexparser logs every unreadable block itself; we report them as sentences with line numbers instead.
logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)

BIB_NAME = "references.bib"
RECORDS_DIR = "records"
INDEX_DIR = ".index"
EMBEDDINGS_DIR = ".embeddings"  # the optional model's vectors (evidence.meaning.embeddings): derived, never committed
CLAIMS_NAME = "claims.toml"
ARTICLES_DIR = "articles"
CONFIG_NAME = "evidence.toml"
LOCK_NAME = ".lock"
ENTRY_MAP = "entries.json"  # in INDEX_DIR: where each entry sits in references.bib, for reading a few without parsing
PARSED_BIB = "parsed-bib.json"  # in INDEX_DIR: references.bib as parsed, reused while neither it nor the parser changes
_VERBATIM = bibtex.VERBATIM_FIELDS


# ---------------------------------------------------------------------------------------------------------------------
# LaTeX -> plain text for display, search and comparison


# The escapes this tool's own writer produces (bibtex.encode_text); escaped braces become private-use placeholders
# so that the brace stripping of plain values leaves them alone.
_SIMPLE_ESCAPE = re.compile(r"\\text(?:backslash|asciitilde|braceleft|braceright)\{\}|\\[&%#$_{}]")
_ESCAPED = {
    "\\textbackslash{}": "\\",
    "\\textasciitilde{}": "\ue002",
    "\\textbraceleft{}": "\ue000",
    "\\textbraceright{}": "\ue001",
    "\\{": "\ue000",
    "\\}": "\ue001",
}


def _plain(value: str) -> str:
    text = value.replace("{", "").replace("}", "").replace("\ue000", "{").replace("\ue001", "}")
    text = text.replace("---", "\u2014").replace("--", "\u2013").replace("~", " ").replace("\ue002", "~")
    return " ".join(text.split()) if "\n\n" not in text else _keep_paragraphs(text)


def latex_to_text(value: str) -> str:
    """Plain text of a BibTeX value. Values without LaTeX commands other than escaped specials (nearly all, and
    every value this tool writes) skip pylatexenc, which costs milliseconds per value, tens on a long abstract."""
    if "\\" not in value:
        return _plain(value)
    if "\\" not in _SIMPLE_ESCAPE.sub("", value):
        return _plain(_SIMPLE_ESCAPE.sub(lambda m: _ESCAPED.get(m.group(0), m.group(0)[-1]), value))
    try:
        text = latex_converter().latex_to_text(value)
    except Exception:  # noqa: BLE001 - pylatexenc raises assorted errors on odd input; fall back to the raw text
        text = value.replace("{", "").replace("}", "")
    return " ".join(text.split()) if "\n\n" not in text else _keep_paragraphs(text)


@functools.cache
def latex_converter():
    """pylatexenc's converter, taught the two brace macros this tool's writer uses for a lone brace."""
    from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

    context = get_default_latex_context_db()
    context.add_context_category(
        "evidence", prepend=True, macros=[MacroTextSpec("textbraceleft", "{"), MacroTextSpec("textbraceright", "}")]
    )
    return LatexNodes2Text(latex_context=context, math_mode="verbatim", strict_latex_spaces=False)


def _keep_paragraphs(text: str) -> str:
    return "\n\n".join(" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip())


def _names_to_text(raw: str) -> str:
    """Decode a name list but keep the braces that group: an organisation as one name, a part that holds a comma or
    ' and ' ('{Smith, Jr}') as one part, so ``parse_names`` reads the text as the same people."""
    return " and ".join(_name_to_text(name) for name in split_names(raw))


def _name_to_text(name: str) -> str:
    if name.startswith("{") and name.endswith("}") and _outer_group_end(name, 0) == len(name) - 1:
        return "{" + latex_to_text(name[1:-1]).replace("{", "").replace("}", "") + "}"
    if "{" not in name or not re.search(r"\{[^{}]*(?:,|\s[Aa][Nn][Dd]\s)[^{}]*\}", name):
        return latex_to_text(name)  # no group that holds a comma or ' and ': nothing to keep
    pieces, position = [], 0
    while position < len(name):
        start = name.find("{", position)
        while start > 0 and name[start - 1] == "\\":  # an escaped brace, not a group
            start = name.find("{", start + 1)
        if start < 0:
            rest = name[position:]
            pieces.append((" " if rest.startswith(" ") else "") + latex_to_text(rest))
            break
        end = _outer_group_end(name, start)
        if start > position:
            outside = name[position:start]
            pieces.append(latex_to_text(outside) + (" " if outside.endswith(" ") else ""))
        inner = latex_to_text(name[start + 1 : end]).replace("{", "").replace("}", "")
        pieces.append("{" + inner + "}" if "," in inner or " and " in f" {inner.lower()} " else inner)
        position = end + 1
    return " ".join("".join(pieces).split())


def _outer_group_end(text: str, start: int) -> int:
    """Index of the brace closing the group opened at ``start`` (escaped braces ignored), or the last index."""
    depth, position = 0, start
    while position < len(text):
        char = text[position]
        if char == "\\":
            position += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return position
        position += 1
    return len(text) - 1


def decode_fields(raw_fields: dict[str, str], strings: dict[str, str] | None = None) -> dict[str, str]:
    """Plain-text values for a raw field mapping (macros resolved, months as numbers)."""
    strings = strings or {}
    text = {}
    for name, raw in raw_fields.items():
        value = raw.strip()
        if value and value[0] not in '{"':
            lowered = value.lower()
            if name == "month" and lowered[:3] in MONTHS:
                text[name] = str(MONTHS.index(lowered[:3]) + 1)
                continue
            value = strings.get(lowered, value) if not value.isdigit() else value
        value = bibtex.strip_delimiters(value)
        if name in _VERBATIM:
            text[name] = value.replace("{", "").replace("}", "").strip()
        elif name in ("author", "editor"):
            text[name] = _names_to_text(value)
        else:
            text[name] = latex_to_text(value)
    if "doi" in text:
        text["doi"] = _clean_doi_field(text["doi"])
    return text


def _clean_doi_field(value: str) -> str:
    value = value.strip()
    for prefix in ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:"):
        if value.lower().startswith(prefix):
            value = value[len(prefix) :]
    return value  # as written: Work.doi compares without case, lists show the publisher's spelling


# ---------------------------------------------------------------------------------------------------------------------
# references.bib as a sequence of blocks


@dataclass
class Block:
    """One top-level block of the file: an entry (with its Work) or anything else, kept as raw text."""

    raw: str  # the block's exact text in the file, up to the next block (so the whitespace after it too)
    line: int
    work: Work | None = None
    failed: bool = False


@dataclass
class BibFile:
    """references.bib in memory. Mutations mark the file dirty; ``Store.save_bib`` writes it back."""

    blocks: list[Block] = field(default_factory=list)
    strings: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    source_text: str = ""
    head: str = ""  # whatever precedes the first block (blank lines)

    @property
    def works(self) -> list[Work]:
        return [block.work for block in self.blocks if block.work is not None]

    def keys(self) -> set[str]:
        """Every key a manuscript may cite: the entries' keys and their aliases (``ids``)."""
        return {key for work in self.works for key in (work.key, *work.aliases)}

    def by_key(self, key: str) -> Work | None:
        """The work with this key, else the work that keeps it as an alias."""
        lowered = key.lower()
        for work in self.works:
            if work.key.lower() == lowered:
                return work
        for work in self.works:
            if any(alias.lower() == lowered for alias in work.aliases):
                return work
        return None

    def add_alias(self, work: Work, alias: str) -> Work:
        """Keep ``alias`` as another key of ``work`` (its ``ids`` field), changing only that entry's text: the
        field is added before the closing brace, or its value extended, so the rest of the entry stays as written."""
        for block in self.blocks:
            if block.work is None or block.work.key != work.key:
                continue
            aliases = ", ".join(dict.fromkeys([*work.aliases, alias]))
            body = block.raw.rstrip()
            trailing = block.raw[len(body) :] or "\n"
            if "ids" in work.fields:
                value = "{" + aliases + "}"
                body = re.sub(
                    r"(?im)^(\s*ids\s*=\s*)(\{[^{}\n]*\}|\"[^\"\n]*\")",
                    lambda m, value=value: m.group(1) + value,
                    body,
                    count=1,
                )
            else:
                inside = body[:-1].rstrip()
                body = inside + ("" if inside.endswith(",") else ",") + f"\n  ids = {{{aliases}}},\n}}"
            reread = parse_bibtex(body + "\n", strings=self.strings).works
            if len(reread) != 1 or reread[0].key != work.key:
                raise LibraryError(f"The alias {alias} could not be added to the entry {work.key}.")
            block.raw, block.work = body + trailing, reread[0]
            return reread[0]
        raise LibraryError(f"The entry {work.key} is not in references.bib.")

    def doi_map(self) -> dict[str, Work]:
        mapping: dict[str, Work] = {}
        for work in self.works:
            if work.doi:
                mapping.setdefault(work.doi, work)
        return mapping

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
        for block in self.blocks:
            if block.work is not None and block.work.key == work.key:
                trailing = block.raw[len(block.raw.rstrip()) :]
                block.work = work
                block.raw = bibtex.format_entry(work.entry_type, work.key, work.fields) + (trailing or "\n")
                return
        self.append(work)

    def render(self) -> str:
        text = self.head + "".join(block.raw for block in self.blocks)
        return text if not text or text.endswith("\n") else text + "\n"


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
    text: str, source: str = "references.bib", strings: dict[str, str] | None = None, importing: bool = False
) -> BibFile:
    """Parse BibTeX text into blocks, keeping every block's raw text and reporting what could not be read.

    ``strings`` are @string macros defined elsewhere (when only some entries of a file are parsed). ``importing``
    words the problems for a file being imported, whose unreadable blocks do not reach the library."""
    fate = "was not imported (fix it and import the file again)" if importing else "was kept as it is"
    library = bibtexparser.parse_string(text, parse_stack=[])
    bib = BibFile(source_text=text, strings=dict(strings or {}))
    lines = text.splitlines(keepends=True)
    starts = [min(block.start_line or 0, len(lines)) for block in library.blocks]
    bib.head = "".join(lines[: starts[0]]) if starts else text
    ends = starts[1:] + [len(lines)] if starts else []
    for block in library.blocks:
        if isinstance(block, bibmodel.String):
            bib.strings[block.key.lower()] = bibtex.strip_delimiters(str(block.value))
    seen: dict[str, int] = {}
    for block, start, end in zip(library.blocks, starts, ends, strict=True):
        line = start + 1
        raw = "".join(lines[start:end])
        if isinstance(block, bibmodel.Entry):
            raw_fields = {f.key.lower(): str(f.value) for f in block.fields}
            work = make_work(block.key, block.entry_type, raw_fields, bib.strings)
            if work.key.lower() in seen:
                bib.problems.append(
                    f"{source} line {line}: the key '{work.key}' is used again "
                    f"(first on line {seen[work.key.lower()]})."
                )
                bib.blocks.append(Block(raw=raw, line=line, failed=True))
                continue
            seen[work.key.lower()] = line
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
                    again = (item.start_line or 0) + 1
                    bib.problems.append(
                        f"{source} line {again}: in '{entry.key}', the field '{name}' is given again; "
                        "the first value is used."
                    )
                    continue
                raw_fields[name] = str(item.value)
            work = make_work(entry.key, entry.entry_type, raw_fields, bib.strings)
            if work.key.lower() in seen:
                bib.problems.append(f"{source} line {line}: the key '{work.key}' is used again; this entry {fate}.")
                bib.blocks.append(Block(raw=raw, line=line, failed=True))
                continue
            seen[work.key.lower()] = line
            bib.blocks.append(Block(raw=raw, line=line, work=work))
        elif isinstance(block, bibmodel.ParsingFailedBlock):
            bib.problems.append(f"{source} line {line}: this block is not valid BibTeX and {fate}.")
            bib.blocks.append(Block(raw=raw, line=line, failed=True))
        else:
            bib.blocks.append(Block(raw=raw, line=line))
    return bib


def verbatim_blocks(text: str) -> list[tuple[int, str]]:
    """(line, raw text) of the blocks of a BibTeX file that are not entries but must survive an import: @preamble
    (a LaTeX user's macros) and @comment. Taken from bibtexparser's own raw text, so blocks that share a line are
    not lost. Unreadable blocks are not among them: copied in, they would make the library unreadable to BibTeX."""
    found = []
    for block in bibtexparser.parse_string(text, parse_stack=[]).blocks:
        if isinstance(block, bibmodel.Preamble | bibmodel.ExplicitComment) and block.raw.strip():
            found.append(((block.start_line or 0) + 1, block.raw))
    return found


def _saved_parse_chunks(about: dict, blocks: list[Block], per_chunk: int = 2000):
    """``about`` with its "blocks" as JSON, a few thousand blocks at a time: the whole text of a 100,000-entry parse
    (300 MB), and its encoding, would be in memory at once."""
    yield json.dumps(about, ensure_ascii=False)[:-1].encode("utf-8") + b', "blocks": ['
    for start in range(0, len(blocks), per_chunk):
        rows = [
            [len(b.raw), b.line, b.failed, None if b.work is None else _saved_work(b.work)]
            for b in blocks[start : start + per_chunk]
        ]
        yield (b", " if start else b"") + json.dumps(rows, ensure_ascii=False)[1:-1].encode("utf-8")
    yield b"]}"


def _saved_work(work: Work) -> list:
    return [work.key, work.entry_type, work.fields, work.text]


def _bib_from_saved(data: dict, text: str) -> BibFile:
    """The BibFile ``parse_bibtex`` gave for ``text``, from what ``Store._save_parse`` kept: each block's raw text is
    cut from ``text`` again by its length."""
    bib = BibFile(source_text=text, strings=data["strings"], problems=data["problems"], head=text[: data["head"]])
    position = data["head"]
    for size, line, failed, saved in data["blocks"]:
        work = None if saved is None else Work(key=saved[0], entry_type=saved[1], fields=saved[2], text=saved[3])
        bib.blocks.append(Block(raw=text[position : position + size], line=line, work=work, failed=failed))
        position += size
    if position != len(text):
        raise ValueError("the saved blocks do not cover the file")
    return bib


@functools.cache
def _parser_version() -> str:
    """Changes with the code that turns BibTeX into works (this module, ``bibtex``, ``model``, bibtexparser and
    pylatexenc), so a saved parse is never reused by code that would parse differently."""
    from importlib import metadata

    from evidence import model

    digest = hashlib.blake2b(digest_size=10)
    for module in (bibtex, model):
        digest.update(Path(module.__file__).read_bytes())
    digest.update(Path(__file__).read_bytes())
    for package in ("bibtexparser", "pylatexenc"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            digest.update(metadata.version(package).encode())
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------------------------------
# The library folder


def record_filename(doi: str) -> str:
    """A file name that maps one-to-one to a DOI: lower-cased and percent-encoded."""
    return quote(doi.lower(), safe="-._()") + ".json"


def doi_from_record_filename(name: str) -> str:
    return unquote(name[: -len(".json")])


class Store:
    """A library folder. Paths, reading and writing; no decisions about what to write."""

    def __init__(self, root: Path):
        self.root = Path(root)

    make_work = staticmethod(make_work)

    # Paths --------------------------------------------------------------------------------------------------------
    @property
    def bib_path(self) -> Path:
        return self.root / BIB_NAME

    @property
    def records_dir(self) -> Path:
        return self.root / RECORDS_DIR

    @property
    def index_dir(self) -> Path:
        return self.root / INDEX_DIR

    @property
    def embeddings_dir(self) -> Path:
        return self.root / EMBEDDINGS_DIR

    @property
    def claims_path(self) -> Path:
        return self.root / CLAIMS_NAME

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME

    def read_claims_text(self) -> str:
        """The text of claims.toml, or '' when the library has none yet."""
        return read_text(self.claims_path, "claim ledger") if self.claims_path.exists() else ""

    def link_supports(
        self, claim_id: str, keys: list[str], stance: str, passages: dict[str, tuple[str, str]], claim_text: str = ""
    ) -> list[str]:
        """Add supports to a claim in claims.toml, keeping the user's comments and layout (tomlkit); atomic.

        ``passages`` maps a key to (passage, locator). Every shape TOML allows for the ledger is kept: tables and
        arrays of tables, inline tables, an inline array of supports. The new text is read back before it replaces
        the old, so the command never reports a link it wrote as invalid TOML. Returns the keys newly linked (a
        key already linked to the claim is left as it is)."""
        import tomlkit
        from tomlkit.items import AoT, Array, InlineTable

        text = self.read_claims_text()
        try:
            document = tomlkit.parse(text)
        except Exception as error:  # noqa: BLE001 - tomlkit's parse errors share no public base class
            raise LibraryError(f"claims.toml cannot be read: {error}.") from None
        claims = document.setdefault("claims", tomlkit.table(is_super_table=True))
        inline = isinstance(claims, InlineTable)
        if claim_id not in claims:
            entry = tomlkit.inline_table() if inline else tomlkit.table()
            entry["text"] = claim_text or claim_id
            claims[claim_id] = entry
        claim = claims[claim_id]
        if "support" not in claim:
            claim["support"] = tomlkit.array() if inline or isinstance(claim, InlineTable) else tomlkit.aot()
        supports = claim["support"]
        if not isinstance(supports, AoT | Array):
            raise LibraryError(
                f"claims.toml: claims.{claim_id}.support is not a list of supports, so nothing was linked."
            )
        present = {str(s.get("key", "")).lower() for s in supports if hasattr(s, "get")}
        added = []
        for key in keys:
            if key.lower() in present:
                continue
            support = tomlkit.table() if isinstance(supports, AoT) else tomlkit.inline_table()
            support["key"] = key
            support["stance"] = stance
            passage, locator = passages.get(key, ("", ""))
            if passage:
                support["passage"] = passage
                support["locator"] = locator
            supports.append(support)
            added.append(key)
        if added:
            written = tomlkit.dumps(document)
            try:
                linked = tomllib.loads(written)["claims"][claim_id]["support"]
            except (tomllib.TOMLDecodeError, KeyError, TypeError) as error:
                raise LibraryError(
                    f"claims.toml could not be updated in its present layout ({error}); nothing was written."
                ) from None
            if not all(any(s.get("key") == key for s in linked) for key in added):
                raise LibraryError("claims.toml could not be updated in its present layout; nothing was written.")
            write_atomic(self.claims_path, written.encode("utf-8"))
        return added

    def article_texts(self) -> dict[str, str]:
        """Every article in articles/ (Markdown or text) by file name."""
        folder = self.root / ARTICLES_DIR
        if not folder.is_dir():
            return {}
        return {
            path.name: read_text(path, "article")
            for path in sorted(folder.iterdir())
            if path.suffix.lower() in (".md", ".markdown", ".txt") and path.is_file()
        }

    def read_config_text(self) -> str:
        """The text of evidence.toml, or '' when the library has none."""
        return read_text(self.config_path, "settings file") if self.config_path.exists() else ""

    # Creation and checks ------------------------------------------------------------------------------------------
    @classmethod
    def init(cls, root: Path) -> Store:
        """Create an empty library (or complete a partial one); never touch existing files."""
        root = Path(root)
        try:
            root.mkdir(parents=True, exist_ok=True)
            (root / RECORDS_DIR).mkdir(exist_ok=True)
            (root / ARTICLES_DIR).mkdir(exist_ok=True)
        except PermissionError:
            raise LibraryError(f"Cannot create the library folder {root} (permission denied).") from None
        except FileExistsError:
            raise LibraryError(f"{root} exists and is not a folder.") from None
        store = cls(root)
        if not store.bib_path.exists():
            write_atomic(store.bib_path, b"")
        gitignore = root / ".gitignore"
        if not gitignore.exists():
            write_atomic(gitignore, f"{INDEX_DIR}/\n{EMBEDDINGS_DIR}/\n{LOCK_NAME}\n".encode())
        return store

    def require(self) -> Store:
        """Fail with a sentence unless this folder is a library."""
        if not self.root.is_dir():
            raise LibraryError(
                f"There is no library at {self.root}; create one with 'evidence init {self.root}' or pass --library."
            )
        if not self.bib_path.exists():
            raise LibraryError(f"{self.root} is not a library: it has no {BIB_NAME} (run 'evidence init {self.root}').")
        return self

    # Lock ---------------------------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def locked(self, on_wait=None, timeout: float = 600.0):
        """Hold the library's write lock. The OS drops it when a process dies, so a killed command never blocks."""
        import filelock  # here: read-only commands (search above all) do not pay 20 ms to import it

        lock = filelock.FileLock(str(self.root / LOCK_NAME))
        try:
            try:
                lock.acquire(timeout=0.2)
            except filelock.Timeout:
                if on_wait:
                    on_wait("Another evidence command is writing to this library; waiting for it to finish.")
                lock.acquire(timeout=timeout)
        except filelock.Timeout:
            raise LibraryError(
                f"The library {self.root} stayed locked by another command for {timeout:.0f} s."
            ) from None
        except PermissionError:
            raise LibraryError(f"The library {self.root} is read-only, so it cannot be changed.") from None
        try:
            yield self
        finally:
            lock.release()

    # references.bib -----------------------------------------------------------------------------------------------
    def load_bib(self) -> BibFile:
        """references.bib, parsed; from the saved parse while the file's bytes (by their hash) and the parsing code
        are unchanged: parsing 10,000 entries took 1.5 s, a cost every command that loads the library paid again.
        The hash rather than the file's size and time: an edit that keeps the size within the clock's resolution
        would pass for no edit."""
        self.require()
        data, text = read_bytes_and_text(self.bib_path, "library file")
        fingerprint = hashlib.blake2b(data, digest_size=16).hexdigest()
        bib = self._saved_parse(fingerprint, text)
        if bib is None:
            bib = parse_bibtex(text, BIB_NAME)
            self._save_parse(bib, fingerprint)
        return bib

    def _saved_parse(self, fingerprint: str, text: str) -> BibFile | None:
        """The saved parse if it is of these bytes by this code; its first line says which, so a stale one is known
        without reading the rest (300 MB at 100,000 entries)."""
        wanted = {"file": fingerprint, "parser": _parser_version(), "length": len(text)}
        try:
            with open(self.index_dir / PARSED_BIB, "rb") as handle:
                if json.loads(handle.readline()) != wanted:
                    return None
                return _bib_from_saved(json.loads(handle.read()), text)
        except (OSError, ValueError, KeyError, TypeError, IndexError):  # absent, stale or damaged: parse again
            return None

    def _save_parse(self, bib: BibFile, fingerprint: str) -> None:
        """Derived data like the index: written atomically, failures ignored (the next read parses again)."""
        if bib.head + "".join(block.raw for block in bib.blocks) != bib.source_text:
            return  # the blocks do not tile the text, so they could not be cut from it again
        of = {"file": fingerprint, "parser": _parser_version(), "length": len(bib.source_text)}
        about = {"head": len(bib.head), "strings": bib.strings, "problems": bib.problems}
        chunks = itertools.chain([json.dumps(of).encode() + b"\n"], _saved_parse_chunks(about, bib.blocks))
        with contextlib.suppress(OSError, LibraryError):
            self.index_dir.mkdir(exist_ok=True)
            write_atomic(self.index_dir / PARSED_BIB, chunks)

    def save_bib(self, bib: BibFile) -> bool:
        """Write the file if its text changed; True when something was written."""
        text = bib.render()
        try:
            if self.bib_path.read_text(encoding="utf-8") == text:
                return False
        except (OSError, UnicodeDecodeError):
            pass
        write_atomic(self.bib_path, text.encode("utf-8"))
        bib.source_text = text
        return True

    # Reading a few entries without parsing the whole file ---------------------------------------------------------
    def bib_signature(self, handle=None) -> list[int] | None:
        """Size, modification time and inode of references.bib: any edit or atomic replacement changes one of them."""
        try:
            status = os.fstat(handle.fileno()) if handle is not None else self.bib_path.stat()
        except OSError:
            return None
        return [status.st_size, status.st_mtime_ns, status.st_ino]

    def remember_entries(self, bib: BibFile, signature: list[int] | None) -> None:
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
            self.index_dir.mkdir(exist_ok=True)
            write_atomic(self.index_dir / ENTRY_MAP, json.dumps(data, ensure_ascii=False).encode("utf-8"))

    def has_entry_map(self) -> bool:
        return (self.index_dir / ENTRY_MAP).is_file()

    def works_by_key(self, keys: list[str]) -> dict[str, Work] | None:
        """The works with these keys, read from their recorded spans; None unless the record still describes the
        file (same signature) and every key is found where it says."""
        try:
            data = json.loads((self.index_dir / ENTRY_MAP).read_text(encoding="utf-8"))
            with open(self.bib_path, "rb") as handle:
                if data.get("signature") != self.bib_signature(handle):
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

    # records/ -----------------------------------------------------------------------------------------------------
    def record_path(self, doi: str) -> Path:
        return self.records_dir / record_filename(doi)

    def read_record(self, doi: str) -> dict | None:
        """The stored Crossref envelope ({doi, fetched, source, message}) for a DOI, or None."""
        path = self.record_path(doi)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return None  # a damaged record is treated as absent and fetched again

    def write_record(self, doi: str, message: dict, source: str, fetched: datetime | None = None) -> None:
        self.records_dir.mkdir(exist_ok=True)
        envelope = {
            "doi": doi,
            "fetched": (fetched or datetime.now(UTC)).isoformat(timespec="seconds"),
            "source": source,
            "message": message,
        }
        write_atomic(self.record_path(doi), json.dumps(envelope, ensure_ascii=False, indent=1, sort_keys=True).encode())

    def record_dois(self) -> set[str]:
        if not self.records_dir.is_dir():
            return set()
        return {doi_from_record_filename(p.name) for p in self.records_dir.glob("*.json")}
