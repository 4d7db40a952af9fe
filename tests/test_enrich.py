"""Filling what Crossref lacks from PubMed, Europe PMC and OpenAlex: abstracts, PMIDs, publication types, with
where each came from; never over what the user wrote; once (a rerun asks nothing); never failing an add."""

from __future__ import annotations

import json

import pytest
from fakebiblio import CORPUS

from evidence.errors import RemoteDataError
from evidence.sources import openalex_json, pubmed_xml

# PubMed 37729413 (metapub recording): a Meta-Analysis with a labelled abstract and a PMCID. Its Crossref record,
# here with the bibliographic fields the PubMed recording gives and no abstract (as many publishers deposit none).
RECORDINGS = CORPUS / "pubmed" / "metapub"
DOI = "10.1126/sciadv.adi3902"
CROSSREF_WITHOUT_ABSTRACT = {
    "DOI": DOI,
    "type": "journal-article",
    "title": ["Association between frailty and depression: A bidirectional Mendelian randomization study"],
    "author": [{"family": "Sang", "given": "Ning"}],
    "container-title": ["Science advances"],
    "issued": {"date-parts": [[2023, 9]]},
    "volume": "9",
    "issue": "38",
}


@pytest.fixture
def online(crossref):
    crossref.records[DOI] = CROSSREF_WITHOUT_ABSTRACT
    return crossref


def _show(run, library, key):
    result = run("--library", library, "show", key, "--json")
    assert result.exit_code == 0, result.stderr
    return result.json()


def test_add_fills_abstract_pmid_and_design_from_pubmed_and_says_where_each_came_from(run, library, online, biblio):
    result = run("--library", library, "add", DOI)
    assert result.exit_code == 0, result.stderr
    assert "enriched" in result.stdout and "pubmed:37729413" in result.stdout
    key = [line for line in (library / "references.bib").read_text().splitlines() if line.startswith("@")][0]
    key = key.split("{", 1)[1].rstrip(",")
    shown = _show(run, library, key)
    assert shown["pmid"] == "37729413"
    (recorded,) = pubmed_xml.articles((RECORDINGS / "37729413.xml").read_bytes())
    assert shown["abstract"] == recorded.abstract and len(recorded.abstract) > 500
    assert shown["design"] == "systematic review or meta-analysis"
    assert shown["design_source"] == "publication types"
    assert shown["sources"]["abstract"].startswith("pubmed:37729413, ")
    assert shown["sources"]["pmid"].startswith("pubmed:37729413")
    assert shown["fields"]["pmcid"] == "PMC10511184"
    stored = json.loads((library / "records" / "pubmed" / "10.1126%2Fsciadv.adi3902.json").read_text())
    assert stored["raw"].startswith("<PubmedArticle")
    assert _show(run, library, "pmid:37729413")["key"] == key


def test_a_rerun_asks_nothing_and_offline_asks_nothing(run, library, online, biblio):
    assert run("--library", library, "add", DOI).exit_code == 0
    asked = len(biblio.log)
    assert asked >= 2  # esearch and efetch at least
    again = run("--library", library, "enrich", "--json")
    assert again.exit_code == 0, again.stderr
    assert again.json()["requests"] == 0 and len(biblio.log) == asked
    assert run("--library", library, "--offline", "enrich").exit_code == 0
    assert len(biblio.log) == asked


def test_a_value_the_user_wrote_is_never_replaced(run, library, online, biblio):
    (library / "references.bib").write_text(
        "@article{mine,\n  title = {Frailty and depression},\n  doi = {10.1126/sciadv.adi3902},\n"
        "  abstract = {My own summary.},\n}\n"
    )
    result = run("--library", library, "enrich", "mine")
    assert result.exit_code == 0, result.stderr
    text = (library / "references.bib").read_text()
    assert "abstract = {My own summary.}" in text and text.count("abstract =") == 1
    assert "abstract-source" not in text
    assert "pmid = {37729413}" in text and "pmid-source = {pubmed:37729413," in text


@pytest.mark.parametrize("misbehaviour", ["500", "garbage", "truncated", "entities"])
def test_a_service_down_or_garbled_leaves_the_work_as_it_was_and_the_add_succeeds(
    run, library, online, biblio, misbehaviour, monkeypatch
):
    monkeypatch.setattr("evidence.sources.http.PoliteClient._backoff_delay", lambda self, attempt: 0.0)
    biblio.script["eutils"] = [misbehaviour] * 10
    biblio.script["europepmc"] = ["500"] * 10
    biblio.script["openalex"] = ["500"] * 10
    result = run("--library", library, "add", DOI)
    assert result.exit_code == 0, result.stderr
    assert "PubMed" in result.stderr and "left as they were" in result.stderr
    assert "Traceback" not in result.stderr
    text = (library / "references.bib").read_text()
    assert "pmid" not in text and "abstract" not in text
    assert not (library / "records" / "pubmed").exists()  # nothing stored: the next run asks again


def test_a_rate_limited_service_is_asked_again_after_retry_after(run, library, online, biblio):
    biblio.script["eutils"] = ["429", "429"]
    result = run("--library", library, "add", DOI)
    assert result.exit_code == 0, result.stderr
    assert "pmid = {37729413}" in (library / "references.bib").read_text()


def test_sources_can_be_turned_off_in_evidence_toml(run, library, online, biblio):
    (library / "evidence.toml").write_text("[sources]\nenrich = []\n")
    assert run("--library", library, "add", DOI).exit_code == 0
    assert biblio.log == [] and "pmid" not in (library / "references.bib").read_text()
    (library / "evidence.toml").write_text('[sources]\nenrich = ["medline"]\n')
    result = run("--library", library, "enrich")
    assert result.exit_code != 0 and "sources.enrich" in result.stderr


def test_openalex_abstract_is_rebuilt_from_its_inverted_index():
    index = {"Pain": [0], "is": [1, 4], "what": [2], "it": [3], "felt.": [5]}
    assert openalex_json.abstract_text(index) == "Pain is what it is felt."
    assert openalex_json.abstract_text(None) == ""
    assert openalex_json.abstract_text({"x": [10**9]}) == ""  # not an abstract: refused, not rebuilt


def test_structured_abstracts_keep_their_labels_and_medline_page_ranges_are_expanded():
    xml = (
        "<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article><ArticleTitle>T<i>x</i>.</ArticleTitle>"
        "<Pagination><MedlinePgn>123-9</MedlinePgn></Pagination><Abstract>"
        '<AbstractText Label="BACKGROUND">Why <sup>2</sup>.</AbstractText>'
        '<AbstractText Label="METHODS">How.</AbstractText>'
        "</Abstract><PublicationTypeList><PublicationType>Randomized Controlled Trial</PublicationType>"
        "</PublicationTypeList></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>"
    )
    (found,) = pubmed_xml.articles(xml)
    assert found.abstract == "BACKGROUND: Why 2.\n\nMETHODS: How."
    assert found.fields["pages"] == "123--129" and found.fields["title"] == "Tx"
    assert found.publication_types == ("Randomized Controlled Trial",)


def test_xml_that_declares_entities_is_refused_not_expanded():
    bomb = '<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><PubmedArticleSet>&b;</PubmedArticleSet>'
    with pytest.raises(RemoteDataError, match="entities"):
        pubmed_xml.articles(bomb)


def _added_entry(library) -> str:
    return (library / "references.bib").read_text()


def test_add_pmid_goes_through_the_doi_and_crossref_then_fills_from_the_stored_pubmed_answer(
    run, library, online, biblio
):
    result = run("--library", library, "add", "PMID:37729413", "--json")
    assert result.exit_code == 0, result.stderr
    (outcome,) = result.json()["outcomes"]
    assert outcome["status"] == "added" and outcome["doi"] == DOI
    assert [e for e in online.log if DOI in json.dumps(e)]  # Crossref's record was fetched (and stored for check)
    assert len(biblio.requests_to("eutils")) == 1  # one efetch; the enrichment read the stored answer
    text = _added_entry(library)
    assert "pmid = {37729413}" in text and "abstract-source = {pubmed:37729413," in text


def test_add_pmid_of_a_work_crossref_lacks_makes_it_from_pubmed_alone_with_its_doi(run, library, crossref, biblio):
    result = run("--library", library, "add", "pmid:33474827")
    assert result.exit_code == 0, result.stderr
    assert "from PubMed alone" in result.stdout
    text = _added_entry(library)
    assert "doi = {10.1111/1759-7714.13823}" in text and "journal = {Thoracic cancer}" in text
    assert "pages = {659--666}" in text and "pmcid = {PMC7919130}" in text


def test_add_pmcid_is_converted_and_an_unknown_pmid_is_not_found(run, library, crossref, biblio):
    result = run("--library", library, "add", "PMC7919130", "PMID:999999999", "--json")
    assert result.exit_code == 1
    statuses = {o["doi"]: o["status"] for o in result.json()["outcomes"]}
    assert statuses["PMID:999999999"] == "not-found"
    assert statuses["10.1111/1759-7714.13823"] == "added"
    assert biblio.requests_to("idconv")


def test_add_from_text_finds_pmids_and_pmcids_but_not_bare_numbers(run, library, crossref, biblio, tmp_path):
    listing = tmp_path / "list.txt"
    listing.write_text("See PMID: 33474827 and 12345 patients (PMC7919130).\n")
    result = run("--library", library, "add", "--from", listing, "--json")
    assert result.exit_code == 0, result.stderr
    outcomes = result.json()["outcomes"]
    assert [o["status"] for o in outcomes].count("added") == 1  # both name the same work: added once
    assert "12345" not in json.dumps(outcomes)


def test_offline_a_pmid_never_asked_is_unreachable_not_invented(run, library, biblio):
    result = run("--library", library, "--offline", "add", "PMID:37729413", "--json")
    assert result.exit_code == 1
    assert result.json()["outcomes"][0]["status"] == "unreachable" and biblio.log == []


RETRACTED = "10.3928/02793695-20260701-01"  # Europe PMC recording: 'Retracted Publication', 'Retraction in' ...


def test_a_retraction_europe_pmc_records_makes_the_work_retracted_in_check_and_claims(run, library, crossref, biblio):
    crossref.records[RETRACTED] = {  # Crossref's record without 'updated-by': it has not heard of the retraction
        "DOI": RETRACTED,
        "type": "journal-article",
        "title": ["School-Based Suicide Prevention Efforts"],
        "author": [{"family": "Mechling", "given": "Brandy M"}],
        "container-title": ["Journal of Psychosocial Nursing and Mental Health Services"],
        "issued": {"date-parts": [[2026, 8]]},
    }
    assert run("--library", library, "add", RETRACTED).exit_code == 0
    text = (library / "references.bib").read_text()
    assert "Retracted Publication" in text and "retraction-source = {europepmc:MED:42550576," in text
    result = run("--library", library, "check", RETRACTED, "--json")
    assert result.exit_code == 1, result.stdout
    data = result.json()
    (item,) = data[0]["references"] if isinstance(data, list) else data["references"]
    assert item["status"] == "retracted" and "europepmc:MED:42550576" in " ".join(item["warnings"])
    shown = run("--library", library, "show", RETRACTED, "--json").json()
    assert shown["sources"]["retraction"].startswith("europepmc:MED:42550576")


def test_search_by_pmid_finds_the_enriched_work(run, library, online, biblio):
    assert run("--library", library, "add", DOI).exit_code == 0
    result = run("--library", library, "search", "pmid:37729413", "--json")
    assert result.exit_code == 0, result.stderr
    assert [hit["doi"] for hit in result.json()["hits"]] == [DOI]
    assert run("--library", library, "search", "pmid:1", "--json").json()["hits"] == []


def test_check_verifies_a_cited_pmid_as_it_verifies_a_doi(run, library, online, biblio, tmp_path):
    article = tmp_path / "a.md"
    article.write_text(
        "Frailty and depression go together.\n\n## References\n\n"
        "1. Sang N. Association between frailty and depression: a bidirectional Mendelian randomization study. "
        "Science Advances. 2023;9(38). PMID: 37729413.\n"
        "2. Sang N. Association between frailty and depression. Science Advances. 2023. "
        "doi:10.1126/sciadv.adi3902. PMID: 33474827.\n"
        "3. Nobody A. A work PubMed never indexed. J Nothing. 2020;1:1. PMID: 999999999.\n"
    )
    result = run("--library", library, "check", article, "--json")
    assert result.exit_code == 1, result.stderr
    first, second, third = result.json()["references"]
    assert first["status"] == "ok" and first["doi"] == DOI and first["matched_by"] == "pmid"
    assert second["status"] == "mismatch"
    assert {"field": "PMID", "cited": "33474827", "found": "PMID 33474827 is 10.1111/1759-7714.13823"} in second[
        "problems"
    ]
    assert third["status"] == "not-found" and "PMID 999999999" in " ".join(third["warnings"])


def test_records_of_other_works_are_never_taken_for_the_one_asked_about(run, library, online, biblio):
    biblio.pubmed.clear()  # PubMed knows nothing; Europe PMC and OpenAlex answer with other works' records
    biblio.script["europepmc"] = ["wrong"]
    biblio.script["openalex"] = ["wrong"]
    assert run("--library", library, "add", DOI).exit_code == 0
    text = (library / "references.bib").read_text()
    assert "abstract" not in text and "pmid" not in text


def test_enrich_with_every_service_unreachable_says_so_and_exits_4(run, library, monkeypatch):
    monkeypatch.setattr("evidence.sources.http.PoliteClient._backoff_delay", lambda self, attempt: 0.0)
    for name in ("EVIDENCE_PUBMED_URL", "EVIDENCE_EUROPEPMC_URL", "EVIDENCE_OPENALEX_URL"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens there
    (library / "references.bib").write_text("@article{w,\n  title = {T},\n  doi = {10.1126/sciadv.adi3902},\n}\n")
    result = run("--library", library, "enrich")
    assert result.exit_code == 4, result.stderr
    for service in ("PubMed", "Europe PMC", "OpenAlex"):
        assert f"{service} could not be reached" in result.stderr
    assert "Traceback" not in result.stderr
    assert (library / "references.bib").read_text().count("=") == 2  # the work as it was


def test_efetch_asks_by_post_beyond_200_pmids(biblio):
    from evidence.sources.pubmed import PubmedClient

    client = PubmedClient(biblio.url + "/eutils", biblio.url + "/idconv")
    pmids = [str(n) for n in range(1, 250)] + ["37729413"]
    found = client.fetch(pmids)
    assert [record.pmid for record in found] == ["37729413"]
    (entry,) = biblio.requests_to("eutils")
    assert "37729413" in entry[2]["id"] and entry[1].endswith("/efetch.fcgi")
    assert client.counters.requests == 1 and biblio.methods == ["POST"]
    client.fetch(["37729413"])
    assert biblio.methods == ["POST", "GET"]


def test_add_refresh_enriches_a_work_added_before_enrichment_was_on(run, library, online, biblio):
    (library / "evidence.toml").write_text("[sources]\nenrich = []\n")
    assert run("--library", library, "add", DOI).exit_code == 0
    assert "pmid" not in (library / "references.bib").read_text()
    (library / "evidence.toml").write_text('[sources]\nenrich = ["pubmed"]\n')
    assert run("--library", library, "add", "--refresh", DOI).exit_code == 0
    assert "pmid = {37729413}" in (library / "references.bib").read_text()


def test_a_csl_json_import_keeps_its_pmid_and_enrich_asks_pubmed_by_it(run, library, biblio, tmp_path):
    source = tmp_path / "works.json"
    source.write_text(
        json.dumps(
            [{"id": "w1", "type": "article-journal", "title": "Tumor-educated platelet SNORD55", "PMID": "33474827"}]
        )
    )
    assert run("--library", library, "--offline", "import", source).exit_code == 0
    assert "pmid = {33474827}" in (library / "references.bib").read_text()
    result = run("--library", library, "enrich", "--json")
    assert result.exit_code == 0, result.stderr
    (outcome,) = result.json()["outcomes"]
    assert outcome["ident"] == "pmid:33474827" and ["abstract", "pubmed:33474827"] in outcome["filled"]
    assert [entry[1] for entry in biblio.log] == ["/eutils/efetch.fcgi"]  # asked by the PMID: no search


def test_claims_call_a_support_retracted_when_europe_pmc_records_the_retraction(run, library, crossref, biblio):
    crossref.records[RETRACTED] = {
        "DOI": RETRACTED,
        "type": "journal-article",
        "title": ["School-Based Suicide Prevention Efforts"],
        "author": [{"family": "Mechling", "given": "Brandy M"}],
        "issued": {"date-parts": [[2026, 8]]},
    }
    assert run("--library", library, "add", RETRACTED).exit_code == 0
    key = run("--library", library, "show", RETRACTED, "--json").json()["key"]
    (library / "claims.toml").write_text(
        f'[claims.teams]\ntext = "School teams prevent suicide."\n\n[[claims.teams.support]]\nkey = "{key}"\n'
        'stance = "supports"\n'
    )
    (library / "articles").mkdir(exist_ok=True)
    article = library / "articles" / "a.md"
    article.write_text(f"[School teams prevent suicide [@{key}].]{{.claim #teams}}\n")
    result = run("--library", library, "--offline", "claims", article, "--json")
    assert result.exit_code == 1
    (claim,) = result.json()["claims"]
    assert claim["supports"][0]["retracted"] == "retracted"
    assert any("rests only on retracted work" in p["message"] for p in result.json()["problems"])


def test_a_style_that_prints_the_pmid_gets_it(run, library, online, biblio, tmp_path):
    style = tmp_path / "pmid.csl"
    style.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<style xmlns="http://purl.org/net/xbiblio/csl" class="in-text" version="1.0">\n'
        "  <info><title>PMID test</title><id>pmid-test</id><updated>2026-12-01T00:00:00+00:00</updated></info>\n"
        '  <citation><layout><text variable="title"/></layout></citation>\n'
        '  <bibliography><layout><text variable="title"/><text variable="PMID" prefix=". PMID: "/>'
        '<text variable="PMCID" prefix="; "/></layout></bibliography>\n'
        "</style>\n"
    )
    assert run("--library", library, "add", DOI).exit_code == 0
    key = run("--library", library, "show", DOI, "--json").json()["key"]
    article = tmp_path / "a.md"
    article.write_text(f"Frailty [@{key}].\n")
    result = run("--library", library, "--offline", "refs", article, "--style", style)
    assert result.exit_code == 0, result.stderr
    assert "PMID: 37729413; PMC10511184" in result.stdout


def test_a_hostile_abstract_from_a_service_is_escaped_into_one_field(run, library, online, biblio):
    biblio.pubmed.clear()
    biblio.europepmc.append(
        {
            "id": "1",
            "source": "MED",
            "pmid": "1",
            "doi": DOI,
            "pubTypeList": {"pubType": ["Review"]},
            "abstractText": "Pain.}, note = {forged}, x = {\x1b]0;owned\x07 <script>alert(1)</script> \\end",
        }
    )
    assert run("--library", library, "add", DOI).exit_code == 0
    shown = run("--library", library, "show", DOI, "--json").json()
    assert "note" not in shown["fields"] and "x" not in shown["fields"]
    assert shown["abstract"].startswith("Pain.}, note = {forged}") and "\x1b" not in shown["abstract"]
    assert "<script>" not in shown["abstract"] and "alert(1)" in shown["abstract"]
    assert shown["sources"]["abstract"].startswith("europepmc:MED:1, ")
