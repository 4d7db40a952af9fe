"""Citation keys: readable, stable, ASCII: first author's family name + year + first significant title word."""

from __future__ import annotations

import re
import string
import unicodedata

_STOPWORDS = frozenset(
    "a an the on of in for and to with from by at as is are was were be its it this that these those into "
    "about over under between via toward towards using what why how when do does new".split()
)


def ascii_word(text: str) -> str:
    """Lower-case ASCII letters and digits only ('Müller-Lüdenscheidt' -> 'mullerludenscheidt')."""
    decomposed = unicodedata.normalize("NFKD", text)
    decomposed = decomposed.replace("ß", "ss").replace("ø", "o").replace("Ø", "o").replace("æ", "ae").replace("ł", "l")
    return re.sub(r"[^a-z0-9]", "", decomposed.encode("ascii", "ignore").decode().lower())


def base_key(first_author: str, year: str, title: str) -> str:
    """``yang2023application``; parts that are missing are left out ('anon' stands in for no author)."""
    words = first_author.split()
    # A long name is an organisation ("World Health Organization"): its first word reads best.
    author = ascii_word(words[0] if len(words) > 2 else first_author) or "anon"
    year_part = re.sub(r"[^0-9]", "", year)[:4]
    word = ""
    for candidate in re.split(r"[\s\-\u2010-\u2015/:,.;!?()\[\]\"']+", title):
        cleaned = ascii_word(candidate)
        if cleaned and cleaned not in _STOPWORDS and not cleaned.isdigit():
            word = cleaned
            break
    return f"{author}{year_part}{word}"


def unique_key(base: str, taken) -> str:
    """``base`` itself, or the first of ``base``+a, b, ... z, aa, ab ... not in ``taken`` (lower-case keys).

    Compared without case, because BibTeX itself treats keys that differ only in case as the same key.
    """
    if base.lower() not in taken:
        return base
    letters = string.ascii_lowercase
    for first in ("",) + tuple(letters):
        for second in letters:
            candidate = f"{base}{first}{second}"
            if candidate.lower() not in taken:
                return candidate
    raise ValueError(f"no free key for {base}")  # 700 works with one key base: cannot happen in practice
