"""Crossref messages become BibTeX entries the way a careful reference manager writes them."""

import json
from pathlib import Path

import pytest

from evidence.keys import base_key, unique_key
from evidence.sources.crossref_map import crossref_to_fields
from evidence.sources.jats import jats_to_text

DATA = Path(__file__).parent / "data" / "crossref"


def record(doi: str) -> dict:
    return json.loads((DATA / (doi.replace("/", "_") + ".json")).read_text())


@pytest.mark.parametrize(
    ("doi", "entry_type", "container_field"),
    [
        ("10.1002/jor.1100150407", "article", "journal"),
        ("10.1007/978-1-4302-0197-7_9", "incollection", "booktitle"),
        ("10.1109/afrcon.2009.5308146", "inproceedings", "booktitle"),
        ("10.2172/10115553", "techreport", "institution"),
        ("10.32614/cran.package.diffviewer", "misc", "howpublished"),
        ("10.59350/7mtwq-q3661", "misc", None),
    ],
)
def test_the_entry_type_follows_the_crossref_type(doi, entry_type, container_field):
    mapped_type, fields = crossref_to_fields(record(doi))
    assert mapped_type == entry_type
    if container_field:
        assert fields[container_field]


def test_a_journal_article_has_every_field_a_citation_needs():
    _, fields = crossref_to_fields(record("10.1002/ajmg.b.31237"))
    assert fields["author"].startswith("Hamlin, Alyssa and Liu, Ying and Nguyen, Danh V.")
    assert fields["journal"] == "American Journal of Medical Genetics Part B: Neuropsychiatric Genetics"
    assert (fields["volume"], fields["number"], fields["pages"]) == ("156", "8", "923--928")
    assert (fields["year"], fields["month"]) == ("2011", "dec")
    assert fields["doi"] == "10.1002/ajmg.b.31237" and fields["url"] == "https://doi.org/10.1002/ajmg.b.31237"
    assert fields["issn"] == "1552-4841, 1552-485X" and fields["publisher"] == "Wiley"


def test_the_article_number_stands_in_for_pages():
    _, fields = crossref_to_fields(record("10.1038/srep16696"))
    assert fields["pages"] == "16696"


def test_inline_markup_in_titles_is_kept_as_marks_and_other_tags_are_dropped():
    from evidence import markup

    _, fields = crossref_to_fields(record("10.1107/s2414314617004448"))
    assert markup.strip_marks(fields["title"]) == "5,7-Dimethyl-1H-indole-2,3-dione"
    assert markup.to_csl(fields["title"]) == "5,7-Dimethyl-1<i>H</i>-indole-2,3-dione"
    message = {"type": "journal-article", "title": ["<script>x</script> <b>Bold</b> <mml:math>m</mml:math> \ue010odd"]}
    _, fields = crossref_to_fields(message)
    assert markup.to_csl(fields["title"]) == "x <b>Bold</b> m odd"  # a mark in the source is no markup


def test_marks_without_their_partner_are_dropped():
    from evidence import markup

    italic = markup.opening("i") + "E. coli" + markup.closing("i")
    assert markup.to_latex(italic + markup.opening("b") + " and") == "\\textit{E. coli} and"
    assert markup.to_csl(markup.closing("sub") + italic) == "<i>E. coli</i>"


def test_the_print_date_wins_over_online_and_issued():
    message = {
        "DOI": "10.1016/j.ctim.2022.102905",
        "type": "journal-article",
        "title": ["A"],
        "issued": {"date-parts": [[2022, 12, 6]]},
        "published-online": {"date-parts": [[2022, 12, 6]]},
        "published-print": {"date-parts": [[2023, 3]]},
    }
    _, fields = crossref_to_fields(message)
    assert (fields["year"], fields["month"]) == ("2023", "mar")
    del message["published-print"]
    assert crossref_to_fields(message)[1]["year"] == "2022"


def test_organisations_are_braced_and_suffixes_and_particles_kept():
    message = {
        "DOI": "10.1234/x",
        "type": "journal-article",
        "title": ["T"],
        "author": [
            {"name": "World Health Organization", "sequence": "first"},
            {"family": "van der Berg", "given": "Jan", "suffix": "Jr."},
            {"family": "Plato"},
        ],
    }
    _, fields = crossref_to_fields(message)
    assert fields["author"] == "{World Health Organization} and van der Berg, Jr., Jan and Plato"


def test_empty_crossref_fields_are_dropped():
    message = {
        "DOI": "10.1234/x",
        "type": "journal-article",
        "title": ["T"],
        "volume": "",
        "page": "",
        "container-title": [],
        "ISSN": [],
    }
    _, fields = crossref_to_fields(message)
    assert not {"volume", "pages", "journal", "issn"} & set(fields)


def test_jats_abstracts_become_plain_paragraphs_and_entities_are_resolved():
    jats = (
        '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        "<jats:title>Abstract</jats:title><jats:sec><jats:title>Aim</jats:title>"
        "<jats:p>To test <jats:italic>nerve</jats:italic> repair &amp; pain &lt;5 days&gt;.</jats:p></jats:sec>"
        "<jats:p>Second &#8211; paragraph &xxe;</jats:p>"
    )
    text = jats_to_text(jats)
    assert text.startswith("Aim: To test nerve repair & pain <5 days>.")
    assert "\n\nSecond \u2013 paragraph" in text
    assert "root:" not in text and "passwd" not in text


def test_keys_are_author_year_first_significant_title_word():
    assert base_key("Yang", "2023", "Application and underlying mechanism of acupuncture") == "yang2023application"
    assert base_key("Müller", "2020", "The effect of needles") == "muller2020effect"
    assert base_key("", "", "On nerves") == "anonnerves"
    assert base_key("World Health Organization", "2019", "Guidelines") == "world2019guidelines"
    assert unique_key("yang2023application", {"yang2023application"}) == "yang2023applicationa"
    assert unique_key("yang2023application", {"yang2023application", "yang2023applicationa"}) == (
        "yang2023applicationb"
    )
