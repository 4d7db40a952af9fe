"""The hint that a passage contradicts a claim: opposite directions, effects denied or asserted, nothing else."""

import pytest

from evidence.claims.stance import contradiction_cue


@pytest.mark.parametrize(
    ("claim", "passage", "cue"),
    [
        ("Acupuncture lowers vagal activity.", "Vagal activity rose after acupuncture.", "passage: rose"),
        ("Exercise increases bone density.", "Bone density was reduced in the exercise group.", "passage: reduced"),
        ("Statins reduce mortality.", "Statins did not reduce mortality in older adults.", "passage: not reduce"),
        ("Drug X does not affect blood pressure.", "Drug X was associated with higher blood pressure.", "higher"),
        ("Vitamin D has no effect on fractures.", "Vitamin D significantly lowered fracture risk.", "lowered"),
        ("Smoking raises the risk of stroke.", "There was no significant difference in stroke.", "not significant"),
    ],
)
def test_a_passage_that_says_the_opposite_gets_a_hint_with_its_words(claim, passage, cue):
    found = contradiction_cue(claim, passage)
    assert found.startswith("claim: ") and cue in found


@pytest.mark.parametrize(
    ("claim", "passage"),
    [
        ("Acupuncture raises vagal activity.", "Vagal activity rose after acupuncture."),
        ("Statins reduce mortality.", "Mortality fell by a fifth with statins."),
        ("Drug X does not affect blood pressure.", "Blood pressure was unchanged with drug X."),
        ("Exercise increases strength.", "Strength increased in one group and decreased in another."),
        # a negation far from the direction word does not turn it around
        ("Acupuncture raises vagal activity.", "Without electrical stimulation, the needling of ten points raised it."),
        ("Acupuncture eases pain.", "Sixty patients were enrolled."),
        ("", "Vagal activity rose."),
    ],
)
def test_agreement_mixed_or_unrelated_passages_get_no_hint(claim, passage):
    assert contradiction_cue(claim, passage) == ""


def test_the_seed_review_does_not_contradict_the_claim_it_supports():
    passage = (
        "Heart-rate-variability measures changed significantly from before to after real acupuncture but not after "
        "sham, which the authors read as a rise in parasympathetic (rest-and-digest) tone."
    )
    assert contradiction_cue("acupuncture raises vagal activity", passage) == ""
