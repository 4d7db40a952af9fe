"""DOIs in every written form come out as one canonical lower-case DOI; non-DOIs are refused with a sentence."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence.doi import doi_url, find_dois, is_doi, normalize_doi
from evidence.errors import InvalidDOIError

CANONICAL = "10.3389/fncel.2023.1253438"


@pytest.mark.parametrize(
    "written",
    [
        "10.3389/fncel.2023.1253438",
        "10.3389/FNCEL.2023.1253438",
        "doi:10.3389/fncel.2023.1253438",
        "DOI: 10.3389/fncel.2023.1253438",
        "https://doi.org/10.3389/fncel.2023.1253438",
        "http://dx.doi.org/10.3389/fncel.2023.1253438",
        "doi.org/10.3389/fncel.2023.1253438",
        "https://doi.org/10.3389%2Ffncel.2023.1253438",
        "10.3389/fncel.2023.1253438.",
        "(10.3389/fncel.2023.1253438),",
        "  10.3389/fncel.2023.1253438;  ",
        "info:doi/10.3389/fncel.2023.1253438",
    ],
)
def test_every_common_spelling_normalises_to_one_doi(written):
    assert normalize_doi(written) == CANONICAL


def test_parentheses_inside_a_doi_are_kept_while_an_enclosing_one_is_dropped():
    assert normalize_doi("10.1016/S2095-4964(17)60378-9") == "10.1016/s2095-4964(17)60378-9"
    assert normalize_doi("(see 10.1016/S2095-4964(17)60378-9)".split(" ", 1)[1]) == "10.1016/s2095-4964(17)60378-9"


@pytest.mark.parametrize("bad", ["", "10.1/x", "11.1234/abc", "doi:", "10.1234", "nerve repair", "10.1234/"])
def test_strings_that_are_not_dois_are_refused_with_a_sentence(bad):
    with pytest.raises(InvalidDOIError) as error:
        normalize_doi(bad)
    assert str(error.value).endswith(".")
    assert not is_doi(bad)


def test_dois_are_found_anywhere_in_free_text():
    text = (
        "Yang et al. (https://doi.org/10.3389/fncel.2023.1253438) and Fan (doi:10.1016/S2095-4964(17)60378-9). "
        "See also 10.1093/ecam/nep010, and 10.1093/ecam/nep010 again."
    )
    assert find_dois(text) == [
        "10.3389/fncel.2023.1253438",
        "10.1016/s2095-4964(17)60378-9",
        "10.1093/ecam/nep010",
    ]


def test_doi_url_escapes_only_what_a_url_needs():
    assert doi_url("10.1016/s2095-4964(17)60378-9") == "https://doi.org/10.1016/s2095-4964(17)60378-9"


_SUFFIX_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._/;"


@st.composite
def dois(draw):
    """Registrant codes of 4-9 digits (with sub-codes) and suffixes that start and end with a letter or digit, with
    an optional balanced bracket group inside, as Elsevier's ``S2095-4964(17)60378-9``."""
    registrant = draw(st.from_regex(r"10\.[0-9]{4,9}(\.[0-9]{1,3})?", fullmatch=True))
    edge = st.sampled_from("abcXYZ0189")
    middle = draw(st.text(alphabet=_SUFFIX_CHARS, max_size=20))
    group = draw(st.sampled_from(["", "(17)", "(SICI)"]))
    return f"{registrant}/{draw(edge)}{middle}{group}{draw(edge)}"


WRITTEN_FORMS = [
    "{}",
    "doi:{}",
    "DOI: {}",
    "https://doi.org/{}",
    "http://dx.doi.org/{}",
    "https://www.doi.org/{}",
    "info:doi/{}",
    "{}.",
    "({}),",
    "  {};  ",
]


@settings(max_examples=300, deadline=None)
@given(dois(), st.sampled_from(WRITTEN_FORMS), st.booleans())
def test_normalising_is_idempotent_and_every_written_form_gives_the_same_doi(doi, form, upper):
    canonical = normalize_doi(doi)
    assert normalize_doi(canonical) == canonical
    written = form.format(doi.upper() if upper else doi)
    assert normalize_doi(written) == canonical
    assert canonical in find_dois(f"As shown before ({written}) and since.")
