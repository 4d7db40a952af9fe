"""Real-world BibTeX: every one of the 353 .bib files in ../shared/test-corpora/bibtex/ (bibtex-tidy's, bibtexparser's
and others' test files) imports without a traceback, and its entries imported plus the blocks reported as unreadable
account for every entry-like block in the file."""

import io
import re
from collections import Counter
from pathlib import Path

import bibtexparser
import pytest
from bibtexparser import model as bibmodel

from evidence.errors import EvidenceError
from evidence.jobs import imports
from evidence.store.folder import Store

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "test-corpora" / "bibtex"
FILES = sorted(CORPUS.rglob("*.bib")) if CORPUS.is_dir() else []
BLOCK_PROBLEMS = (
    "was kept as it is",
    "was not imported",
    "is used again",
    "names the same field twice",
    "is not valid BibTeX",
)
FAILED = (bibmodel.ParsingFailedBlock, bibmodel.DuplicateBlockKeyBlock, bibmodel.DuplicateFieldKeyBlock)


def entry_like_blocks(path: Path) -> int | None:
    """Entries and unreadable blocks in the file as bibtexparser splits it (None if the file is not UTF-8)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return None
    library = bibtexparser.parse_string(text, parse_stack=[])
    return sum(isinstance(block, (bibmodel.Entry, *FAILED)) for block in library.blocks)


@pytest.mark.skipif(not FILES, reason="../shared/test-corpora/bibtex is not beside the checkout")
def test_every_corpus_file_imports_and_every_block_is_accounted_for(tmp_path):
    assert len(FILES) == 353
    unaccounted = []
    for number, path in enumerate(FILES):
        store = Store.init(tmp_path / f"lib{number}")
        before = store.bib_path.read_bytes()
        try:
            report = imports.import_file(store, path)
        except EvidenceError as error:  # a sentence (not UTF-8, no works...): fine, if the library is untouched
            assert str(error) and "\n" not in str(error)
            assert store.bib_path.read_bytes() == before, path
            continue
        reported = sum(any(mark in problem for mark in BLOCK_PROBLEMS) for problem in report.problems)
        expected = entry_like_blocks(path)
        if expected is not None and len(report.added) + len(report.present) + reported != expected:
            unaccounted.append(
                f"{path.relative_to(CORPUS)}: {expected} blocks, {len(report.added)} imported, "
                f"{len(report.present)} present, {reported} reported"
            )
        library = store.load_bib()
        assert len(library.works) == len(report.added), path
        assert len({work.key.lower() for work in library.works}) == len(library.works), path
    assert not unaccounted, "\n".join(unaccounted)


@pytest.mark.skipif(not FILES, reason="../shared/test-corpora/bibtex is not beside the checkout")
@pytest.mark.parametrize("part", [2_000, 2], ids=["one-part", "parts-of-two-blocks"])
def test_every_corpus_file_read_back_from_its_saved_parse_is_what_parsing_gives(tmp_path, monkeypatch, part):
    """A full parse goes to the rows a part at a time (``Store._parse_in_parts``): read back, every file is what
    one parse of it gives, its problems' line numbers included, however small the parts."""
    from evidence.files import decode_bytes
    from evidence.store import folder
    from evidence.store.bibfile import parse_bibtex
    from evidence.store.derived import DERIVED_DB

    monkeypatch.setattr(folder, "PARSE_PART", part)
    store = Store.init(tmp_path / "lib")
    saved_and_reused = 0
    for path in FILES:
        store.bib_path.write_bytes(path.read_bytes())
        (store.index_dir / DERIVED_DB).unlink(missing_ok=True)
        try:
            first = store.load_bib()
        except EvidenceError:  # not text: refused with a sentence, nothing saved
            continue
        saved = (store.index_dir / DERIVED_DB).is_file()
        expected = parse_bibtex(decode_bytes(path.read_bytes(), path), "references.bib")
        assert store.load_bib() == first == expected, path
        saved_and_reused += saved
    assert saved_and_reused > 300


def _keys_and_preambles(text: str) -> tuple[set[str], int]:
    library = bibtexparser.parse_string(text, parse_stack=[])
    keys = set()
    for block in library.blocks:
        if isinstance(block, bibmodel.Entry):
            keys.add(block.key.lower())
        elif isinstance(block, bibmodel.DuplicateFieldKeyBlock) and isinstance(
            block.ignore_error_block, bibmodel.Entry
        ):
            keys.add(block.ignore_error_block.key.lower())
    return keys, sum(isinstance(block, bibmodel.Preamble) for block in library.blocks)


@pytest.mark.skipif(not FILES, reason="../shared/test-corpora/bibtex is not beside the checkout")
def test_importing_the_whole_corpus_loses_no_key_and_no_preamble(tmp_path):
    lost_keys, lost_preambles, files = [], [], 0
    for number, path in enumerate(FILES):
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            continue
        store = Store.init(tmp_path / f"lib{number}")
        try:
            imports.import_file(store, path)
        except EvidenceError:
            continue
        files += 1
        wanted, preambles = _keys_and_preambles(text)
        library = store.load_bib()
        citable = {key.lower() for key in library.keys()}
        lost_keys.extend(f"{path.name}: {key}" for key in sorted(wanted - citable))
        kept = store.bib_path.read_text(encoding="utf-8").lower().count("@preamble")
        if kept < preambles:
            lost_preambles.append(f"{path.name}: {preambles} @preamble, {kept} kept")
    assert files > 300
    assert not lost_keys, "\n".join(lost_keys[:20])
    assert not lost_preambles, "\n".join(lost_preambles)


def _rows(store) -> tuple:
    """The saved rows of a library as a full parse of its file would write them: blocks, runs and meta."""
    import sqlite3

    from evidence.store import derived

    connection = sqlite3.connect(store.index_dir / derived.DERIVED_DB)
    try:
        meta = dict(connection.execute("SELECT name, value FROM meta WHERE name NOT IN ('signature')"))
        blocks = connection.execute("SELECT * FROM blocks ORDER BY seq").fetchall()
        runs = connection.execute("SELECT * FROM chunks ORDER BY first").fetchall()
        works = connection.execute("SELECT * FROM works ORDER BY id").fetchall()
    finally:
        connection.close()
    return meta, blocks, runs, works


def _edits(text: str, rng):
    """Hand edits of one stretch, as an editor makes them: a word changed, an entry deleted, one added in the
    middle, a comment or blank lines at the top, an entry broken, a letter changed in place."""
    starts = [m.start() for m in re.finditer(r"(?m)^@", text)]
    if len(starts) < 3:
        return []
    at = starts[rng.randrange(1, len(starts) - 1)]
    after = starts[starts.index(at) + 1]
    title = text.find("title", at, after)
    return [
        text[: title + 6] + " edited" + text[title + 6 :] if title > 0 else text[:at] + "\n" + text[at:],
        text[:at] + text[after:],
        text[:at] + "@article{handadded2026,\n  title = {Added by hand},\n  year = {2026}\n}\n\n" + text[at:],
        "% a note at the top\n" + text,
        "\n\n" + text,
        text[:at] + "@article{broken, title = {no end\n\n" + text[at:],
        _same_length_edit(text, at, after),
    ]


def _same_length_edit(text: str, at: int, after: int) -> str:
    """One letter of an entry changed for another: the file keeps its length, so every run after the edit stands
    where it stood, and only the hash of the edited one tells it apart."""
    value = text.find("=", at, after)  # a letter of the first field's value
    letter = next((n for n in range(value, after) if text[n].isascii() and text[n].isalpha()), None)
    if value < 0 or letter is None:
        return text[:at] + "\n" + text[at:]
    return text[:letter] + ("x" if text[letter] != "x" else "y") + text[letter + 1 :]


@pytest.mark.skipif(not FILES, reason="../shared/test-corpora/bibtex is not beside the checkout")
@pytest.mark.parametrize(("run", "piece"), [(512, None), (3, None), (3, 64)])
def test_reparsing_only_what_a_hand_edit_changed_gives_what_a_full_parse_gives(tmp_path, monkeypatch, run, piece):
    """Runs of 3 rows: most of these files are shorter than one run of the real size, and the runs that still
    match the file are passed over with one hash each, so that path is proved here too (the runs from the end in
    two halves at once). Pieces of 64 bytes: the runs within the file's first pieces whose digests are unchanged
    are passed over unhashed."""
    import random

    from evidence.store import derived, fingerprint, hand_edit
    from evidence.store.bibfile import parse_bibtex
    from evidence.store.fingerprint import file_fingerprint
    from evidence.store.folder import Store

    monkeypatch.setattr(derived, "CHUNK", run)
    if piece:
        monkeypatch.setattr(fingerprint, "PIECE", piece)

    rng = random.Random(11)
    reused, plain = Counter(), 0
    for path in rng.sample(FILES, 60):
        try:
            original = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        simple, edits = parse_bibtex(original, "references.bib"), _edits(original, rng)
        plain += bool(edits) and not simple.problems and not simple.strings  # every edit but the broken one is cheap
        for number, edited in enumerate(edits):
            store = Store.init(tmp_path / f"{path.stem}-{number}")
            store.bib_path.write_text(original, encoding="utf-8")
            store.load_bib()  # the saved parse of the file before the edit
            store.bib_path.write_text(edited, encoding="utf-8")
            data = edited.encode("utf-8")
            incremental = hand_edit.reparse_changed(store.index_dir, data, "references.bib", *file_fingerprint(data))
            full = parse_bibtex(edited, "references.bib")
            if incremental is None:
                continue
            reused[number] += 1
            assert (incremental.head, incremental.strings, incremental.problems) == (
                full.head,
                full.strings,
                full.problems,
            )
            assert [(b.raw, b.line, b.failed, b.work) for b in incremental.blocks] == [
                (b.raw, b.line, b.failed, b.work) for b in full.blocks
            ], f"{path.name}, edit {number}"
            again = store.load_bib()
            assert again.head + "".join(block.raw for block in again.blocks) == edited
            fresh = Store.init(tmp_path / f"{path.stem}-{number}-fresh")
            fresh.bib_path.write_text(edited, encoding="utf-8")
            fresh.load_bib()
            assert _rows(store) == _rows(fresh), f"{path.name}, edit {number}: the rows are not a full parse's"
    # the cheap path is taken wherever it can be, not only trusted when it is: a silent fall back to a full parse
    # (the rows left unusable) would pass every comparison above
    assert plain > 10 and all(reused[number] >= plain for number in (0, 1, 2, 3, 4, 6)), (plain, reused)


@pytest.mark.skipif(not FILES, reason="../shared/test-corpora/bibtex is not beside the checkout")
@pytest.mark.parametrize("entries", [1, 3])
def test_a_file_parsed_in_parts_gives_what_one_parse_gives(entries):
    """A large import parses its file in parts (``parse_bibtex_parts``); on every corpus file, cut after every
    block or every third, the parts give the blocks, works, problems (with the file's lines) and verbatim blocks of
    one parse of the whole."""
    from evidence.store.bibfile import parse_bibtex, parse_bibtex_parts

    differ = []
    for path in FILES:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            continue
        whole = parse_bibtex(text, path.name, importing=True)
        parts = list(parse_bibtex_parts(lambda text=text: io.StringIO(text, newline=""), path.name, entries))
        blocks = [block for part in parts for block in part.blocks]
        same = (
            [(b.raw, b.line, b.work, b.failed) for b in blocks]
            == [(b.raw, b.line, b.work, b.failed) for b in whole.blocks]
            and [p for part in parts for p in part.problems] == whole.problems
            and [v for part in parts for v in part.verbatim] == whole.verbatim
            and parts[0].head + "".join(b.raw for b in blocks) == text
        )
        if not same:
            differ.append(str(path.relative_to(CORPUS)))
    assert differ == []
