"""`evidence add`: works fetched from a Crossref-compatible server, stored as records and BibTeX, indexed."""

import json

import pytest
from bibcheck import read_both

from evidence.store.folder import Store

GOOD = "10.1002/jor.1100150407"
OTHERS = ["10.1038/srep16696", "10.1111/ele.14024", "10.1109/afrcon.2009.5308146"]
UNKNOWN = "10.5555/no-such-work"


def entries(library):
    return read_both(library / "references.bib")


def test_add_one_work_stores_record_bibtex_and_index(run, library, crossref):
    result = run("--library", library, "add", GOOD)
    assert result.exit_code == 0, result.stderr
    assert "added" in result.stdout and "lieber1997growth" in result.stdout
    bib = entries(library)
    entry = bib["lieber1997growth"]
    assert entry["title"] == (
        "Growth hormone secretagogue increases muscle strength during remobilization after canine hindlimb "
        "immobilization"
    )
    assert entry["journal"] == "Journal of Orthopaedic Research"
    assert (entry["volume"], entry["number"], entry["pages"], entry["year"]) == ("15", "4", "519--527", "1997")
    assert entry["author"].startswith("Lieber, Richard L. and Jacks, Thomas M.")
    assert entry["doi"] == GOOD
    envelope = json.loads((library / "records" / "10.1002%2Fjor.1100150407.json").read_text())
    assert envelope["doi"] == GOOD and envelope["message"]["DOI"].lower() == GOOD
    assert envelope["fetched"].endswith("+00:00") and envelope["source"] == crossref.url
    assert (library / ".index").is_dir()


def test_add_several_uses_one_list_request_and_keeps_their_order(run, library, crossref):
    result = run("--library", library, "add", GOOD, *OTHERS, "--json")
    assert result.exit_code == 0, result.stderr
    report = result.json()
    assert [o["doi"] for o in report["outcomes"]] == [GOOD, *OTHERS]
    assert all(o["status"] == "added" for o in report["outcomes"])
    assert len(crossref.requests_to("list")) == 1 and not crossref.requests_to("work")
    assert len(entries(library)) == 4


def test_a_doi_already_in_the_library_is_reported_not_duplicated(run, library, crossref):
    run("--library", library, "add", GOOD)
    before = (library / "references.bib").read_bytes()
    calls = len(crossref.log)
    result = run("--library", library, "add", "https://doi.org/" + GOOD.upper(), "--json")
    assert result.exit_code == 0
    outcome = result.json()["outcomes"][0]
    assert outcome["status"] == "present" and outcome["key"] == "lieber1997growth"
    assert (library / "references.bib").read_bytes() == before
    assert len(crossref.log) == calls, "a work already in the library must not be fetched again"


def test_an_unknown_doi_is_named_exits_1_and_the_others_are_still_stored(run, library, crossref):
    result = run("--library", library, "add", GOOD, UNKNOWN, OTHERS[0])
    assert result.exit_code == 1
    assert UNKNOWN in result.stdout and "not-found" in result.stdout
    assert len(entries(library)) == 2
    assert crossref.requests_to("agency"), "an unfound DOI is classified with the agency endpoint"


def test_a_doi_registered_with_another_agency_is_not_called_missing(run, library, crossref):
    crossref.agencies["10.5281/zenodo.1234"] = "datacite"
    result = run("--library", library, "add", "10.5281/zenodo.1234", "--json")
    assert result.exit_code == 1
    assert result.json()["outcomes"][0]["status"] == "other-agency"


@pytest.mark.parametrize(
    "written",
    [
        "10.1002/jor.1100150407",
        "doi:10.1002/JOR.1100150407",
        "https://doi.org/10.1002/jor.1100150407",
        "http://dx.doi.org/10.1002/jor.1100150407",
        "10.1002/jor.1100150407.",
        "(10.1002/jor.1100150407),",
    ],
)
def test_every_written_form_of_a_doi_is_accepted(run, library, crossref, written):
    result = run("--library", library, "add", written, "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["outcomes"][0]["doi"] == GOOD
    assert entries(library)["lieber1997growth"]["doi"] == GOOD


def test_a_value_that_is_no_doi_is_refused_with_exit_3(run, library, crossref):
    result = run("--library", library, "add", "nerve-repair")
    assert result.exit_code == 3
    assert "is not a DOI" in result.stderr and "Traceback" not in result.stderr
    assert not crossref.log


def test_dois_are_read_from_a_file_of_free_text(run, library, crossref, tmp_path):
    listing = tmp_path / "reading-list.txt"
    listing.write_text(f"Start with https://doi.org/{GOOD}.\nThen {OTHERS[0]} and {OTHERS[1]};\n")
    result = run("--library", library, "add", "--from", listing, "--json")
    assert result.exit_code == 0, result.stderr
    assert [o["doi"] for o in result.json()["outcomes"]] == [GOOD, OTHERS[0], OTHERS[1]]


def test_references_without_a_doi_are_added_by_the_work_crossref_finds_that_agrees(run, library, crossref, tmp_path):
    listing = tmp_path / "references.txt"
    listing.write_text(
        "1. Lieber RL, Jacks TM, Mohler RG, et al. Growth hormone secretagogue increases muscle strength during "
        "remobilization after canine hindlimb immobilization. J Orthop Res. 1997;15(4):519-27.\n"
        "2. Lieber RL. Growth hormone secretagogue misremembered as a title nobody wrote. Nature. 2003;1:1.\n"
        f"3. {OTHERS[0]}\n"
    )
    without = run("--library", library, "add", "--from", listing, "--json").json()
    assert [o["doi"] for o in without["outcomes"]] == [OTHERS[0]]  # only identifiers, unless asked
    result = run("--library", library, "add", "--from", listing, "--references", "--json")
    outcomes = {o["status"]: o for o in result.json()["outcomes"] if o["doi"] != OTHERS[0]}
    assert outcomes["added"]["key"] == "lieber1997growth" and outcomes["added"]["doi"] == GOOD
    assert "found for the reference '1. Lieber RL" in outcomes["added"]["message"]
    assert outcomes["not-found"]["doi"].startswith("2. Lieber RL.")  # a near match that disagrees is not taken
    assert result.exit_code == 1  # one reference was not found
    assert crossref.requests_to("query")
    offline = run("--library", library, "--offline", "add", "--from", listing, "--references", "--json").json()
    assert {o["status"] for o in offline["outcomes"] if o["doi"].startswith(("1.", "2."))} == {"unreachable"}
    refused = run("--library", library, "add", GOOD, "--references")
    assert refused.exit_code == 2 and "--from" in refused.stderr


def test_dois_are_read_from_standard_input(run, library, crossref):
    result = run("--library", library, "add", "--from", "-", stdin=f"{GOOD}\n".encode())
    assert result.exit_code == 0, result.stderr
    assert "lieber1997growth" in entries(library)


def test_a_rerun_uses_stored_records_and_offline_mode_never_connects(run, library, crossref):
    run("--library", library, "add", GOOD)
    (library / "references.bib").write_text("")  # the user emptied the file; records/ still holds the answer
    crossref.log.clear()
    result = run("--library", library, "--offline", "add", GOOD, "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["outcomes"][0]["status"] == "added"
    assert not crossref.log


def test_offline_without_a_stored_record_reports_the_doi_as_unreachable(run, library, crossref):
    result = run("--library", library, "--offline", "add", GOOD, "--json")
    assert result.exit_code == 1
    assert result.json()["outcomes"][0]["status"] == "unreachable"
    assert not crossref.log


def test_rate_limits_and_server_errors_are_retried_not_reported_missing(run, library, crossref):
    crossref.script[GOOD] = ["429", "500"]
    result = run("--library", library, "add", GOOD, "--json")
    assert result.exit_code == 0, result.stderr
    report = result.json()
    assert report["outcomes"][0]["status"] == "added"
    assert report["rate_limited"] == 1


def test_a_server_that_cannot_be_reached_at_all_exits_4(run, library, monkeypatch):
    import socket

    with socket.socket() as probe:  # a loopback port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("EVIDENCE_CROSSREF_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setattr("evidence.sources.crossref.CrossrefClient._backoff_delay", lambda self, attempt: 0.0)
    result = run("--library", library, "add", GOOD)
    assert result.exit_code == 4
    assert "could not be reached" in result.stderr
    assert (library / "references.bib").read_text() == ""


def test_an_html_answer_is_not_taken_for_a_record(run, library, crossref):
    crossref.script[GOOD] = ["html"]
    result = run("--library", library, "add", GOOD, "--json")
    outcome = result.json()["outcomes"][0]
    assert result.exit_code == 1
    assert outcome["status"] == "bad-answer" and "HTML" in outcome["message"]
    assert (library / "references.bib").read_text() == ""
    assert not list((library / "records").iterdir())


def test_the_mail_address_goes_into_the_user_agent_and_the_query(run, library, crossref):
    run("--library", library, "--mailto", "me@example.org", "add", GOOD)
    request = crossref.log[0]
    assert "mailto:me@example.org" in request["user_agent"] and request["user_agent"].startswith("evidence/")
    assert request["query"]["mailto"] == ["me@example.org"]


def test_adding_twice_in_a_row_writes_byte_identical_files(run, tmp_path, crossref):
    outputs = []
    for name in ("one", "two"):
        path = tmp_path / name
        run("init", path)
        run("--library", path, "add", GOOD, *OTHERS)
        outputs.append((path / "references.bib").read_bytes())
    assert outputs[0] == outputs[1]


def test_without_a_library_the_user_is_told_how_to_make_one(run, tmp_path, crossref):
    result = run("--library", tmp_path / "missing", "add", GOOD)
    assert result.exit_code == 3
    assert "evidence init" in result.stderr


def test_keys_get_suffixes_when_first_author_year_and_word_clash(run, library, crossref):
    twin = dict(crossref.records[GOOD], DOI="10.1002/jor.twin")
    crossref.records["10.1002/jor.twin"] = twin
    run("--library", library, "add", GOOD, "10.1002/jor.twin")
    assert {"lieber1997growth", "lieber1997growtha"} <= set(Store(library).load_bib().keys())


def test_a_hand_edit_made_while_add_is_fetching_is_not_lost(run, seed, crossref):
    import threading
    import time

    crossref.latency = 1.0  # every answer takes a second: time to edit the file meanwhile
    outcome = {}
    adding = threading.Thread(target=lambda: outcome.update(result=run("--library", seed, "add", GOOD)))
    adding.start()
    time.sleep(0.4)
    bib = seed / "references.bib"
    bib.write_text(bib.read_text(encoding="utf-8") + "\n@misc{hand2026,\n  title = {Typed meanwhile}\n}\n")
    adding.join(timeout=30)
    assert outcome["result"].exit_code == 0, outcome["result"].stderr
    text = bib.read_text(encoding="utf-8")
    assert "hand2026" in text and "Typed meanwhile" in text and "lieber1997growth" in text
    again = run("--library", seed, "search", "Typed meanwhile", "--json")
    assert "hand2026" in again.stdout  # and the index holds it
