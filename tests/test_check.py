"""`evidence check`: DOIs resolve, match the written reference, are not retracted; mistyped DOIs get a fix."""

import json
from pathlib import Path

import pytest

from evidence.check.checking import doi_variants
from evidence.check.refparse import parse_reference, reference_section

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "nerve-pain-article.txt"
FACTS = Path(__file__).resolve().parents[2] / "shared" / "test-corpora" / "crossref-seed" / "five-seed-dois.json"
pytestmark = pytest.mark.skipif(not SEED.exists(), reason="../shared is not beside the checkout")


def seed_messages() -> dict[str, dict]:
    """Crossref-shaped messages built from the verified facts about the seed's five works (synthetic records: only
    the fields those facts establish)."""
    shapes = {
        "10.1310/sci1901-61": dict(
            author=[{"family": "Mehta", "given": "Swati"}],
            volume="19",
            issue="1",
            page="61-77",
            **{"published-print": {"date-parts": [[2013]]}},
        ),
        "10.3389/fncel.2023.1253438": dict(
            author=[{"family": "Yang", "given": "Yongke"}],
            volume="17",
            **{"article-number": "1253438", "published-online": {"date-parts": [[2023, 10, 24]]}},
        ),
        "10.1016/s2095-4964(17)60378-9": dict(
            author=[{"family": "Fan", "given": "Arthur Yin"}],
            volume="15",
            issue="6",
            page="411-425",
            **{"published-print": {"date-parts": [[2017, 11]]}},
        ),
        "10.1093/ecam/nep010": dict(
            author=[{"family": "Dorsher", "given": "Peter T."}],
            volume="2011",
            **{"article-number": "428108", "issued": {"date-parts": [[2011]]}},
        ),
        "10.1016/j.ctim.2022.102905": dict(
            author=[{"family": "Hamvas", "given": "Szilvia"}],
            volume="72",
            **{
                "article-number": "102905",
                "published-online": {"date-parts": [[2022, 12, 6]]},
                "published-print": {"date-parts": [[2023, 3]]},
            },
        ),
    }
    messages = {}
    for work in json.loads(FACTS.read_text())["works"]:
        doi = work["doi"].lower()
        messages[doi] = {
            "DOI": work["doi"],
            "type": "journal-article",
            "title": [work["title"]],
            "container-title": [work["journal"]],
            **shapes[doi],
        }
    return messages


@pytest.fixture
def seeded(crossref):
    crossref.records.update(seed_messages())
    return crossref


def test_the_seed_articles_five_references_all_check_out(run, seeded):
    result = run("check", SEED, "--json")
    assert result.exit_code == 0, result.stdout
    items = result.json()["references"]
    assert [i["status"] for i in items] == ["ok"] * 5
    assert [i["line"] for i in items] == [30, 31, 32, 33, 34]
    yang = items[1]
    assert {"first author", "year", "title", "journal", "volume", "pages"} <= set(yang["agree"])
    assert len(seeded.requests_to("list")) == 1


def test_a_wrong_year_and_volume_are_named(run, seeded, tmp_path):
    article = tmp_path / "a.md"
    article.write_text(
        SEED.read_text()
        .replace("(2011). Acupuncture", "(2009). Acupuncture")
        .replace("Medicine, 72, 102905", "Medicine, 27, 102905")
    )
    result = run("check", article, "--json")
    assert result.exit_code == 1
    by_doi = {i["doi"]: i for i in result.json()["references"]}
    assert by_doi["10.1093/ecam/nep010"]["problems"] == [{"field": "year", "cited": "2009", "found": "2011"}]
    assert by_doi["10.1016/j.ctim.2022.102905"]["problems"] == [{"field": "volume", "cited": "27", "found": "72"}]


def test_a_mistyped_doi_gets_a_corrected_one_whose_record_agrees(run, seeded, tmp_path):
    article = tmp_path / "a.md"
    article.write_text(SEED.read_text().replace("10.1093/ecam/nep010", "10.1093/ecam/nep0107"))
    result = run("check", article, "--json")
    assert result.exit_code == 1
    item = next(i for i in result.json()["references"] if i["doi"] == "10.1093/ecam/nep0107")
    assert item["status"] == "not-found"
    assert item["suggested_doi"] == "10.1093/ecam/nep010"
    assert {"first author", "title", "journal"} <= set(item["suggestion_agrees"])


def test_a_retracted_work_is_reported(run, seeded):
    seeded.records["10.1093/ecam/nep010"]["updated-by"] = [{"DOI": "10.1093/ecam/retraction", "type": "retraction"}]
    result = run("check", "10.1093/ecam/nep010", "https://doi.org/10.1016/j.ctim.2022.102905", "--json")
    statuses = [i["status"] for i in result.json()["references"]]
    assert statuses == ["retracted", "ok"] and result.exit_code == 1


def test_offline_nothing_is_claimed_as_checked(run, seeded):
    result = run("--offline", "check", SEED)
    assert result.exit_code == 1 and "5 not-checked" in result.stdout
    assert not seeded.log


def test_reference_entries_are_parsed_field_by_field():
    entries = reference_section(SEED.read_text())
    fan = parse_reference(entries[2][1])
    assert (fan.first_author, fan.year, fan.journal, fan.volume, fan.issue, fan.first_page) == (
        "Fan",
        "2017",
        "Journal of Integrative Medicine",
        "15",
        "6",
        "411",
    )
    vancouver = parse_reference("Frank HS. The structure of ordinary water. Science. 1970 Aug 14;169(3946):635-41.")
    assert (vancouver.first_author, vancouver.year, vancouver.title, vancouver.journal) == (
        "Frank",
        "1970",
        "The structure of ordinary water",
        "Science",
    )
    ieee = parse_reference(
        "H. S. Frank, “The Structure of Ordinary Water,” Science, vol. 169, no. 3946, pp. 635–641, Aug. 1970."
    )
    assert (ieee.first_author, ieee.volume, ieee.issue, ieee.first_page) == ("Frank", "169", "3946", "635")


def test_doi_variants_cover_junk_and_one_extra_character():
    variants = doi_variants("10.1093/ecam/nep0107")
    assert "10.1093/ecam/nep010" in variants
    assert "10.1234/abc" in doi_variants("10.1234/abc).")


@pytest.mark.parametrize(
    ("cited", "full", "short", "agree"),
    [
        ("PNAS", "Proceedings of the National Academy of Sciences", "", True),
        ("Proc Natl Acad Sci USA", "Proceedings of the National Academy of Sciences", "", True),
        ("N. Engl. J. Med.", "New England Journal of Medicine", "", True),
        ("Lancet", "The Lancet", "", True),
        ("Front Cell Neurosci", "Frontiers in Cellular Neuroscience", "", True),
        ("Top Spinal Cord Inj Rehabil", "Topics in Spinal Cord Injury Rehabilitation", "", True),
        ("PNAS", "Physical Review Letters", "", False),
        ("N Engl J Med", "The Lancet", "Lancet", False),
    ],
)
def test_journal_abbreviations_from_crossrefs_list_and_from_word_beginnings_agree(cited, full, short, agree):
    from evidence.check.compare import journals_agree

    assert journals_agree(cited, full, short) is agree


@pytest.mark.parametrize(
    ("text", "first_author", "journal", "volume", "first_page"),
    [
        (
            "Y. Sagiv and M. Yannakakis. Equivalence among relational expressions. J. ACM 27(4) pp. 633-655, 1981.",
            "Sagiv",
            "J. ACM",
            "27",
            "633",
        ),
        (
            "Blair, Sara. “Cultural Geography and the Place of the Literary.” American Literary History 10 (1998): "
            "544–67.",
            "Blair",
            "American Literary History",
            "10",
            "544",
        ),
        (
            "(1) Arunan, E.; et al. “Definition of the hydrogen bond”. Pure Appl. Chem. 2011, 83, 1637–1641.",
            "Arunan",
            "Pure Appl. Chem",
            "83",
            "1637",
        ),
        ("Alexander, T., & Hopman, C. 2003, Astrophys. J. Lett., 590, L29", "Alexander", None, "590", "L29"),
        ("[13] Sean M Arietta and Maneesh Agrawala. City forensics. 2014.", "Arietta", "", "", ""),
    ],
)
def test_layouts_beyond_apa_and_vancouver_give_author_journal_volume_and_page(
    text, first_author, journal, volume, first_page
):
    parsed = parse_reference(text)
    assert (parsed.first_author, parsed.volume, parsed.first_page) == (first_author, volume, first_page)
    if journal is not None:
        assert parsed.journal == journal


def test_a_list_mixing_every_kind_of_problem_gets_each_its_status_and_no_false_alarm(run, seeded, tmp_path):
    seeded.records["10.9999/retracted.1"] = {
        "DOI": "10.9999/retracted.1",
        "type": "journal-article",
        "title": ["Needling the vagus nerve lowers heart rate in healthy adults"],
        "container-title": ["Journal of Made-up Results"],
        "author": [{"family": "Quill", "given": "Ada"}],
        "volume": "3",
        "page": "10-19",
        "published-print": {"date-parts": [[2019]]},
        "updated-by": [{"DOI": "10.9999/retraction.1", "type": "retraction"}],
    }
    seeded.agencies["10.5281/zenodo.7654321"] = "datacite"
    lines = SEED.read_text().splitlines()
    references = lines[lines.index("References") + 1 :]
    mixed = [
        references[0],  # correct
        references[1].replace("(2023)", "(2021)"),  # wrong year
        references[2],  # correct
        references[3].replace("ecam/nep010", "ecam/nep0107"),  # mistyped DOI
        references[4].replace("Medicine, 72,", "Medicine, 27,"),  # wrong volume
        "Quill A. (2019). Needling the vagus nerve lowers heart rate in healthy adults. Journal of Made-up Results, "
        "3, 10–19. https://doi.org/10.9999/retracted.1",
        "Midlane J. (2024). Interview recordings on nerve pain care [Data set]. Zenodo. "
        "https://doi.org/10.5281/zenodo.7654321",
        "Nobody N. (2020). A study that was never published. Journal of Nothing, 1, 1–2. "
        "https://doi.org/10.9999/nowhere.42",
    ]
    article = tmp_path / "mixed.md"
    article.write_text("# Nerve pain\n\nText.\n\n## References\n\n" + "\n".join(f"{line}\n" for line in mixed))
    result = run("check", article, "--json")
    assert result.exit_code == 1
    items = {item["doi"].lower(): item for item in result.json()["references"]}
    status = {doi: item["status"] for doi, item in items.items()}
    assert status["10.1310/sci1901-61"] == status["10.1016/s2095-4964(17)60378-9"] == "ok"
    assert items["10.1310/sci1901-61"].get("details", []) == []
    assert items["10.3389/fncel.2023.1253438"]["problems"] == [{"field": "year", "cited": "2021", "found": "2023"}]
    assert items["10.1016/j.ctim.2022.102905"]["problems"] == [{"field": "volume", "cited": "27", "found": "72"}]
    assert status["10.1093/ecam/nep0107"] == "not-found"
    assert items["10.1093/ecam/nep0107"]["suggested_doi"] == "10.1093/ecam/nep010"
    assert status["10.9999/retracted.1"] == "retracted"
    assert status["10.5281/zenodo.7654321"] == "other-agency"
    assert status["10.9999/nowhere.42"] == "not-found"
    assert not items["10.9999/nowhere.42"].get("suggested_doi")
