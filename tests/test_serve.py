"""`evidence serve`: the library's pages, the same jobs as the CLI, and the rules that keep other sites out.

HTTP-level tests drive the ASGI app in-process (Starlette's TestClient: the network guard applies); the browser
tests start the real command and drive Debian's Chromium through Playwright."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from evidence.api import Library
from evidence.web.app import create_app
from evidence.web.site import Site

HOST = "testserver"  # what TestClient sends as the Host
ORIGIN = f"http://{HOST}"
CLAIMS = ("nerve-repair", "pain-relief", "neuroplasticity", "autonomic-balance")


def _client(path: Path, offline: bool = True, max_body: int | None = None):
    from starlette.testclient import TestClient

    from evidence.cli.settings import Settings

    configured = {**Settings(str(path), offline, None, False).options(), "semantic": False}  # the services' URLs

    def opener(**options):
        return Library.open(path, **{**configured, **options})

    site = Site(path, opener, offline=offline)
    app = create_app(site, {HOST}, **({"max_body": max_body} if max_body else {}))
    return TestClient(app, follow_redirects=False), site


def _token(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _tree(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


# -- pages -------------------------------------------------------------------------------------------------------


def test_home_counts_works_claims_and_articles_and_lists_what_needs_attention(seed):
    client, _ = _client(seed)
    page = client.get("/")
    assert page.status_code == 200
    text = page.text
    assert "<strong>5</strong> works" in text and "<strong>4</strong> claims" in text
    assert 'href="/articles/nerve-pain.md"' in text
    for claim in CLAIMS:
        assert f'href="/claims#claim-{claim}"' in text  # every claim here carries a warning on its evidence
    assert "Works without an abstract (5)" in text and 'href="/works/hamvas2023acupuncture"' in text


def test_search_finds_the_work_with_its_passage_and_the_terms_marked(seed):
    client, _ = _client(seed)
    page = client.get("/search", params={"q": "parasympathetic tone"})
    assert page.status_code == 200
    assert 'href="/works/hamvas2023acupuncture"' in page.text
    assert "<mark>parasympathetic</mark>" in page.text and "<mark>tone</mark>" in page.text


def test_search_filters_keep_only_the_years_and_the_design_asked_for(seed, run):
    client, _ = _client(seed)
    keys = lambda html: re.findall(r'class="title" href="/works/([^"]+)"', html)  # noqa: E731
    assert set(keys(client.get("/search", params={"q": "acupuncture"}).text)) == {
        "fan2017acupuncture",
        "hamvas2023acupuncture",
        "yang2023application",
        "dorsher2011acupuncture",
        "mehta2013neuropathic",
    }
    recent = keys(client.get("/search", params={"q": "acupuncture", "from_year": "2020"}).text)
    assert set(recent) == {"hamvas2023acupuncture", "yang2023application"}
    reviews = keys(client.get("/search", params={"q": "acupuncture", "design": "narrative review"}).text)
    cli = run("--library", seed, "search", "acupuncture", "--design", "narrative review", "--json").json()
    assert reviews == [hit["key"] for hit in cli["hits"]] and set(reviews) == {
        "yang2023application",
        "dorsher2011acupuncture",
    }
    assert keys(client.get("/search", params={"q": "acupuncture", "has_abstract": "1"}).text) == []
    bad = client.get("/search", params={"q": "acupuncture", "from_year": "last year"})
    assert bad.status_code == 400 and "A year is four digits" in bad.text
    unclosed = client.get("/search", params={"q": '"unclosed'})  # the CLI's own sentence, on the page
    assert unclosed.status_code == 400 and "unmatched double quote" in unclosed.text


def test_the_works_page_lists_every_work_a_hundred_to_a_page(seed, run):
    client, _ = _client(seed)
    listed = re.findall(r'<td><a href="/works/([^"]+)">', client.get("/works").text)
    assert sorted(listed) == sorted(w.key for w in Library.open(seed).works())
    bib = seed / "references.bib"
    bib.write_text(
        bib.read_text() + "".join(f"\n@misc{{extra{n}, title = {{Extra {n}}}, year = {{2020}}}}\n" for n in range(150))
    )
    second = client.get("/works", params={"page": "2"}).text
    assert len(re.findall(r'<td><a href="/works/', second)) == 55 and "Page 2 of 2" in second


def test_a_work_page_shows_its_fields_note_design_and_the_claims_it_backs(seed):
    client, _ = _client(seed)
    page = client.get("/works/hamvas2023acupuncture")
    assert page.status_code == 200
    assert "systematic review or meta-analysis" in page.text
    assert 'href="https://doi.org/10.1016/j.ctim.2022.102905"' in page.text
    assert "<h2>Note</h2>" in page.text and 'href="/claims#claim-autonomic-balance"' in page.text
    missing = client.get("/works/nobody1999")
    assert missing.status_code == 404 and "No work with the key" in missing.text
    assert client.get("/articles/other.md").status_code == 404
    assert client.get("/claims", params={"suggest": "no-such-claim"}).status_code == 404


def test_the_claims_page_shows_every_claim_with_its_evidence_and_warnings(seed, run):
    client, _ = _client(seed)
    page = client.get("/claims").text
    cli = run("--library", seed, "claims", "--json").json()
    for claim in cli["claims"]:
        assert f'id="claim-{claim["id"]}"' in page
        for warning in claim["warnings"]:
            assert f"Warning: {warning}" in page.replace("&#39;", "'")
        for support in claim["supports"]:
            assert f'href="/works/{support["key"]}"' in page


def test_linking_a_suggested_work_edits_claims_toml_as_suggest_link_does(seed, run, tmp_path, monkeypatch):
    monkeypatch.setenv("EVIDENCE_SEMANTIC", "off")  # as the pages here rank: by words
    twin = tmp_path / "twin"
    shutil.copytree(seed, twin)
    client, _ = _client(seed)
    page = client.get("/claims", params={"suggest": "autonomic-balance"})
    offered = re.findall(r'name="key" value="([^"]+)"', page.text)
    assert offered and "hamvas2023acupuncture" not in offered  # already linked: not offered again
    key = offered[0]
    done = client.post(
        "/claims/autonomic-balance/link",
        data={"csrf": _token(page.text), "key": key, "stance": "background"},
        headers={"origin": ORIGIN},
    )
    assert done.status_code == 303 and f"linked={key}" in done.headers["location"]
    run(
        "--library", twin, "suggest", "--claim", "autonomic-balance", "--link", key, "--stance", "background",
    )  # fmt: skip
    assert (seed / "claims.toml").read_text() == (twin / "claims.toml").read_text()
    assert key in client.get("/claims").text.split('id="claim-autonomic-balance"')[1].split("</section>")[0]


def test_an_articles_page_gives_its_report_list_and_downloads(seed):
    client, _ = _client(seed)
    page = client.get("/articles/nerve-pain.md", params={"style": "vancouver"})
    assert page.status_code == 200
    assert 'id="verdict"' in page.text and page.text.count('class="csl-entry"') == 5
    bib = client.get("/articles/nerve-pain.md/references.bib")
    assert bib.status_code == 200 and bib.text.count("@article{") == 5
    assert "attachment" in bib.headers["content-disposition"]
    markdown = client.get("/articles/nerve-pain.md/references.md", params={"style": "vancouver"}).text
    assert markdown.startswith("1. Mehta S.")
    assert len(json.loads(client.get("/articles/nerve-pain.md/references.json").text)) == 5


@pytest.mark.parametrize("name", ["nerve-pain.md", "nerve-pain.html", "nerve-pain.docx"])
def test_an_uploaded_article_is_checked_as_the_cli_checks_it_and_nothing_is_written(seed, run, name, tmp_path):
    from test_articles import _as_comments, _converted  # Word and web-page versions made as issue 20's tests make them

    source = (seed / "articles" / "nerve-pain.md").read_text()
    data = {
        "md": lambda: source.encode(),
        "html": lambda: _converted(source, "html"),
        "docx": lambda: _converted(_as_comments(source), "docx"),
    }[name.rsplit(".", 1)[1]]()
    before = _tree(seed)
    client, _ = _client(seed)
    token = _token(client.get("/").text)
    page = client.post(
        "/check",
        data={"csrf": token},
        files={"article": (name, data, "application/octet-stream")},
        headers={"origin": ORIGIN},
    )
    assert page.status_code == 200, page.text
    article = tmp_path / name
    article.write_bytes(data)
    cli = run("--library", seed, "--offline", "report", article, "--json").json()
    assert f">{cli['verdict_line']}<" in page.text.replace("&#39;", "'")
    for claim in CLAIMS:
        assert f'id="claim-{claim}"' in page.text
    assert {k: v for k, v in _tree(seed).items() if not k.startswith(".index")} == {
        k: v for k, v in before.items() if not k.startswith(".index")
    }


def test_add_fetches_the_pasted_identifiers_in_the_background_and_shows_the_outcomes(library, crossref):
    client, site = _client(library, offline=False)
    page = client.get("/add")
    done = client.post(
        "/add",
        data={"csrf": _token(page.text), "ids": "Lieber et al. 1997. doi:10.1002/jor.1100150407\n"},
        headers={"origin": ORIGIN},
    )
    assert done.status_code == 303
    location = done.headers["location"]
    deadline = time.monotonic() + 60
    while 'id="outcomes"' not in (job := client.get(location).text) and time.monotonic() < deadline:
        assert 'http-equiv="refresh"' in job  # the page reloads itself while the job runs
        time.sleep(0.1)
    assert "status-added" in job and 'href="/works/lieber1997growth"' in job
    assert re.search(r'<p id="summary">1 added; \d+ requests? to Crossref\.</p>', job)
    assert "lieber1997growth" in (library / "references.bib").read_text()
    nothing = client.post("/add", data={"csrf": _token(page.text), "ids": "no identifiers"}, headers={"origin": ORIGIN})
    assert nothing.status_code == 400 and "No DOI, PubMed identifier (PMID:N, PMCN) or reference" in nothing.text


def test_add_finds_pasted_references_without_a_doi_through_crossrefs_bibliographic_search(library, crossref):
    client, site = _client(library, offline=False)
    pasted = (
        "Lieber RL, Jacks TM, Mohler RG, et al. Growth hormone secretagogue increases muscle strength during "
        "remobilization after canine hindlimb immobilization. J Orthop Res. 1997;15(4):519-27.\n"
        "Nobody A. Unwritten thoughts on imaginary matters. J Nowhere. 2001;1:1-2.\n"
    )
    done = client.post("/add", data={"csrf": site.token, "ids": pasted, "references": "1"}, headers={"origin": ORIGIN})
    job = site.jobs.get(int(done.headers["location"].rsplit("/", 1)[1]))
    assert job.wait(60) and not job.error, job.error
    page = client.get(done.headers["location"]).text
    assert 'href="/works/lieber1997growth"' in page and "found for the reference" in page
    assert "bibliographic search found no work whose title and authors agree" in page  # the second, named
    assert "lieber1997growth" in (library / "references.bib").read_text()
    assert (library / "references.bib").read_text().count("@") == 1


def test_other_pages_answer_while_an_add_is_still_fetching(library, crossref):
    crossref.latency = 3.0  # a distant, slow Crossref
    client, site = _client(library, offline=False)
    done = client.post(
        "/add",
        data={"csrf": site.token, "ids": "10.1002/jor.1100150407"},
        headers={"origin": ORIGIN},
    )
    job = site.jobs.get(int(done.headers["location"].rsplit("/", 1)[1]))
    assert client.get("/").status_code == 200 and client.get("/search", params={"q": "x"}).status_code == 200
    assert not job.finished, "the pages answered only after the fetch ended"
    assert "Fetching" in client.get(done.headers["location"]).text
    deadline = time.monotonic() + 60
    while not job.finished and time.monotonic() < deadline:  # done before the next test meets the fake server
        time.sleep(0.1)
    assert job.finished and not job.error, job.error


# -- what keeps other sites out ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "http://evil.example"},
        {"origin": "null"},
        {"origin": "http://testserver.evil.example"},
        {"referer": "http://evil.example/page"},
        {},  # neither: a request no page of this server made
    ],
)
def test_a_write_from_anywhere_but_the_servers_own_pages_is_refused_with_403(seed, headers):
    client, site = _client(seed)
    before = (seed / "claims.toml").read_bytes()
    answer = client.post(
        "/claims/autonomic-balance/link",
        data={"csrf": site.token, "key": "fan2017acupuncture", "stance": "supports"},
        headers=headers,
    )
    assert answer.status_code == 403
    assert (seed / "claims.toml").read_bytes() == before


def test_a_write_without_this_servers_token_is_refused(seed):
    client, _ = _client(seed)
    before = (seed / "claims.toml").read_bytes()
    for token in ("", "guessed", None):
        data = {"key": "fan2017acupuncture", "stance": "supports", **({"csrf": token} if token is not None else {})}
        answer = client.post("/claims/autonomic-balance/link", data=data, headers={"origin": ORIGIN})
        assert answer.status_code == 403 and "token" in answer.text
    assert (seed / "claims.toml").read_bytes() == before


def test_a_request_under_another_host_name_is_refused_against_dns_rebinding(seed):
    client, _ = _client(seed)
    answer = client.get("/", headers={"host": "rebind.evil.example:8765"})
    assert answer.status_code == 421 and "claims" not in answer.text


@pytest.mark.parametrize(
    "path",
    [
        "/works/../../etc/passwd",
        "/works/%2e%2e/%2e%2e/etc/passwd",
        "/static/../../../../etc/passwd",
        "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/articles/..%2f..%2f..%2fetc%2fpasswd",
        "/articles/..%2fclaims.toml",
        "/articles/nerve-pain.md/references.%2e%2e",
    ],
)
def test_no_path_reaches_outside_the_library(seed, path):
    import http.client

    from evidence.web.server import bind

    # Sent byte for byte, as a hostile client would: an HTTP library would tidy the dots away first.
    with _served(seed) as port:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", path)
        answer = connection.getresponse()
        body = answer.read().decode("utf-8", "replace")
    assert answer.status in (400, 404), (path, answer.status)
    assert "root:" not in body and "[claims." not in body
    assert bind  # the server under test binds as serve does


def test_an_upload_over_the_limit_is_refused_with_413(seed):
    client, site = _client(seed, max_body=10_000)
    answer = client.post(
        "/check",
        data={"csrf": site.token},
        files={"article": ("big.md", b"x" * 20_000, "text/markdown")},
        headers={"origin": ORIGIN},
    )
    assert answer.status_code == 413


def test_hostile_metadata_is_escaped_on_every_page(run, library, crossref):
    doi = "10.5555/hostile"
    crossref.records[doi] = {
        "DOI": doi,
        "type": "journal-article",
        "title": ['&lt;script&gt;alert("t")&lt;/script&gt; <img src=x onerror=alert(1)> lone title'],
        "author": [{"family": "<b>Smith</b>", "given": "Ann"}],
        "container-title": ['J "><script>alert(2)</script>'],
        "abstract": "<jats:p>A passage <script>alert(3)</script> on lone work.</jats:p>",
        "URL": 'https://evil.example/"><script>alert(1)</script>',
        "published-print": {"date-parts": [[2020]]},
    }
    assert run("--library", library, "add", doi).exit_code == 0
    key = re.search(r"@article\{([^,]+),", (library / "references.bib").read_text()).group(1)
    client, _ = _client(library)
    for path in ("/", "/search?q=lone", f"/works/{key}", "/claims"):
        html = client.get(path).text
        assert "<script>" not in html and "<img" not in html and "<b>" not in html, path
    assert "&lt;script&gt;" in client.get(f"/works/{key}").text


# -- the command -------------------------------------------------------------------------------------------------


def test_serve_refuses_a_host_other_machines_reach_unless_allowed(run, seed):
    refused = run("--library", seed, "serve", "--host", "0.0.0.0", "--no-browser")
    assert refused.exit_code != 0 and "--allow-remote" in refused.stderr and "Traceback" not in refused.stderr


class _served:
    """``evidence serve`` as a user starts it, on a free port, offline; yields the port."""

    def __init__(self, library: Path, *extra: str):
        self.command = [sys.executable, "-m", "evidence", "--library", str(library), "--offline", "serve"]
        self.command += ["--no-browser", "--port", "0", "--json", *extra]

    def __enter__(self) -> int:
        self.process = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if not line:
            raise AssertionError(self.process.stderr.read())
        self.url = json.loads(line)["url"]
        return int(self.url.rsplit(":", 1)[1].strip("/"))

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads the listening sockets from Linux's /proc")
def test_the_server_listens_on_127_0_0_1_only(seed):
    with _served(seed) as port:
        listening = [
            line.split()[1]
            for name in ("/proc/net/tcp", "/proc/net/tcp6")
            if Path(name).exists()
            for line in Path(name).read_text().splitlines()[1:]
            if line.split()[3] == "0A" and line.split()[1].endswith(f":{port:04X}")
        ]
    assert listening == [f"0100007F:{port:04X}"]


# -- in a real browser -------------------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _browser():
    playwright = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it when it can)")
    return playwright.sync_playwright()


def test_in_chromium_search_a_work_claims_linking_and_an_uploaded_article(seed, tmp_path):
    with _served(seed) as port, _browser() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        base = f"http://127.0.0.1:{port}"
        page.goto(base + "/")
        assert "4 claims" in page.inner_text(".counts")
        page.fill("nav input[name=q]", "parasympathetic tone")
        page.press("nav input[name=q]", "Enter")
        page.wait_for_url("**/search?q=parasympathetic+tone")
        assert page.locator(".hit .title").first.inner_text().startswith("Acupuncture increases parasympathetic")
        assert page.locator(".hit mark").all_inner_texts() == ["parasympathetic", "tone"]
        page.click(".hit .title")
        page.wait_for_url("**/works/hamvas2023acupuncture")
        assert "systematic review or meta-analysis" in page.inner_text("main")

        page.goto(base + "/claims")
        for claim in CLAIMS:
            card = page.locator(f"#claim-{claim}")
            assert card.locator(".warn").count() >= 1, claim
        page.click("#claim-autonomic-balance a.button")
        form = page.locator("#claim-autonomic-balance form.suggestion").first
        key = form.locator("input[name=key]").get_attribute("value")
        form.locator("select[name=stance]").select_option("background")
        form.locator("button").click()
        page.wait_for_selector("#linked")
        assert key in page.inner_text("#linked")
        assert f'key = "{key}"' in (seed / "claims.toml").read_text()

        article = tmp_path / "upload.md"
        shutil.copy(seed / "articles" / "nerve-pain.md", article)
        page.goto(base + "/")
        page.set_input_files("input[name=article]", str(article))
        page.click("form.upload button")
        page.wait_for_selector("#verdict")
        assert page.locator(".claim").count() == 4 and page.locator(".csl-entry").count() == 5
        browser.close()


def test_in_chromium_a_page_on_another_site_cannot_post_to_the_server(seed, tmp_path):
    """A hostile page the user opens posts a form to the server (what a CSRF attack does): refused, nothing
    changes."""
    import http.server
    import threading

    before = (seed / "claims.toml").read_bytes()
    with _served(seed) as port, _browser() as playwright:
        attack = (
            f'<form id="f" method="post" action="http://127.0.0.1:{port}/claims/autonomic-balance/link">'
            '<input name="key" value="fan2017acupuncture"><input name="stance" value="supports">'
            '<input name="csrf" value="guess"></form><script>document.getElementById("f").submit()</script>'
        ).encode()

        class Hostile(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server API
                self.send_response(200)
                self.send_header("content-type", "text/html")
                self.end_headers()
                self.wfile.write(attack)

            def log_message(self, *args):
                pass

        hostile = http.server.HTTPServer(("127.0.0.1", 0), Hostile)
        threading.Thread(target=hostile.serve_forever, daemon=True).start()
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        with page.expect_response(lambda r: "/link" in r.url) as answer:
            page.goto(f"http://localhost:{hostile.server_address[1]}/")
        assert answer.value.status == 403
        browser.close()
        hostile.shutdown()
    assert (seed / "claims.toml").read_bytes() == before


def test_the_server_answers_to_its_own_loopback_names_only():
    from evidence.web.server import allowed_hosts

    assert allowed_hosts("127.0.0.1", 8765) == {"127.0.0.1:8765", "localhost:8765", "[::1]:8765"}
    assert "127.0.0.1" in allowed_hosts("127.0.0.1", 80)  # browsers leave out the default port
    assert allowed_hosts("192.168.1.20", 8765) == {"192.168.1.20:8765"}


def test_the_home_pages_verdicts_follow_every_change_they_rest_on(seed):
    client, _ = _client(seed)
    verdict = lambda: re.search(r'class="verdict-[^"]*">([^<]*)<', client.get("/").text).group(1)  # noqa: E731
    assert verdict().startswith("not checked")
    claims = seed / "claims.toml"
    kept = claims.read_text()
    claims.write_text(kept.split("[claims.autonomic-balance]")[0])  # the article's last claim is gone from it
    assert verdict().startswith("problems")
    claims.write_text(kept)
    assert verdict().startswith("not checked")
    article = seed / "articles" / "nerve-pain.md"
    article.write_text(article.read_text() + "\nAs [@nobody1999] found.\n")
    assert verdict().startswith("problems")


def test_suggestions_that_take_long_show_their_progress_until_they_are_found(seed, monkeypatch):
    import threading

    from evidence.web import pages

    release = threading.Event()
    real = Library.suggest

    def slow(self, text, limit=10, progress=None):  # as the first suggest of a large library embeds its works
        progress(3, 10)
        release.wait(60)
        return real(self, text, limit=limit)

    monkeypatch.setattr(Library, "suggest", slow)
    monkeypatch.setattr(pages, "SUGGEST_WAIT", 0.05)
    client, site = _client(seed)
    page = client.get("/claims", params={"suggest": "autonomic-balance"}).text
    assert 'http-equiv="refresh"' in page and "embedding 3 of 10 works" in page and 'name="key"' not in page
    again = client.get("/claims", params={"suggest": "autonomic-balance"}).text
    assert "embedding 3 of 10 works" in again  # the same job followed, not a second one started
    release.set()
    monkeypatch.setattr(pages, "SUGGEST_WAIT", 30.0)
    found = client.get("/claims", params={"suggest": "autonomic-balance"}).text
    assert 'http-equiv="refresh"' not in found and 'name="key" value="fan2017acupuncture"' in found


def test_a_body_sent_in_chunks_without_a_length_is_still_cut_off_at_the_limit(seed):
    import http.client

    from evidence.web.app import MAX_BODY

    piece = b"x" * (1 << 20)
    with _served(seed) as port:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request(
            "POST",
            "/check",
            body=(piece for _ in range(MAX_BODY // len(piece) + 2)),
            headers={"Origin": f"http://127.0.0.1:{port}", "Content-Type": "application/octet-stream"},
            encode_chunked=True,
        )
        answer = connection.getresponse()
        assert answer.status == 413 and b"MB was sent" in answer.read()


def test_the_home_pages_button_fills_abstracts_as_enrich_does(run, library, crossref, biblio, tmp_path):
    doi = "10.1126/sciadv.adi3902"  # a PubMed recording (metapub's) that the fake PubMed serves
    item = {
        "id": "sang2023",
        "type": "article-journal",
        "DOI": doi,
        "title": "Association between frailty and depression",
    }
    works = tmp_path / "works.json"
    works.write_text(json.dumps([item]))
    assert run("--library", library, "--offline", "import", works).exit_code == 0
    client, site = _client(library, offline=False)
    home = client.get("/").text
    assert 'action="/enrich"' in home and "Works without an abstract (1)" in home
    done = client.post("/enrich", data={"csrf": site.token}, headers={"origin": ORIGIN})
    job = site.jobs.get(int(done.headers["location"].rsplit("/", 1)[1]))
    assert job.wait(60) and not job.error, job.error
    page = client.get(done.headers["location"]).text
    assert "abstract from pubmed:37729413" in page and re.search(r'<p id="summary">1 of 1 works enriched', page)
    assert run("--library", library, "show", "sang2023", "--json").json()["pmid"] == "37729413"
    assert "Works without an abstract" not in client.get("/").text
    offline, _ = _client(library, offline=True)
    assert 'action="/enrich"' not in offline.get("/").text


def test_the_home_pages_verdicts_follow_an_edit_to_another_article(seed):
    """A claim of claims.toml that no article makes is a problem of every report, so the verdict kept for one
    article rests on the others too."""
    claims = seed / "claims.toml"
    claims.write_text(claims.read_text() + '\n[claims.extra]\ntext = "Another claim."\n')
    other = seed / "articles" / "other.md"
    other.write_text("# Other\n\n[Another claim.]{.claim #extra}\n")
    client, _ = _client(seed)
    verdict = lambda: re.search(  # noqa: E731
        r'href="/articles/nerve-pain.md">nerve-pain.md</a></td><td class="verdict-[^"]*">([^<]*)<', client.get("/").text
    ).group(1)
    assert not verdict().startswith("problems")
    other.write_text("# Other\n\nNo claims here any more.\n")
    assert verdict().startswith("problems")


def test_serve_json_gives_the_address_whatever_the_library_is_called(seed, tmp_path):
    odd = tmp_path / "notes at home (copy)"
    shutil.copytree(seed, odd)
    with _served(odd) as port:
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as answer:
            assert answer.status == 200
