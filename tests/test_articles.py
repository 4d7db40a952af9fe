"""Articles in the forms practitioners write them: Word (.docx) and a saved web page read as the Markdown does.

The Word and HTML files are made in the tests from the seed article by pandoc (the same pandoc evidence runs): the
Word ones with each claim marked as a comment ('claim #id') or as a character style ('claim #id'), the HTML one as
pandoc writes a page from Markdown (claims as <span class="claim" id="...">, a stylesheet in the head).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from evidence.cite import pandoc

_CLAIM = re.compile(r"\[((?:[^\[\]]|\[[^\[\]]*\])+)\]\{\.claim #([\w:.\-]+)\}", re.S)


def _as_comments(markdown: str) -> str:
    count = iter(range(1, 1000))

    def comment(match: re.Match) -> str:
        n = next(count)
        return (
            f'[claim #{match.group(2)}]{{.comment-start id="{n}" author="Writer"}}{match.group(1)}'
            f'[]{{.comment-end id="{n}"}}[An editor\'s remark, not a claim]{{.comment-start id="9{n}" author="Ed"}}'
            f'[]{{.comment-end id="9{n}"}}'
        )

    return _CLAIM.sub(comment, markdown)


def _as_styles(markdown: str) -> str:
    return _CLAIM.sub(lambda m: f'[{m.group(1)}]{{custom-style="claim #{m.group(2)}"}}', markdown)


def _converted(markdown: str, to: str) -> bytes:
    args = ["--from=markdown", f"--to={to}", "--output=-"] + (
        ["--standalone", "--css=blog.css"] if to == "html" else []
    )
    return pandoc.run(args, markdown.encode("utf-8"))


def _without_lines(value):
    if isinstance(value, dict):
        return {k: _without_lines(v) for k, v in value.items() if k not in ("line", "article", "source")}
    if isinstance(value, list):
        return [_without_lines(v) for v in value]
    return value


@pytest.fixture
def forms(seed, tmp_path) -> dict[str, Path]:
    markdown = (seed / "articles" / "nerve-pain.md").read_text()
    made = {
        "comments.docx": _converted(_as_comments(markdown), "docx"),
        "styles.docx": _converted(_as_styles(markdown), "docx"),
        "blog.html": _converted(markdown, "html").replace(
            b"</head>", b"<style>@media (max-width: 600px) { p { margin: 0 } }</style></head>"
        ),
    }
    for name, data in made.items():
        (tmp_path / name).write_bytes(data)
    return {name: tmp_path / name for name in made}


@pytest.mark.parametrize("form", ["comments.docx", "styles.docx", "blog.html"])
def test_a_word_or_web_copy_of_the_seed_article_checks_claims_and_lists_as_the_markdown_does(run, seed, forms, form):
    markdown = seed / "articles" / "nerve-pain.md"
    for command in ("check", "claims"):
        expected = run("--library", seed, "--offline", command, markdown, "--json")
        got = run("--library", seed, "--offline", command, forms[form], "--json")
        assert got.exit_code == expected.exit_code, got.stderr
        assert _without_lines(got.json()) == _without_lines(expected.json())
        assert "media" not in got.stdout
    claims = run("--library", seed, "--offline", "claims", forms[form], "--json").json()["claims"]
    assert [c["id"] for c in claims] == ["nerve-repair", "pain-relief", "neuroplasticity", "autonomic-balance"]
    expected_list = run("--library", seed, "--offline", "refs", markdown, "--style", "vancouver").stdout
    assert run("--library", seed, "--offline", "refs", forms[form], "--style", "vancouver").stdout == expected_list


def test_a_word_articles_messages_give_the_paragraph_of_the_problem(run, seed, tmp_path):
    article = tmp_path / "draft.docx"
    article.write_bytes(_converted("# Draft\n\nFirst paragraph.\n\nAs shown [@nobody1999].\n", "docx"))
    result = run("--library", seed, "--offline", "refs", article, "--json")
    (problem,) = result.json()["problems"]
    assert problem["line"] == 3 and "nobody1999" in problem["message"]  # the heading is paragraph 1


def test_a_tracked_deletion_is_not_read_and_an_insertion_is(run, seed, tmp_path):
    article = tmp_path / "tracked.docx"
    markdown = (
        'Kept [@hamvas2023acupuncture]. [Deleted [@mehta2013neuropathic]]{.deletion id="1" author="A"} '
        '[Inserted [@fan2017acupuncture]]{.insertion id="2" author="A"}\n'
    )
    article.write_bytes(_converted(markdown, "docx"))
    keys = run("--library", seed, "--offline", "refs", article, "--json").json()["keys"]
    assert sorted(keys) == ["fan2017acupuncture", "hamvas2023acupuncture"]


def test_a_file_called_docx_that_is_not_one_is_refused_in_a_sentence(run, seed, tmp_path):
    fake = tmp_path / "notes.docx"
    fake.write_text("just text")
    result = run("--library", seed, "--offline", "check", fake)
    assert result.exit_code == 3 and "not a Word document" in result.stderr and "Traceback" not in result.stderr
    broken = tmp_path / "broken.docx"
    broken.write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    result = run("--library", seed, "--offline", "claims", broken)
    assert result.exit_code == 3 and "cannot be read as a Word document" in result.stderr


def test_refs_insert_refuses_a_word_document_and_names_publish(run, seed, forms):
    result = run("--library", seed, "--offline", "refs", forms["styles.docx"], "--insert")
    assert result.exit_code == 2 and "publish" in result.stderr
