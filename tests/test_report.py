"""`evidence report`: the whole job for one article, in the terminal, as JSON and as one HTML page."""

import html.parser
import shutil

import pytest


def test_the_readme_main_job_runs_offline_and_says_what_it_could_not_check(run, seed, tmp_path):
    page = tmp_path / "report.html"
    result = run("--library", seed, "--offline", "report", seed / "articles" / "nerve-pain.md", "--html", page)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith("nerve-pain.md: not checked (5 of 5 references have no stored record)")
    assert "#autonomic-balance" in out and "hamvas2023acupuncture" in out
    assert "5 not checked against Crossref (offline)" in out
    assert "Dorsher, P. T., & McIntosh, P. M. (2011)." in out
    text = page.read_text()
    for claim in ("nerve-repair", "pain-relief", "neuroplasticity", "autonomic-balance"):
        assert f'id="claim-{claim}"' in text
    assert "<script" not in text and "http://" not in text.replace("http://www.w3.org", "")
    parser = html.parser.HTMLParser()
    parser.feed(text)  # well-formed enough for the standard parser


def test_online_the_report_fetches_records_and_finds_mismatches_and_retractions(run, library, crossref, tmp_path):
    good, other = "10.1002/jor.1100150407", "10.1038/srep16696"
    assert run("--library", library, "--offline", "init", library).exit_code == 0
    crossref.records[other] = dict(
        crossref.records[other],
        **{"updated-by": [{"DOI": "10.1038/retraction", "type": "retraction", "source": "publisher"}]},
    )
    assert run("--library", library, "add", good, other).exit_code == 0
    bib = library / "references.bib"
    bib.write_text(bib.read_text().replace("volume = {15}", "volume = {16}"))
    for record in (library / "records").glob("*.json"):
        record.unlink()  # the report must fetch them again, in one batched round
    article = tmp_path / "a.md"
    article.write_text("Dogs got stronger [@lieber1997growth]. Oligomers are toxic [@tosatto2015single].\n")
    crossref.log.clear()
    result = run("--library", library, "report", article, "--json")
    assert result.exit_code == 1
    checks = {c["key"]: c for c in result.json()["checks"]}
    assert checks["lieber1997growth"]["status"] == "mismatch"
    assert {"field": "volume", "cited": "16", "found": "15"} in checks["lieber1997growth"]["problems"]
    assert checks["tosatto2015single"]["status"] == "retracted"
    assert len(crossref.requests_to("list")) == 1 and not crossref.requests_to("work")


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(not CHROMIUM, reason="Debian's chromium is not installed (.ci/run installs it when it can)")
def test_the_html_report_renders_in_headless_chromium_with_every_claim_and_reference(run, seed, tmp_path):
    import subprocess

    page = tmp_path / "report.html"
    assert (
        run("--library", seed, "--offline", "report", seed / "articles" / "nerve-pain.md", "--html", page).exit_code
        == 0
    )
    done = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--user-data-dir=" + str(tmp_path / "profile"),
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    dom = done.stdout
    assert done.returncode == 0, done.stderr[-2000:]
    for claim in ("nerve-repair", "pain-relief", "neuroplasticity", "autonomic-balance"):
        assert f'id="claim-{claim}"' in dom
    for key in (
        "mehta2013neuropathic",
        "yang2023application",
        "fan2017acupuncture",
        "dorsher2011acupuncture",
        "hamvas2023acupuncture",
    ):
        assert key in dom
    assert dom.count('class="csl-entry"') == 5
    assert "Uncaught" not in done.stderr and ":CONSOLE(" not in done.stderr


def test_output_cut_short_by_a_closed_pipe_ends_quietly_with_exit_0():
    """'evidence styles | head': the 10,000 lines overflow the pipe after head has gone."""
    import subprocess
    import sys

    reader = subprocess.Popen(["head", "-c", "10"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    writer = subprocess.run(
        [sys.executable, "-m", "evidence", "styles"], stdout=reader.stdin, stderr=subprocess.PIPE, timeout=120
    )
    reader.stdin.close()
    reader.wait()
    assert writer.returncode == 0 and b"Traceback" not in writer.stderr, writer.stderr


def test_one_report_reads_each_stored_record_once(run, seed, crossref):
    from collections import Counter

    from evidence.jobs.report import report
    from evidence.store.folder import Store

    article = seed / "articles" / "nerve-pain.md"
    assert run("--library", seed, "check", article).exit_code in (0, 1)  # fetches and stores the five records
    reads: Counter = Counter()

    class CountingStore(Store):
        def read_record(self, doi):
            reads[doi] += 1
            return super().read_record(doi)

    result = report(CountingStore(seed), None, article.read_text(), article.name, html=True)
    assert len(result.checks) == 5 and len(reads) == 5
    assert set(reads.values()) == {1}, reads


def test_a_saved_blog_page_of_the_seed_article_reads_as_the_markdown_does(run, seed, tmp_path):
    import html as html_module

    markdown = (seed / "articles" / "nerve-pain.md").read_text()
    body = "\n".join(
        f"<p>{html_module.escape(line, quote=False)}</p>" if line.strip() else "" for line in markdown.splitlines()
    )
    page = tmp_path / "nerve-pain.html"
    page.write_text(
        "<!DOCTYPE html>\n<html><head><style>@media (max-width: 600px) { p { margin: 0 } } @import url(x.css);</style>"
        '<script>var contact = "editor@blog.example"; // @handle</script></head><body>\n'
        + body
        + "\n<!-- @comment -->\n</body></html>\n"
    )
    shift = 2  # the page's body starts two lines below the Markdown's first line
    for command in ("check", "claims"):
        from_markdown = run("--library", seed, "--offline", command, seed / "articles" / "nerve-pain.md", "--json")
        from_page = run("--library", seed, "--offline", command, page, "--json")
        assert from_page.exit_code == from_markdown.exit_code, from_page.stderr
        assert (
            "media" not in from_page.stdout and "handle" not in from_page.stdout and "comment" not in from_page.stdout
        )
        if command == "claims":
            lines = [claim["line"] - shift for claim in from_page.json()["claims"]]
            assert lines == [claim["line"] for claim in from_markdown.json()["claims"]]
    refs_md = run("--library", seed, "--offline", "refs", seed / "articles" / "nerve-pain.md").stdout
    assert run("--library", seed, "--offline", "refs", page).stdout == refs_md
    refused = run("--library", seed, "--offline", "refs", page, "--insert")
    assert refused.exit_code == 2 and "web page" in refused.stderr
