"""A hint that a passage says the opposite of a claim: the direction of change, or an effect, that differs.

Claims and findings mostly say that something raises or lowers something else, or that it does or does not have an
effect. When the claim says "raises" and the passage "reduced", or the claim "has no effect" and the passage "was
associated with", a reader should look before citing the work as support. The hint is a cue, shown with the words
that raised it, never a verdict: its precision and recall on SciFact's CONTRADICT labels (rules fixed on the training
claims, reported on the validation ones) are in bench/RESULTS.md.

Each text is read sentence by sentence. A sentence has a direction (up: raises, improves, promotes; down: reduces,
inhibits, prevents) unless it holds both, turned around by a negation just before the direction word ("did not
increase"); and it may deny an effect ("no significant difference", "was not associated with"). The passage appears
to contradict the claim when one of its sentences points the other way from the claim and none points the same way,
or when one side denies an effect that the other asserts. Pure functions over the two texts.
"""

from __future__ import annotations

import re

_UP = frozenset(
    (
        "increase increases increased increasing raise raises raised raising rise rises rose risen higher highest "
        "greater elevate elevates elevated enhance enhances enhanced enhancement promote promotes promoted "
        "promoting improve improves improved improvement improving upregulate upregulates upregulated upregulation "
        "up-regulated up-regulates stimulate stimulates stimulated activate activates activated activation induce "
        "induces induced boost boosts boosted accelerate accelerates accelerated augment augments augmented "
        "exacerbate exacerbates exacerbated worsen worsens worsened amplify amplifies amplified more faster "
        "longer larger stronger"
    ).split()
)
_DOWN = frozenset(
    (
        "decrease decreases decreased decreasing decline declines declined reduce reduces reduced reducing "
        "reduction lower lowers lowered lowest less fewer diminish diminishes diminished inhibit inhibits inhibited "
        "inhibition inhibiting suppress suppresses suppressed suppression impair impairs impaired impairment "
        "downregulate downregulates downregulated downregulation down-regulated down-regulates attenuate "
        "attenuates attenuated block blocks blocked prevent prevents prevented slow slows slowed slower loss "
        "deplete depletes depleted alleviate alleviates alleviated deactivate deactivates deactivated halt halts "
        "halted disrupt disrupts disrupted abolish abolishes abolished shorter smaller weaker"
    ).split()
)
_NEGATIONS = frozenset("not no never neither nor cannot without fail fails failed unable".split())
# An effect denied: a negation followed within a few words by one of these, or one of the null phrases.
_EFFECT_WORDS = frozenset(
    (
        "effect effects affect affects affected association associated associations relationship related link "
        "linked difference different differ differed differences significant significantly change changed "
        "changes role correlation correlated influence influenced impact"
    ).split()
)
_NULL_PHRASES = re.compile(
    r"\b(?:same rate|similar (?:rates?|risk|outcomes?)|unaffected|unchanged|unrelated|independent of|"
    r"no (?:known )?(?:effect|association|difference|relationship|role|link|change|impact|influence))\b"
)
_ASSERTED = frozenset("associated significantly significant correlated linked predicts predicted".split())
_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_SENTENCE = re.compile(r"(?<=[.!?;])\s+")
_SCOPE = 4  # words between a negation and the word it turns around


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("n't", " not"))


def reading(sentence: str) -> tuple[int, bool, bool, list[str]]:
    """(direction +1, -1 or 0; denies an effect; asserts one; the cue words) of one sentence."""
    words = _words(sentence)
    up, down, cues = False, False, []
    denies = bool(_NULL_PHRASES.search(" ".join(words)))
    for number, word in enumerate(words):
        negated = any(w in _NEGATIONS for w in words[max(0, number - _SCOPE) : number])
        if word in _UP or word in _DOWN:
            points_up = (word in _UP) != negated
            up, down = up or points_up, down or not points_up
            cues.append(("not " if negated else "") + word)
        elif word in _EFFECT_WORDS and negated:
            denies = True
            cues.append("not " + word)
    direction = 1 if up and not down else -1 if down and not up else 0
    asserts = not denies and (bool(direction) or any(w in _ASSERTED for w in words))
    return direction, denies, asserts, cues


def contradiction_cue(claim: str, passage: str) -> str:
    """The cue words ('claim: raises; passage: reduced') when the passage appears to contradict the claim, else ''."""
    if not claim.strip() or not passage.strip():
        return ""
    claim_direction, claim_denies, claim_asserts, claim_cues = reading(claim)
    sentences = [reading(sentence) for sentence in _SENTENCE.split(passage) if sentence.strip()]
    against = [s for s in sentences if claim_direction and s[0] == -claim_direction and not s[1]]
    along = [s for s in sentences if claim_direction and s[0] == claim_direction]
    if against and not along:
        return _cue(claim_cues, against[0][3])
    if claim_denies:
        asserted = [s for s in sentences if s[2]]
        if asserted and not any(s[1] for s in sentences):
            return _cue(claim_cues or ["no effect"], asserted[0][3] or ["an effect"])
    elif claim_asserts:
        denied = [s for s in sentences if s[1]]
        if denied and not along:
            return _cue(claim_cues, denied[0][3] or ["no effect"])
    return ""


def _cue(claim_cues: list[str], passage_cues: list[str]) -> str:
    return f"claim: {', '.join(dict.fromkeys(claim_cues))}; passage: {', '.join(dict.fromkeys(passage_cues))}"
