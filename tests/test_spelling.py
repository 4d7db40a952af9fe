"""British and American spellings of one word are one term: in the index, in queries, in suggest's marks."""

import pytest

from evidence import Library
from evidence.index.spelling import american
from evidence.store import bibtex
from evidence.store.bibfile import make_work

PAIRS = [
    # breame's general list
    ("colour", "color"),
    ("signalling", "signaling"),
    ("programme", "program"),
    ("ageing", "aging"),
    ("tumour", "tumor"),
    # medical roots it lacks
    ("oedema", "edema"),
    ("oesophageal", "esophageal"),
    ("haematoma", "hematoma"),
    ("haemorrhage", "hemorrhage"),
    ("anaesthesia", "anesthesia"),
    ("paediatric", "pediatric"),
    ("orthopaedic", "orthopedic"),
    ("foetal", "fetal"),
    ("oestradiol", "estradiol"),
    ("coeliac", "celiac"),
    ("caesarean", "cesarean"),
    ("ischaemia", "ischemia"),
    ("hypoglycaemia", "hypoglycemia"),
    ("septicaemia", "septicemia"),
    ("dyspnoea", "dyspnea"),
    ("diarrhoeal", "diarrheal"),
    # verb families
    ("randomised", "randomized"),
    ("randomisation", "randomization"),
    ("hospitalisation", "hospitalization"),
    ("characterised", "characterized"),
    ("analysed", "analyzed"),
    ("haemolysed", "hemolyzed"),
]


@pytest.mark.parametrize(("british", "us"), PAIRS)
def test_the_british_spelling_becomes_the_american_one(british, us):
    assert american(british) == us
    assert american(us) == us


@pytest.mark.parametrize("word", ["does", "toe", "shoe", "poem", "aerobic", "analysis", "crisis", "disease", "is"])
def test_words_with_one_spelling_are_left_alone(word):
    assert american(word) == word


def work(key, title, abstract):
    return make_work(key, "article", bibtex.encode_fields({"title": title, "abstract": abstract, "year": "2020"}))


@pytest.fixture
def library(tmp_path):
    library = Library.create(tmp_path / "lib", semantic=False)
    works = [
        work("us", "Randomized trial of esophageal pH", "Hemoglobin and edema were characterized in children."),
        work("uk", "Randomised trial in paediatric anaemia", "Oedema and dyspnoea were analysed."),
        work("other", "Bone density in runners", "Runners ran."),
    ]
    library.index.sync(works)
    return library, works


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("randomised", {"us", "uk"}),
        ("randomized", {"us", "uk"}),
        ("oesophageal", {"us"}),
        ("haemoglobin", {"us"}),
        ("pediatric", {"uk"}),
        ("edema", {"us", "uk"}),
        ("dyspnea", {"uk"}),
        ('"randomised trial"', {"us", "uk"}),
    ],
)
def test_search_finds_either_spelling(library, query, found):
    library, _works = library
    hits, _terms = library.index.search(query, limit=10)
    assert {hit.key for hit in hits} == found


def test_suggest_marks_the_claims_word_in_the_other_spelling(library):
    from evidence.jobs import suggest

    library, works = library
    hits = suggest.suggest(library.store, library.index, "haemoglobin characterised", limit=1, works=works)
    assert hits[0].key == "us" and "**Hemoglobin**" in hits[0].passage and "**characterized**" in hits[0].passage
