"""One spelling for words that British and American English spell differently, so each finds the other.

A British article says "randomised", "oesophagus", "haemoglobin"; the abstract it cites says "randomized",
"esophagus", "hemoglobin". The index and every query pass each word through ``american`` before stemming, so the
two spellings become one term. Three sources, in order:

1. breame's list of 1,730 British spellings with their American forms (Apache-2.0): colour, centre, signalling,
   programme, ageing, grey, sulphur...
2. The medical spellings that list lacks (oedema, haematoma, ischaemia, coeliac, dyspnoea...), as rules on the Greek
   and Latin roots where British English keeps the digraph: ``haem``/``aem``, ``oes``/``oed``/``oest``, ``paed``,
   ``foet``, ``coeli``, ``-oea`` endings and the like.
3. The ``-ise``/``-isation`` and ``-yse`` verb families (characterised, hospitalisation, catalysed), spelled with z.
   Words spelled with -ise on both sides (exercise, advise) are changed too, on both sides alike, which is harmless:
   only where two texts differ does the change decide anything.

Pure, and cached by the stemmer that calls it.
"""

from __future__ import annotations

import functools
import re

# Roots where British English writes ae or oe and American English e, as (British, American) at a word's start or
# after a medical prefix.
_ROOTS = (
    ("haem", "hem"),
    ("anaem", "anem"),
    ("anaes", "anes"),
    ("aetiol", "etiol"),
    ("paed", "ped"),
    ("orthopaed", "orthoped"),
    ("gynaec", "gynec"),
    ("caesar", "cesar"),
    ("oesoph", "esoph"),
    ("oedem", "edem"),
    ("oestr", "estr"),
    ("foet", "fet"),
    ("coeli", "celi"),
    ("amoeb", "ameb"),
)
_PREFIXES = (
    "",
    "hyper",
    "hypo",
    "normo",
    "an",
    "dys",
    "iso",
    "pre",
    "post",
    "anti",
    "non",
    "neo",
    "peri",
    "intra",
    "extra",
    "trans",
    "sub",
    "micro",
)
# The blood words end in -aemia/-aemic after their root (ischaemia, septicaemia, glycaemic, leukaemia, uraemia).
_AEMIA = re.compile(r"(?<=[a-z]{2})aem(ia|ias|ic|ically)$")
# The breathing and flow words end in -oea (dyspnoea, apnoea, diarrhoea, gonorrhoea, amenorrhoea).
_OEA = re.compile(r"(?<=[a-z])(pn|rrh)oe(a|al|as|ic)$")
# -ise/-isation families (and -yse), not the nouns in -ism or -ist.
_ISE = re.compile(r"(?<=[a-z]{2})is(e|ed|es|ing|er|ers|ation|ations|ational)$")
_YSE = re.compile(r"(?<=[a-z]{2}l)ys(e|ed|es|ing|er|ers)$")


@functools.cache
def _british() -> dict[str, str]:
    from breame.data.spelling_constants import BRITISH_ENGLISH_SPELLINGS

    return BRITISH_ENGLISH_SPELLINGS


def american(word: str) -> str:
    """The American spelling of a lower-case word, or the word itself when it has no other spelling."""
    listed = _british().get(word)
    if listed is not None:
        return listed
    if "ae" in word or "oe" in word:
        for prefix in _PREFIXES:
            if not word.startswith(prefix):
                continue
            rest = word[len(prefix) :]
            for british, us in _ROOTS:
                if rest.startswith(british):
                    return american_rest(prefix + us + rest[len(british) :])
        changed = _OEA.sub(r"\1e\2", _AEMIA.sub(r"em\1", word))
        if changed != word:
            return changed
    return american_rest(word)


def american_rest(word: str) -> str:
    """The -ise and -yse families spelled with z (after any root was changed: haemolysed is hemolyzed)."""
    return _YSE.sub(r"yz\1", _ISE.sub(r"iz\1", word))
