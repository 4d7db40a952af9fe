"""The README's bad-input table, row by row: each bad input gets its one-line message and exit code, no traceback,
and the library is left as it was."""

import pytest

ROWS = [
    # (files to create, arguments, exit code, text the message must contain)
    ({"bin.bib": b"\x00\x01\x02binary\xff"}, ["import", "bin.bib"], 3, "is a binary file, not text"),
    (
        {"cp.bib": "@article{a, title={Caf\u00e9}}".encode("cp1252")},
        ["import", "cp.bib"],
        3,
        "is not UTF-8: byte 0xE9 on line 1 cannot be read (it looks like Windows-1252",
    ),
    ({}, ["import", "nothere.bib"], 3, "does not exist"),
    (
        {"broken.bib": b"@article{a, title={x}\n@book{b, title={y}}\n"},
        ["import", "broken.bib"],
        1,
        "broken.bib line 1: this block is not valid BibTeX and was not imported (fix it and import the file again)",
    ),
    ({"lib/claims.toml": b'[claims.a]\ntext = "x\n'}, ["claims"], 3, "claims.toml is not valid TOML"),
    ({}, ["add", "10.12/abc"], 3, "'10.12/abc' is not a DOI"),
    ({}, ["search", "title:("], 3, "opens a bracket that is never closed"),
    ({}, ["show", "zzz"], 3, "No work with the key, DOI or PMID 'zzz' is in the library"),
    ({"empty.md": b""}, ["refs", "empty.md"], 0, "cites no works"),
    ({"utf16.bib": "@book{u, title={Nerve}}".encode("utf-16")}, ["import", "utf16.bib"], 0, "Imported 1 works"),
    ({"a.md": b"See [@x]."}, ["refs", "--style", "no-such-style", "a.md"], 2, "no citation style called 'no-such"),
    (
        {"huge.md": b"See [@x]. " * 1_100_000},
        ["report", "huge.md"],
        3,
        "is 11.0 MB, more than the 10 MB evidence reads",
    ),
]


@pytest.mark.parametrize(("files", "arguments", "code", "message"), ROWS, ids=[" ".join(r[1]) for r in ROWS])
def test_bad_input_gets_a_sentence_and_its_exit_code(run, tmp_path, files, arguments, code, message):
    run("init", tmp_path / "lib")
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    before = (tmp_path / "lib" / "references.bib").read_bytes()
    result = run("--library", tmp_path / "lib", "--offline", *arguments)
    assert result.exit_code == code
    assert message in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    if code == 3:
        assert (tmp_path / "lib" / "references.bib").read_bytes() == before


def test_no_library_tells_how_to_make_one(run, tmp_path):
    result = run("--library", tmp_path / "missing", "search", "x")
    assert result.exit_code == 3
    assert result.stderr == (
        f"error: There is no library at {tmp_path / 'missing'}; create one with "
        f"'evidence init {tmp_path / 'missing'}' or pass --library.\n"
    )


GOOD_BIB = b"@article{kept, title={Already here}, year={2020}}\n"


def _library_with_one_entry(run, tmp_path):
    run("init", tmp_path / "lib")
    (tmp_path / "lib" / "references.bib").write_bytes(GOOD_BIB)
    (tmp_path / "new.bib").write_bytes(b"@article{new, title={Nerve repair}, year={2021}}\n")
    return tmp_path / "lib"


def test_a_full_disk_leaves_the_library_as_it_was(run, tmp_path, monkeypatch):
    import errno
    import os

    library = _library_with_one_entry(run, tmp_path)
    real_fdopen = os.fdopen

    class FullDisk:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("evidence.files.os.fdopen", lambda fd, mode: FullDisk(real_fdopen(fd, mode)))
    result = run("--library", library, "--offline", "import", tmp_path / "new.bib")
    assert result.exit_code == 3
    assert "No space left on device; the old file is unchanged." in result.stderr
    assert "Traceback" not in result.stderr
    assert (library / "references.bib").read_bytes() == GOOD_BIB
    assert not [p for p in library.iterdir() if p.name.endswith(".tmp")]


def test_a_read_only_library_is_said_to_be_read_only(run, tmp_path, monkeypatch):
    library = _library_with_one_entry(run, tmp_path)

    def denied(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    # chmod cannot stop root (CI runs as root), so the lock file's creation is refused as a read-only folder would.
    monkeypatch.setattr("filelock.FileLock.acquire", denied)
    result = run("--library", library, "--offline", "import", tmp_path / "new.bib")
    assert result.exit_code == 3
    assert "is read-only, so it cannot be changed" in result.stderr
    assert (library / "references.bib").read_bytes() == GOOD_BIB
