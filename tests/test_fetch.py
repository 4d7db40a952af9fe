"""Fetching at scale: batching, aliases, rate limits, timeouts, broken answers, resume after a kill."""

import json
import os
import random
import signal
import subprocess
import sys
import time

from bibcheck import read_both
from conftest import ROOT
from fakeserver import FakeCrossref, load_records

from evidence.sources.crossref import CrossrefClient
from evidence.sources.http import Pacer, Slots

GOOD = "10.1002/jor.1100150407"
SOME = ["10.1038/srep16696", "10.1111/ele.14024", "10.1002/ajmg.b.31237", "10.1136/jclinpath-2020-206745"]


def synthetic_records(count: int, suffix_length: int = 0) -> dict[str, dict]:
    """``count`` distinct works made from the real test records, each with its own DOI and title."""
    base = list(load_records().values())
    records = {}
    for number in range(count):
        work = json.loads(json.dumps(base[number % len(base)]))
        doi = f"10.5555/bulk-{'x' * suffix_length}{number:04d}"
        work["DOI"] = doi
        work["title"] = [f"{work.get('title', ['Untitled'])[0]} (copy {number})"]
        records[doi] = work
    return records


def test_an_alias_doi_is_followed_to_its_primary_and_both_are_recorded(run, library, crossref):
    crossref.aliases["10.9999/old-name"] = GOOD
    result = run("--library", library, "add", "10.9999/old-name", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["outcomes"][0]["status"] == "added"
    assert read_both(library / "references.bib")["lieber1997growth"]["doi"] == GOOD
    names = sorted(p.name for p in (library / "records").glob("*.json"))
    assert names == ["10.1002%2Fjor.1100150407.json", "10.9999%2Fold-name.json"]
    crossref.log.clear()
    assert run("--library", library, "add", "10.9999/old-name", "--json").json()["outcomes"][0]["status"] == "present"
    assert not crossref.log


def test_a_broken_list_answer_falls_back_to_single_requests(run, library, crossref):
    crossref.script["*list*"] = ["truncated"]
    result = run("--library", library, "add", GOOD, *SOME, "--json")
    assert result.exit_code == 0, result.stderr
    assert all(o["status"] == "added" for o in result.json()["outcomes"])
    assert len(crossref.requests_to("work")) == 5
    assert "one by one" in result.stderr


def test_a_429_storm_ends_with_every_doi_stored(run, library, crossref):
    crossref.limits = (2.0, 1.0, 1)  # far below what the client paces itself to in the public pool
    crossref.script["*list*"] = ["html"]  # force single requests, where the limit bites
    result = run("--library", library, "add", GOOD, *SOME, "--json")
    assert result.exit_code == 0, result.stderr
    report = result.json()
    assert all(o["status"] == "added" for o in report["outcomes"])
    assert report["rate_limited"] >= 1 and crossref.rejected == report["rate_limited"]


def test_a_doi_that_keeps_failing_is_unreachable_never_not_found(run, library, crossref, monkeypatch):
    monkeypatch.setattr(CrossrefClient, "_backoff_delay", lambda self, attempt: 0.0)
    crossref.script["*list*"] = ["503"] * 5
    crossref.script[GOOD] = ["503"] * 5
    result = run("--library", library, "add", GOOD, SOME[0], "--json")
    statuses = {o["doi"]: o["status"] for o in result.json()["outcomes"]}
    assert statuses == {GOOD: "unreachable", SOME[0]: "added"}
    assert result.exit_code == 1


def test_a_slow_answer_times_out_and_is_retried():
    server = FakeCrossref(slow_seconds=1.0).start()
    try:
        server.script[GOOD] = ["slow"]
        client = CrossrefClient(server.url, server.url, timeout=(1.0, 0.3), sleep=lambda s: None)
        message = client.work(GOOD)
        assert message["DOI"].lower() == GOOD
        assert client.counters.retries == 1
    finally:
        server.stop()


def test_the_pacer_spaces_requests_and_adopts_a_lower_advertised_rate():
    clock = [0.0]
    slept = []
    pacer = Pacer(rate=10.0)
    for _ in range(3):
        pacer.wait(sleep=lambda s: slept.append(s), clock=lambda: clock[0])
    assert [round(s, 3) for s in slept] == [0.11, 0.22]
    pacer.adopt("4", "2s")
    assert pacer.rate == 2.0
    pacer.adopt("50", "1s")  # a higher figure never raises our own ceiling
    assert pacer.rate == 2.0
    pacer.adopt("many", "1s")
    assert pacer.rate == 2.0


def test_concurrency_adopts_the_servers_limit():
    slots = Slots(3)
    slots.adopt("1")
    assert slots.limit == 1
    slots.adopt("5")
    assert slots.limit == 1


def test_batches_fit_the_url_and_hold_at_least_twenty_dois():
    client = CrossrefClient("http://127.0.0.1:9", mailto="me@example.org")
    short = [f"10.1234/abc{n}" for n in range(500)]
    assert client.batch_size_for(short) == 100
    long = [f"10.1234/{'y' * 150}{n}" for n in range(500)]
    assert 20 <= client.batch_size_for(long) < 100


def test_a_rerun_of_the_same_list_makes_no_requests(run, library, crossref, tmp_path):
    listing = tmp_path / "dois.txt"
    listing.write_text("\n".join([GOOD, *SOME]))
    assert run("--library", library, "add", "--from", listing).exit_code == 0
    crossref.log.clear()
    result = run("--library", library, "add", "--from", listing, "--json")
    assert result.json()["requests"] == 0 and not crossref.log


def test_killing_add_at_random_moments_loses_and_duplicates_nothing(library, tmp_path):
    """SIGKILL a 200-DOI `add --from` three times at random moments, then let it finish."""
    records = synthetic_records(200, suffix_length=140)  # long DOIs: about 20 a batch, so many requests
    server = FakeCrossref(records=records, latency=0.05).start()
    listing = tmp_path / "dois.txt"
    listing.write_text("\n".join(records))
    env = dict(
        os.environ,
        EVIDENCE_CROSSREF_URL=server.url,
        EVIDENCE_DOI_URL=server.url,
        EVIDENCE_MAILTO="test@example.org",
        PYTHONPATH=str(ROOT),
    )
    command = [sys.executable, "-m", "evidence", "--library", str(library), "add", "--from", str(listing), "--json"]
    rng = random.Random(7)
    try:
        for _ in range(3):
            process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.3, 1.5))
            process.send_signal(signal.SIGKILL)
            process.wait()
            read_both(library / "references.bib")  # parseable by both readers after every kill
        finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    finally:
        server.stop()
    assert finished.returncode == 0, finished.stderr
    entries = read_both(library / "references.bib")
    assert sorted(entry["doi"] for entry in entries.values()) == sorted(records)
    assert len(list((library / "records").glob("*.json"))) == 200
    assert len(entries) == 200  # no key twice: both readers would have reported a duplicate


def test_two_adds_at_once_lose_no_update(library, tmp_path):
    """Two `add --from` runs on one library at the same time: the lock makes them take turns; both sets stored."""
    records = synthetic_records(60)
    server = FakeCrossref(records=records, latency=0.02).start()
    dois = list(records)
    env = dict(
        os.environ,
        EVIDENCE_CROSSREF_URL=server.url,
        EVIDENCE_DOI_URL=server.url,
        EVIDENCE_MAILTO="test@example.org",
        PYTHONPATH=str(ROOT),
    )
    processes = []
    try:
        for number, part in enumerate((dois[:30], dois[30:])):
            listing = tmp_path / f"part{number}.txt"
            listing.write_text("\n".join(part))
            command = [sys.executable, "-m", "evidence", "--library", str(library), "add", "--from", str(listing)]
            processes.append(
                subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            )
        codes = [process.wait(timeout=120) for process in processes]
    finally:
        server.stop()
    assert codes == [0, 0], [p.stderr.read() for p in processes]
    entries = read_both(library / "references.bib")
    assert sorted(entry["doi"] for entry in entries.values()) == sorted(dois)


def test_a_record_for_a_different_doi_than_asked_is_refused_and_nothing_is_stored(run, library, crossref):
    crossref.script["*list*"] = ["html"]  # so the DOI is asked for on its own, where the wrong record comes back
    crossref.script[GOOD] = ["wrong"]
    result = run("--library", library, "add", GOOD, "--json")
    assert result.exit_code == 1
    outcome = result.json()["outcomes"][0]
    assert outcome["status"] == "bad-answer"
    assert outcome["message"].startswith(f"Crossref answered the request for {GOOD} with the record of 10.")
    assert not list((library / "records").glob("*.json"))
    assert "@" not in (library / "references.bib").read_text()
