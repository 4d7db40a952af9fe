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
        "broken.bib line 1: this block is not valid BibTeX and was kept as it is",
    ),
    ({"lib/claims.toml": b'[claims.a]\ntext = "x\n'}, ["claims"], 3, "claims.toml is not valid TOML"),
    ({}, ["add", "10.12/abc"], 3, "'10.12/abc' is not a DOI"),
    ({}, ["search", "title:("], 3, "opens a bracket that is never closed"),
    ({}, ["show", "zzz"], 3, "No work with the key or DOI 'zzz' is in the library"),
    ({"empty.md": b""}, ["refs", "empty.md"], 0, "cites no works"),
    ({"utf16.bib": "@book{u, title={Nerve}}".encode("utf-16")}, ["import", "utf16.bib"], 0, "Imported 1 works"),
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
