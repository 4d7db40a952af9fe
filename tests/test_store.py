"""references.bib is the user's file: rewrites keep what the tool did not change, byte for byte."""

import os
from pathlib import Path

import pytest
from aging import written_earlier
from bibcheck import read_both
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence.jobs import common
from evidence.store import bibtex
from evidence.store.bibfile import parse_bibtex
from evidence.store.folder import Store

USER_FILE = """% My nerve-pain reading list, kept by hand.
@string{fcn = "Frontiers in Cellular Neuroscience"}

@Article{Yang2023,
    Author = {Yang, Yongke and Rao, Chang},
    Title  = {Application and underlying mechanism of acupuncture},
    Journal = fcn,
    Year = 2023, Month = oct,
    mynotes = {ask the clinic about this},
}

@comment{entries below came from an old export}
@misc{broken, title = {no closing brace

@book{ok2020,
  title = {Still here},
  year = {2020},
}
"""


def test_an_untouched_file_is_written_back_byte_for_byte(tmp_path):
    store = Store.init(tmp_path / "lib")
    store.bib_path.write_text(USER_FILE)
    bib = store.load_bib()
    assert bib.render() == USER_FILE
    assert store.save_bib(bib) is False


def test_adding_a_work_keeps_comments_strings_unknown_fields_and_unreadable_blocks(tmp_path):
    store = Store.init(tmp_path / "lib")
    store.bib_path.write_text(USER_FILE)
    bib = store.load_bib()
    assert any("line" in problem for problem in bib.problems), "the unreadable block is reported with its line"
    work = common.new_work(
        store,
        "article",
        {"title": "Nerve glides", "year": "2021", "author": "Lee, Ann"},
        {k.lower() for k in bib.keys()},
    )
    bib.append(work)
    store.save_bib(bib)
    text = store.bib_path.read_text()
    assert text.startswith(USER_FILE.rstrip("\n"))
    assert "@misc{broken, title = {no closing brace" in text
    assert "mynotes = {ask the clinic about this}" in text and "Journal = fcn" in text
    assert text.endswith(
        "@article{lee2021nerve,\n  author = {Lee, Ann},\n  title = {Nerve glides},\n  year = {2021},\n}\n"
    )


def test_string_macros_are_resolved_for_search_but_kept_in_the_file(tmp_path):
    bib = parse_bibtex(USER_FILE)
    work = bib.by_key("yang2023")
    assert work.get("journal") == "Frontiers in Cellular Neuroscience"
    assert work.fields["journal"] == "fcn"
    assert work.get("month") == "10"


def test_duplicate_keys_are_reported_not_merged():
    text = "@article{a, title={One}}\n\n@article{a, title={Two}}\n"
    bib = parse_bibtex(text)
    assert bib.render() == text
    assert any("used again" in problem for problem in bib.problems)


def test_special_characters_are_escaped_and_read_back_identically_by_two_parsers(tmp_path):
    store = Store.init(tmp_path / "lib")
    bib = store.load_bib()
    fields = {
        "title": "Pain & mood: 50% better with under_scores, #1 $ cost",
        "author": "Ó Súilleabháin, Seán and {Victoria Pain Clinic}",
        "journal": "J. Pain & Relief",
        "year": "2024",
        "abstract": "First paragraph.\n\nSecond paragraph with \\ backslash.",
    }
    bib.append(common.new_work(store, "article", fields, set()))
    store.save_bib(bib)
    both = read_both(store.bib_path)
    entry = next(iter(both.values()))
    reread = store.load_bib().works[0]
    assert reread.get("title") == fields["title"]
    assert reread.get("journal") == "J. Pain & Relief"
    assert reread.get("abstract") == fields["abstract"]
    assert entry["year"] == "2024"


def test_the_embedded_library_reads_the_same_in_both_parsers_and_is_canonical():
    path = Path(__file__).resolve().parent.parent / "library" / "references.bib"
    entries = read_both(path)
    assert set(entries) == {
        "mehta2013neuropathic",
        "yang2023application",
        "fan2017acupuncture",
        "dorsher2011acupuncture",
        "hamvas2023acupuncture",
    }
    bib = parse_bibtex(path.read_text())
    assert not bib.problems
    assert {w.doi for w in bib.works} == {
        "10.1310/sci1901-61",
        "10.3389/fncel.2023.1253438",
        "10.1016/s2095-4964(17)60378-9",
        "10.1093/ecam/nep010",
        "10.1016/j.ctim.2022.102905",
    }
    assert all(w.get("annotation") for w in bib.works)


TRAPS = """@string{jn = "Journal of Nerve Pain"}

@article{comma2020,
  title = {Nerve pain}
  year = {2020},
  journal = jn,
}

@misc{broken, title = {never closed

@book{fine2021,
  title = {Still here},
  year = {2021},
}
"""


def test_bibtexparsers_traps_survive_several_round_trips(run, tmp_path, crossref):
    """Failed blocks are not re-wrapped, @string macros not expanded, a missing comma is reported, not hidden."""
    library = tmp_path / "lib"
    run("init", library)
    (library / "references.bib").write_text(TRAPS)
    dois = ["10.1002/jor.1100150407", "10.1038/srep16696", "10.1111/ele.14024"]
    for doi in dois:
        result = run("--library", library, "add", doi)
        assert result.exit_code == 0, result.stderr
        assert "a comma seems to be missing after the field 'title'" in result.stderr
        assert "this block is not valid BibTeX and was kept as it is" in result.stderr
    text = (library / "references.bib").read_text()
    assert text.startswith(TRAPS.rstrip("\n"))  # the user's part, byte for byte, after three rewrites
    assert text.count("% WARNING") == 0 and text.count("@misc{broken") == 1
    assert "journal = jn," in text and text.count("@string{jn") == 1


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab Z09&%#$_{}\\~-é.,")), max_size=40))
def test_values_this_tool_writes_decode_without_pylatexenc_to_the_same_text(text):
    from evidence.store import latex as store

    encoded = bibtex.encode_text(text)
    fast = store.latex_to_text(encoded)
    slow = " ".join(store.latex_converter().latex_to_text(encoded).split())
    assert fast == slow


def test_a_second_writer_waits_with_a_message_gives_up_in_time_and_a_killed_holder_blocks_nothing(tmp_path):
    import subprocess
    import sys

    import pytest

    from evidence.errors import LibraryError

    store = Store.init(tmp_path / "lib")
    hold = (
        "import filelock, sys, time; lock = filelock.FileLock(sys.argv[1]); lock.acquire(); print('held', flush=True)"
    )
    hold += "; time.sleep(60)"
    holder = subprocess.Popen(
        [sys.executable, "-c", hold, str(store.root / ".lock")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        messages = []
        with (
            pytest.raises(LibraryError, match="stayed locked by another command for 1 s"),
            store.locked(on_wait=messages.append, timeout=1.0),
        ):
            pass
        assert messages == ["Another evidence command is writing to this library; waiting for it to finish."]
    finally:
        holder.kill()
        holder.wait()
    with store.locked(timeout=2.0):  # the kernel released the dead holder's lock
        pass


_PROSE = st.text(alphabet=st.sampled_from(list("abcXYZ 09&%#$_{}\\~-éü.,;:'\"()[]<>")), min_size=1, max_size=40)
_NAME = st.text(alphabet=st.sampled_from(list("abcdefXYZéü'-")), min_size=1, max_size=10).filter(
    lambda n: n.strip("-'") == n and "--" not in n  # '--' is LaTeX's en dash, in names as anywhere
)


def _prose():
    return _PROSE.map(lambda t: " ".join(t.split())).filter(lambda t: t and "--" not in t)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "title": _prose(),
                "journal": _prose(),
                "abstract": _prose(),
                "year": st.from_regex(r"(19|20)[0-9]{2}", fullmatch=True),
                "author": st.lists(st.tuples(_NAME, _NAME), min_size=1, max_size=3).map(
                    lambda people: " and ".join(f"{family}, {given}" for family, given in people)
                ),
            },
            optional={"annotation": _prose(), "doi": st.sampled_from(["10.1000/a(1)b", "10.5555/X_y-1"])},
        ),
        min_size=1,
        max_size=4,
    )
)
def test_any_library_written_and_read_back_is_the_same_library(entries):
    bib = parse_bibtex("")
    for number, fields in enumerate(entries):
        bib.append(Store.make_work(f"k{number}", "article", bibtex.encode_fields(fields)))
    written = bib.render()
    again = parse_bibtex(written)
    assert not again.problems
    assert [work.key for work in again.works] == [f"k{n}" for n in range(len(entries))]
    for fields, work in zip(entries, again.works, strict=True):
        for name, value in fields.items():
            expected = value if name != "author" else value.replace("{", "").replace("}", "")
            assert work.text[name] == expected, name
    assert again.render() == written  # and writing it again changes nothing


def _library_with(tmp_path, text: str) -> Store:
    store = Store.init(tmp_path / "lib")
    store.bib_path.write_text(text, encoding="utf-8")
    return store


def test_a_library_loaded_again_comes_from_its_saved_parse_identical_to_a_fresh_parse(tmp_path, monkeypatch):
    from evidence.store import folder as store_module

    text = "\n\n" + USER_FILE + "@article{Ümlaut2021, title = {Nerven und Schmerz}, year = 2021}\n@article{Yang2023,}"
    store = _library_with(tmp_path, text)
    first = store.load_bib()  # parses, and saves the parse
    assert first == parse_bibtex(text, "references.bib") and first.problems and first.strings

    def no_parsing(*args, **kwargs):
        raise AssertionError("parsed again")

    monkeypatch.setattr(store_module, "parse_bibtex", no_parsing)
    again = store.load_bib()
    assert again == first
    assert again.render() == text + "\n"


@pytest.mark.parametrize("run", [1, 1000], ids=["runs-of-one-row", "one-run"])
def test_a_pass_over_every_work_gives_them_in_file_order_and_leaves_them_undecoded(tmp_path, monkeypatch, run):
    from evidence.store.derived import SavedWorks, _unchanged_work

    monkeypatch.setattr(SavedWorks, "RUN", run)  # the rows' works read a run at a time
    store = _library_with(tmp_path, USER_FILE)
    expected = store.load_bib().works  # parsed: saved as rows
    bib = store.load_bib()  # from the rows
    assert list(bib.each_work()) == expected
    assert list(bib.each_work()) == expected  # and again: each pass starts afresh
    assert len(bib.each_work()) == len(expected) and list(bib.each_work()[1:]) == expected[1:]
    assert all(_unchanged_work(block) for block in bib.blocks if block.key is not None)  # none kept decoded
    assert bib.works == expected


def test_an_edited_file_or_changed_parsing_code_is_parsed_again(tmp_path, monkeypatch):
    import os

    from evidence.store import folder as store_module

    store = _library_with(tmp_path, USER_FILE)
    assert store.load_bib().by_key("Yang2023").year == "2023"
    times = store.bib_path.stat()
    store.bib_path.write_text(USER_FILE.replace("Year = 2023", "Year = 2024"), encoding="utf-8")  # same size...
    os.utime(store.bib_path, ns=(times.st_atime_ns, times.st_mtime_ns))  # ...and the same modification time
    assert store.load_bib().by_key("Yang2023").year == "2024"
    store.bib_path.write_text(USER_FILE + "@book{new2024, title = {New}}\n", encoding="utf-8")
    assert len(store.load_bib().works) == 3  # the saved parse describes the old file
    from evidence.store import derived

    monkeypatch.setattr(derived, "parser_version", lambda: "another parser")
    from evidence.store import bibfile

    calls = []
    real = bibfile.parse_bibtex
    counted = lambda *a, **k: calls.append(1) or real(*a, **k)  # noqa: E731
    monkeypatch.setattr(store_module, "parse_bibtex", counted)  # a parse at once
    monkeypatch.setattr(bibfile, "parse_bibtex", counted)  # a parse in parts (``Store._parse_in_parts``)
    assert len(store.load_bib().works) == 3 and calls


def test_a_damaged_saved_parse_is_ignored_and_replaced(tmp_path):
    import sqlite3

    from evidence.store.derived import DERIVED_DB

    store = _library_with(tmp_path, USER_FILE)
    expected = store.load_bib()
    saved = store.index_dir / DERIVED_DB
    damages = [
        lambda: saved.write_bytes(b"\x00garbage"),
        lambda: saved.write_bytes(b""),
        lambda: _in(saved, "UPDATE blocks SET size = size + 7 WHERE seq = 0"),
        lambda: _in(saved, "DELETE FROM blocks WHERE seq = 0"),
        lambda: _in(saved, "UPDATE meta SET value = '{not json' WHERE name = 'strings'"),
        lambda: _in(saved, "UPDATE works SET work = '[1]' WHERE rowid = 1"),
        lambda: _in(saved, "DELETE FROM works WHERE rowid = 2"),
        lambda: _in(saved, "UPDATE blocks SET work_id = 'elsewhere' WHERE key IS NOT NULL"),
        lambda: _in(saved, "DROP TABLE works"),
        lambda: _in(saved, "DROP TABLE blocks"),
    ]
    for damage in damages:
        damage()
        assert store.load_bib() == expected
        assert store.load_bib() == expected  # written again, and read back
    assert sqlite3.connect(saved).execute("SELECT COUNT(*) FROM blocks").fetchone()[0] == len(expected.blocks)


def _in(database, statement: str) -> None:
    import sqlite3

    connection = sqlite3.connect(database)
    connection.execute(statement)
    connection.commit()
    connection.close()


def test_adding_one_work_to_a_saved_parse_writes_its_rows_and_not_the_others(tmp_path, monkeypatch):
    from evidence.store import derived

    store = _library_with(tmp_path, USER_FILE + "".join(f"@article{{w{n}, title = {{T{n}}}}}\n\n" for n in range(50)))
    bib = store.load_bib()
    bib = store.load_bib()  # from the rows
    written = []
    real = derived.stored_work
    monkeypatch.setattr(derived, "stored_work", lambda work: written.append(work) or real(work))
    bib.append(store.make_work("added", "article", {"title": "{Added}"}))
    with store.locked():
        store.save_bib(bib)
    assert [work.key for work in written if work is not None] == ["added"]
    monkeypatch.undo()
    assert store.load_bib() == parse_bibtex(store.bib_path.read_text(encoding="utf-8"), "references.bib")


def test_a_hand_edit_near_the_start_stores_one_work_again_and_only_moves_the_others(tmp_path, monkeypatch):
    import sqlite3

    from evidence.store import derived

    store = _library_with(tmp_path, "".join(f"@article{{w{n}, title = {{T{n}}}}}\n\n" for n in range(50)))
    store.load_bib()
    text = store.bib_path.read_text(encoding="utf-8")
    store.bib_path.write_text(text.replace("{T0}", "{A longer title, edited by hand}"), encoding="utf-8")
    written = []
    real = derived.stored_work
    monkeypatch.setattr(derived, "stored_work", lambda work: written.append(work) or real(work))
    bib = store.load_bib()
    assert [work.key for work in written if work is not None] == ["w0"]
    monkeypatch.undo()
    expected = parse_bibtex(store.bib_path.read_text(encoding="utf-8"), "references.bib")
    assert store.load_bib() == bib == expected
    database = sqlite3.connect(store.index_dir / derived.DERIVED_DB)
    assert database.execute("SELECT COUNT(*) FROM works").fetchone()[0] == 50  # the old w0 is gone
    data = store.bib_path.read_bytes()
    for key, start, size in database.execute("SELECT key, start, bytes FROM blocks"):
        assert data[start : start + size].decode().startswith(f"@article{{{key},")


def test_an_entry_that_grows_moves_the_lines_of_the_entries_after_it(tmp_path):
    store = _library_with(tmp_path, USER_FILE + "@article{last, title = {Last}}\n")
    bib = store.load_bib()
    bib.add_fields(bib.by_key(bib.works[0].key), {"note": "{one}", "doi": "{10.1/x}"})
    with store.locked():
        store.save_bib(bib)
    expected = parse_bibtex(store.bib_path.read_text(encoding="utf-8"), "references.bib")
    assert [b.line for b in store.load_bib().blocks] == [b.line for b in expected.blocks]


def test_an_atomic_write_whose_chunks_fail_leaves_the_old_file_and_no_temporary_file(tmp_path):
    import pytest

    from evidence.files import write_atomic

    target = tmp_path / "file.json"
    target.write_bytes(b"old")

    def chunks():
        yield b"new, half"
        raise RuntimeError("the encoder failed")

    with pytest.raises(RuntimeError):
        write_atomic(target, chunks())
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["file.json"]
    write_atomic(target, iter([b"new", b" file"]))
    assert target.read_bytes() == b"new file"


HAND = "@article{hand2020,\n  title = {Written by hand},\n  year = {2020}\n}\n"


def _library_with_two(tmp_path):
    store = Store.init(tmp_path / "lib")
    store.bib_path.write_text(
        "@article{a2020,\n  title = {First},\n  year = {2020}\n}\n\n@article{b2021,\n  title = {Second},\n"
        "  year = {2021}\n}\n",
        encoding="utf-8",
    )
    return store


def _tool_work(key, title):
    from evidence.store.bibfile import make_work

    return make_work(key, "article", bibtex.encode_fields({"title": title, "year": "2024"}))


def test_an_edit_made_by_hand_while_the_tool_worked_survives_its_write(tmp_path):
    store = _library_with_two(tmp_path)
    bib = store.load_bib()
    bib.append(_tool_work("new2024", "Added by the tool"))
    bib.replace(_tool_work("b2021", "Second, corrected by the tool"))
    edited = store.bib_path.read_text().replace("{First}", "{First, edited by hand}") + "\n" + HAND
    store.bib_path.write_text(edited, encoding="utf-8")  # meanwhile, in an editor
    notes = []
    assert store.save_bib(bib, notes.append) and notes == []
    text = store.bib_path.read_text()
    assert "{First, edited by hand}" in text and "hand2020" in text  # the hand's edits
    assert "new2024" in text and "Second, corrected by the tool" in text  # the tool's
    assert {work.key for work in bib.works} == {"a2020", "b2021", "hand2020", "new2024"}
    assert store.load_bib().render() == text


def test_an_entry_changed_by_both_keeps_the_hands_version_and_says_so(tmp_path):
    store = _library_with_two(tmp_path)
    bib = store.load_bib()
    bib.replace(_tool_work("a2020", "First, by the tool"))
    store.bib_path.write_text(store.bib_path.read_text().replace("{First}", "{First, by hand}"), encoding="utf-8")
    notes = []
    store.save_bib(bib, notes.append)
    assert "{First, by hand}" in store.bib_path.read_text() and "by the tool" not in store.bib_path.read_text()
    assert notes == ["a2020 was edited in references.bib while this command changed it; your edit was kept."]


def test_a_new_work_whose_key_the_hand_took_meanwhile_is_added_under_another_key(tmp_path):
    store = _library_with_two(tmp_path)
    bib = store.load_bib()
    bib.append(_tool_work("hand2020", "The tool's work"))
    store.bib_path.write_text(store.bib_path.read_text() + "\n" + HAND, encoding="utf-8")
    notes = []
    store.save_bib(bib, notes.append)
    works = {work.key: work.title for work in store.load_bib().works}
    assert works["hand2020"] == "Written by hand" and works["hand2020a"] == "The tool's work"
    assert notes and "added as hand2020a" in notes[0]


def test_after_the_tools_own_write_the_next_read_parses_nothing(tmp_path, monkeypatch):
    import evidence.store.folder as folder

    store = _library_with_two(tmp_path)
    bib = store.load_bib()
    bib.append(_tool_work("new2024", "Added by the tool"))
    assert store.save_bib(bib)
    fresh_parse = parse_bibtex(store.bib_path.read_text(), "references.bib")

    def refuse(*_args, **_kwargs):
        raise AssertionError("references.bib was parsed again")

    monkeypatch.setattr(folder, "parse_bibtex", refuse)
    again = Store(store.root).load_bib()
    assert [(b.raw, b.line, b.work and b.work.key) for b in again.blocks] == [
        (b.raw, b.line, b.work and b.work.key) for b in fresh_parse.blocks
    ]


# Appending: new entries at the end are added, not the whole file rewritten, and a crash leaves old or new -------------
def test_a_new_work_at_the_end_is_appended_leaving_every_byte_before_it_in_place(tmp_path):
    import os

    store = _library_with(tmp_path, USER_FILE)
    before = store.bib_path.read_bytes()
    inode = os.stat(store.bib_path).st_ino
    bib = store.load_bib()
    bib.append(store.make_work("added", "article", {"title": "{Added}"}))
    with store.locked():
        assert store.save_bib(bib)
    after = store.bib_path.read_bytes()
    assert os.stat(store.bib_path).st_ino == inode  # the same file, grown: not a rewritten copy
    assert after.startswith(before) and b"@article{added," in after[len(before) :]
    assert after.decode() == bib.render()
    assert not (tmp_path / "lib" / ".references.bib.append").exists()
    assert store.load_bib() == parse_bibtex(after.decode(), "references.bib")


def test_a_changed_entry_is_not_appended_but_the_file_replaced(tmp_path):
    import os

    store = _library_with(tmp_path, USER_FILE)
    inode = os.stat(store.bib_path).st_ino
    bib = store.load_bib()
    bib.add_fields(bib.by_key("ok2020"), {"note": "{changed}"})
    with store.locked():
        assert store.save_bib(bib)
    assert os.stat(store.bib_path).st_ino != inode
    assert "note = {changed}" in store.bib_path.read_text()


def test_after_an_append_the_rows_describe_the_file_so_a_search_reads_only_its_hits(tmp_path):
    store = _library_with(tmp_path, USER_FILE)
    store.load_bib()
    bib = store.load_bib()  # from the rows
    bib.append(store.make_work("added", "article", {"title": "{Added}"}))
    with store.locked():
        assert store.save_bib(bib)
    assert bib.unchanged_prefix() == (len(bib.source), len(bib.blocks))  # every block where its row says
    written_earlier(store.bib_path)  # as the next command, a while later, finds it
    store.remember_entries(bib, store.bib_signature())
    found = store.works_by_key(["added", "Yang2023", "ok2020"])
    assert found is not None and found["added"].title == "Added" and found["Yang2023"].get("mynotes")


def test_adding_one_work_to_a_large_library_cuts_no_other_entry_from_the_file(tmp_path, monkeypatch):
    from evidence.store import derived

    entries = "".join(f"@article{{w{n},\n  title = {{T{n}}},\n  doi = {{10.1/{n}}},\n}}\n\n" for n in range(300))
    store = _library_with(tmp_path, USER_FILE + entries)
    store.load_bib()
    cut = []
    real = derived.StoredBlock.raw.fget
    monkeypatch.setattr(
        derived.StoredBlock,
        "raw",
        property(lambda self: cut.append(self.key) or real(self), derived.StoredBlock.raw.fset),
    )
    with store.locked():
        bib = store.load_bib()
        assert "10.1/7" in bib.doi_map() and bib.by_key("w299") is not None
        bib.append(store.make_work("added", "article", {"title": "{Added}"}))
        assert store.save_bib(bib)
    assert set(cut) <= {"w299"}  # the last entry gains the blank line before the new one; no other is read
    monkeypatch.undo()
    assert store.load_bib() == parse_bibtex(store.bib_path.read_text(encoding="utf-8"), "references.bib")


def test_a_library_with_a_byte_order_mark_is_read_from_its_rows_and_written_back_as_plain_utf8(tmp_path):
    store = _library_with(tmp_path, USER_FILE)
    store.bib_path.write_bytes(b"\xef\xbb\xbf" + USER_FILE.encode("utf-8"))
    first = store.load_bib()
    assert store.load_bib() == first == parse_bibtex(USER_FILE, "references.bib")
    bib = store.load_bib()
    bib.append(store.make_work("added", "article", {"title": "{Ånother}"}))
    with store.locked():
        assert store.save_bib(bib)
    written = store.bib_path.read_bytes()
    assert not written.startswith(b"\xef\xbb\xbf") and written.decode("utf-8").startswith(USER_FILE)
    assert store.load_bib() == parse_bibtex(written.decode("utf-8"), "references.bib")
    assert store.load_bib().by_key("added").title == "Ånother"


def test_an_edit_that_keeps_the_files_size_made_while_the_tool_worked_is_merged_not_overwritten(tmp_path):
    store = _library_with(tmp_path, USER_FILE)
    store.load_bib()
    with store.locked():
        bib = store.load_bib()
        bib.add_fields(bib.by_key("Yang2023"), {"note": "{read}"})  # a change inside the file: a rewrite
        bib.append(store.make_work("added", "article", {"title": "{Added}"}))
        edited = USER_FILE.replace("Still here", "Still HERE")  # same length, same size on disk
        store.bib_path.write_text(edited, encoding="utf-8")
        assert store.save_bib(bib)
    text = store.bib_path.read_text(encoding="utf-8")
    assert "Still HERE" in text and "note = {read}" in text and "@article{added," in text
    assert store.load_bib() == parse_bibtex(text, "references.bib")


def _crashed_append(store, tail: bytes, written: bytes) -> bytes:
    """The state an append leaves when killed: its journal, and ``written`` (part or all of ``tail``) on disk."""
    import hashlib
    import json

    from evidence.store import append

    before = store.bib_path.read_bytes()
    journal = {"size": len(before), "length": len(tail), "tail": hashlib.blake2b(tail, digest_size=16).hexdigest()}
    append.journal_path(store.bib_path).write_text(json.dumps(journal))
    with store.bib_path.open("ab") as handle:
        handle.write(written)
    return before


def test_an_append_cut_short_reads_as_the_old_file_and_the_next_write_removes_its_half(tmp_path):
    from evidence.store import append

    store = _library_with(tmp_path, USER_FILE)
    tail = b"\n@article{half, title = {Half written}}\n"
    for written in (tail[:20], b"\0" * len(tail)):  # killed mid-write; the length on disk but not the bytes
        before = _crashed_append(store, tail, written)
        assert Store(store.root).load_bib().render() == before.decode()  # readers see the old file
        with store.locked():  # the next writer settles it: the old file, byte for byte
            assert store.bib_path.read_bytes() == before
        assert not append.journal_path(store.bib_path).exists()


def test_an_append_that_finished_before_the_crash_is_kept(tmp_path):
    from evidence.store import append

    store = _library_with(tmp_path, USER_FILE)
    tail = b"\n@article{whole, title = {Written in full}}\n"
    before = _crashed_append(store, tail, tail)
    assert "whole" in [w.key for w in Store(store.root).load_bib().works]
    with store.locked():
        assert store.bib_path.read_bytes() == before + tail
    assert not append.journal_path(store.bib_path).exists()


def test_a_file_replaced_by_hand_after_a_crashed_append_is_left_as_the_hand_left_it(tmp_path):
    from evidence.store import append

    store = _library_with(tmp_path, USER_FILE)
    _crashed_append(store, b"\n@article{lost, title = {Never finished}}\n", b"\n@art")
    store.bib_path.write_text("@book{mine, title = {Rewritten by hand}}\n")
    with store.locked():
        assert store.bib_path.read_text() == "@book{mine, title = {Rewritten by hand}}\n"
    assert not append.journal_path(store.bib_path).exists()
    assert [w.key for w in store.load_bib().works] == ["mine"]


def test_an_append_that_fails_gives_back_the_old_file_and_a_sentence(tmp_path, monkeypatch):
    import os

    import pytest

    from evidence.errors import LibraryError
    from evidence.store import append

    store = _library_with(tmp_path, USER_FILE)
    before = store.bib_path.read_bytes()
    real_write = os.write

    def disk_full_after_some(descriptor, data):
        real_write(descriptor, bytes(data[:10]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(append.os, "write", disk_full_after_some)
    with pytest.raises(LibraryError, match="No space left on device; the old file is unchanged"):
        append.append(store.bib_path, b"\n@article{never, title = {Never}}\n")
    assert store.bib_path.read_bytes() == before
    assert not append.journal_path(store.bib_path).exists()


@given(st.binary(max_size=200), st.integers(min_value=0, max_value=200), st.integers(min_value=1, max_value=16))
@settings(max_examples=200, deadline=None)
def test_a_fingerprint_extended_from_known_pieces_is_the_fingerprint_of_the_whole_bytes(data, cut, piece):
    from evidence.store import fingerprint as module

    saved = module.PIECE
    module.PIECE = piece  # pieces of a few bytes, so that short data spans many
    try:
        whole, pieces = module.file_fingerprint(data)
        before = data[: min(cut, len(data))]
        _, known = module.file_fingerprint(before)
        assert module.file_fingerprint(data, module.known_before(known, len(before))) == (whole, pieces)
        assert len(pieces) == len(data) // piece
        if data:
            changed = bytes([data[0] ^ 1]) + data[1:]
            assert module.file_fingerprint(changed)[0] != whole
            assert module.file_fingerprint(data + b"\n")[0] != whole
    finally:
        module.PIECE = saved


_EDIT_KINDS = st.sampled_from(["same length", "longer", "shorter", "none"])


@given(
    st.lists(st.binary(min_size=1, max_size=6), min_size=1, max_size=30),
    st.lists(st.tuples(st.integers(min_value=0, max_value=29), _EDIT_KINDS), min_size=1, max_size=2),
)
@settings(max_examples=400, deadline=None)
def test_runs_matched_from_the_end_on_two_threads_are_those_one_backward_scan_matches(parts, edits):
    """The runs a hand edit left at the file's end are hashed in two halves at once; whatever the edits (one or two,
    in places; one that keeps the file's length leaves every later run at its place, so the earlier half can match
    on its own), the answer is what one scan from the end, stopping at the first run that differs, gives."""
    from evidence.store import derived, hand_edit

    runs, at = [], 0
    for number, part in enumerate(parts):
        runs.append((number, number, derived.chunk_hash(part), at, at + len(part)))
        at += len(part)
    parts = list(parts)
    for edited, kind in edits:
        part = parts[min(edited, len(parts) - 1)]
        changed = {"same length": bytes([part[0] ^ 1]) + part[1:] if part else part, "longer": part + b"+"}
        changed["shorter"] = part[:-1]
        parts[min(edited, len(parts) - 1)] = changed.get(kind, part)
    new = b"".join(parts)
    low, position = hand_edit._runs_from_start(memoryview(new), runs, 0, 0)

    expected, end = [], len(new)
    for _number, _last, digest, begin, finish in reversed(runs[low:]):  # the scan as it was before the halves
        size = finish - begin
        if end - size < position or derived.chunk_hash(new[end - size : end]) != digest:
            break
        expected.append(size)
        end -= size
    assert hand_edit._runs_from_end(memoryview(new), runs, low, position) == expected


def test_a_write_just_made_is_not_trusted_by_its_signature_so_an_edit_keeping_size_and_time_is_seen(tmp_path):
    """An editor saving in place within the same clock tick as the tool's write leaves size, time and inode as
    they were: the signature recorded then must not be trusted, so the next read hashes the file and sees the edit."""
    store = _library_with(tmp_path, USER_FILE)
    store.load_bib()
    bib = store.load_bib()
    bib.append(store.make_work("added", "article", {"title": "{Added}"}))
    with store.locked():
        assert store.save_bib(bib)
    signature = store.bib_signature()
    store.remember_entries(bib, signature)  # a signature not settled yet: not recorded
    assert store.works_by_key(["added"]) is None
    status = os.stat(store.bib_path)
    text = store.bib_path.read_bytes()
    with open(store.bib_path, "r+b") as handle:  # in place: same inode, same size
        handle.write(text.replace(b"{Added}", b"{Edded}"))
    os.utime(store.bib_path, ns=(status.st_atime_ns, status.st_mtime_ns))  # and the same time
    assert store.bib_signature() == signature
    assert store.load_bib().by_key("added").title == "Edded"


def test_a_settled_file_is_not_hashed_whole_by_a_write_that_appends_to_it(tmp_path, monkeypatch):
    from evidence.store import fingerprint as module
    from evidence.store import folder

    monkeypatch.setattr(module, "PIECE", 64)  # so the file spans many pieces
    store = _library_with(tmp_path, USER_FILE * 4)
    store.load_bib()
    written_earlier(store.bib_path)
    bib = store.load_bib()
    store.remember_entries(bib, store.bib_signature())  # settled: recorded with the rows
    hashed: list[int] = []
    real = module.file_fingerprint

    def counting(data, known=()):
        hashed.append(len(data) - len(known) * module.PIECE)
        return real(data, known)

    monkeypatch.setattr(folder, "file_fingerprint", counting)
    bib = store.load_bib()
    assert hashed == [] and bib.read_signature is not None  # the rows' fingerprint, taken as the file's
    bib.append(store.make_work("added", "article", {"title": "{Added}"}))
    with store.locked():
        assert store.save_bib(bib)
    size = store.bib_path.stat().st_size
    assert len(hashed) == 1 and hashed[0] < 64 + (size - len((USER_FILE * 4).encode("utf-8")))
    assert bib.read_as == real(store.bib_path.read_bytes())[0]  # what the next read compares with
    monkeypatch.undo()
    assert store.load_bib().by_key("added").title == "Added"


# Blocks read from the rows, made only when asked for (``store.row_blocks``) ---------------------------------------

_OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["get", "get slice", "set", "set slice", "append", "insert", "delete", "delete slice"]),
        st.integers(min_value=-12, max_value=12),
        st.integers(min_value=-12, max_value=12),
    ),
    max_size=12,
)


@given(st.integers(min_value=0, max_value=8), _OPERATIONS)
@settings(max_examples=300, deadline=None)
def test_blocks_read_from_the_rows_behave_as_the_list_of_them_whatever_is_done_to_them(count, operations):
    """Whatever is read, replaced, added, put in among them or taken out, the sequence holds what a list of the
    same blocks holds, and its keys and DOIs are those blocks' own."""
    from evidence.model import Work
    from evidence.store.bibfile import Block
    from evidence.store.row_blocks import RowBlocks, block_hints

    def entry(number: int, name: str) -> Block:
        fields = {"doi": f"10.1/{name}{number}"}
        work = Work(key=f"{name}{number}", entry_type="article", fields=fields, text=fields)
        return Block(raw=f"@article{{{name}{number}}}\n", line=number + 1, work=work)

    originals = [entry(number, "row") for number in range(count)]
    made_for: list[int] = []

    def make(first, spans, rows_of):
        made_for.extend(range(first, first + len(spans)))
        return originals[first : first + len(spans)]

    hints = tuple(list(column) for column in zip(*map(block_hints, originals), strict=True)) or ([], [], [])
    rows = RowBlocks(b"", 0, [len(block.raw) for block in originals], hints, make, "file")
    plain = list(originals)
    for number, (operation, at, to) in enumerate(operations):
        new = entry(number, "new")
        for blocks in (rows, plain):
            try:
                if operation == "get":
                    blocks[at]
                elif operation == "get slice":
                    blocks[at:to]
                elif operation == "set":
                    blocks[at] = new
                elif operation == "set slice":
                    blocks[at:to] = [new]
                elif operation == "append":
                    blocks.append(new)
                elif operation == "insert":
                    blocks.insert(at, new)
                elif operation == "delete":
                    del blocks[at]
                else:
                    del blocks[at:to]
            except IndexError:
                pass
        assert len(rows) == len(plain)
        expected = tuple(list(column) for column in zip(*map(block_hints, plain), strict=True)) or ([], [], [])
        assert rows.hints() in (None, expected)
        assert rows[:] == plain
    assert list(rows) == plain
    assert len(made_for) == len(set(made_for))  # a block is made once, then kept with whatever was done to it


def test_adding_a_work_to_a_library_read_from_its_rows_makes_only_the_blocks_it_touches(tmp_path, monkeypatch):
    from evidence.store import derived

    store = _library_with(
        tmp_path, "".join(f"@article{{w{n}, title = {{T{n}}}, doi = {{10.1/{n}}}}}\n\n" for n in range(300))
    )
    store.load_bib()
    made = []
    real = derived._BlocksOfRows.__call__
    monkeypatch.setattr(
        derived._BlocksOfRows, "__call__", lambda self, *args: made.extend(args[1]) or real(self, *args)
    )
    with store.locked():
        bib = store.load_bib()
        assert "10.1/7" in bib.doi_map() and "10.1/new" not in bib.doi_map()
        assert "w299" in bib.keys() and bib.by_key("W12").title == "T12"
        bib.append(store.make_work("fresh", "article", {"title": "{Fresh}", "doi": "{10.1/new}"}))
        store.save_bib(bib)
    assert 1 <= len(made) <= 5, made  # w12, the last entry and the one before it, the first of the last run
    monkeypatch.undo()
    expected = parse_bibtex(store.bib_path.read_text(encoding="utf-8"), "references.bib")
    assert store.load_bib() == expected
    assert [work.key for work in expected.works][-2:] == ["w299", "fresh"]


def test_a_block_asked_for_after_another_command_rewrote_the_rows_is_the_one_read_not_the_rows_new_one(
    tmp_path, monkeypatch
):
    """A search catching up with a hand edit rewrites the rows while this command holds the file as it read it:
    a block it then asks for is made from the bytes it read, never from rows that describe other bytes (an edit
    that keeps every entry where it was moves their lines; one that lengthens an entry moves them too)."""
    from evidence.store import derived

    text = "".join(f"@article{{w{n}, title = {{T{n}}}}}\n\n" for n in range(40))
    first = "@article{w0, title = {T0}}\n\n"
    for edit in ("@article{w0,\ntitle = {T0}}\n\n", "@article{w0, title = {A much longer title, edited by hand}}\n\n"):
        store = _library_with(tmp_path / str(len(edit)), text)
        store.load_bib()
        bib = store.load_bib()
        store.bib_path.write_text(edit + text[len(first) :], encoding="utf-8")
        assert Store(store.root).catch_up() is not None  # another command's: the rows now describe the edited file
        parses = []
        monkeypatch.setattr(
            derived, "parse_bibtex", lambda *args, seen=parses: seen.append(args) or parse_bibtex(*args)
        )
        assert bib.blocks[5].raw == "@article{w5, title = {T5}}\n\n" and bib.blocks[5].work.title == "T5"
        assert bib.blocks[7].work.title == "T7"
        assert bib.blocks[:] == parse_bibtex(text, "references.bib").blocks
        assert len(parses) == 1  # the bytes read parsed once, however many blocks are asked for after
        monkeypatch.undo()


@pytest.mark.parametrize(
    ("held", "twin"),
    [("kim2020", "KIM2020"), ("kim2020", "kim2020"), ("kim2020", "\u212aim2020"), ("\u212aim2020", "kim2020")],
)  # \u212a: the Kelvin sign, which Python lowers to k and SQLite does not
def test_a_key_added_by_hand_that_another_entry_holds_in_any_case_is_left_to_the_full_parse(tmp_path, held, twin):
    """Only the keys a hand edit brings are compared with the others, by SQLite where it can lower them as Python
    does; a key another entry holds, in any case, sends the file to the full parse, which says so."""
    from evidence.store import hand_edit
    from evidence.store.fingerprint import file_fingerprint

    entries = [f"@article{{w{n}, title = {{T{n}}}}}\n\n" for n in range(30)]
    entries[3] = f"@article{{{held}, title = {{Kim}}}}\n\n"
    text = "".join(entries)
    for key, taken in ((twin, True), ("kimura2020", False)):
        store = _library_with(tmp_path / key.encode().hex(), text)
        store.load_bib()
        edited = text.replace("@article{w20,", f"@article{{{key}, title = {{Twin}}}}\n\n@article{{w20,")
        data = edited.encode()
        parsed = hand_edit.reparse_changed(store.index_dir, data, "references.bib", *file_fingerprint(data))
        assert (parsed is None) == taken, key
        if taken:
            assert parse_bibtex(edited, "references.bib").problems
