"""Comparing what a library entry says with the Crossref record of its DOI: pure, field by field.

Cited titles are often shortened, so a title that is a prefix or a close match of the record's is fine; a year one
off where the record's print and online dates straddle it is a note, not a mismatch.
"""

from __future__ import annotations

import difflib
import functools
import gzip
import re
import unicodedata
from importlib.resources import files

from .crossref_map import crossref_to_fields, retraction_status
from .model import Work, parse_names


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^a-z0-9 ]+", " ", text.lower()).split())


_STOP = {"a", "an", "the", "of", "in", "on", "for", "and", "to", "with", "by", "at", "from", "s"}


def _words(text: str) -> list[str]:
    return [w[:6] for w in _plain(text).split() if w not in _STOP]


def titles_agree(cited: str, actual: str) -> bool:
    """Shortened titles are fine: a prefix, a close match, or the cited words in order within the real title."""
    a, b = _plain(cited), _plain(actual)
    if not a or not b:
        return True
    if b.startswith(a) or a.startswith(b) or difflib.SequenceMatcher(None, a, b).ratio() >= 0.9:
        return True
    wanted, real = _words(cited), iter(_words(actual))
    return len(wanted) >= 3 and all(word in real for word in wanted)


@functools.cache
def _abbreviations() -> dict[str, str]:
    """Crossref's list of journal abbreviations (squashed abbreviation -> full title), shipped with the package."""
    data = files("evidence").joinpath("data", "journal-abbreviations.txt.gz").read_bytes()
    pairs = (line.split("\t", 1) for line in gzip.decompress(data).decode("utf-8").splitlines() if "\t" in line)
    return {abbreviation: title for abbreviation, title in pairs}


def _squashed(name: str) -> str:
    return _plain(name).replace(" ", "")


def journals_agree(cited: str, full: str, short: str = "") -> bool:
    """A journal matches its full title, its short title, a listed abbreviation of it ('PNAS', 'N Engl J Med'), or
    an abbreviation made of its words' beginnings ('Front Cell Neurosci')."""
    a = _plain(cited).replace(" ", "")
    if not a:
        return True
    expanded = _abbreviations().get(a)
    if expanded and any(
        _squashed(expanded).removeprefix("the") == _squashed(name).removeprefix("the") for name in (full, short) if name
    ):
        return True
    for name in (full, short):
        b = _plain(name)
        if not b:
            continue
        if a == b.replace(" ", ""):
            return True
        pieces, real = _plain(cited).split(), [w for w in b.split() if w not in _STOP]
        position = 0
        for piece in pieces:
            while position < len(real) and not real[position].startswith(piece):
                position += 1
            if position == len(real):
                break
            position += 1
        else:
            return True
    return False


def _years(message: dict) -> set[str]:
    years = set()
    for name in ("published-print", "published-online", "issued"):
        parts = (message.get(name) or {}).get("date-parts") or [[]]
        if parts and parts[0] and parts[0][0]:
            years.add(str(parts[0][0]))
    return years


def compare_with_record(work: Work, message: dict) -> tuple[str, list[str]]:
    """(status, details): 'retracted', 'mismatch' (with each disagreeing field) or 'verified' (with notes)."""
    status = retraction_status(message)
    if status and status[0] != "under an expression of concern":
        return "retracted", [f"{status[0]} (notice {status[1]})" if status[1] else status[0]]
    _type, record = crossref_to_fields(message)
    details, notes = [], []
    if not titles_agree(work.title, record.get("title", "")):
        details.append(f"title differs from the record's '{record.get('title', '')}'")
    mine = parse_names(work.get("author"))
    theirs = parse_names(record.get("author", ""))
    if mine and theirs and _plain(mine[0].family or mine[0].literal) != _plain(theirs[0].family or theirs[0].literal):
        details.append(f"first author is {theirs[0].family or theirs[0].literal} in the record")
    if work.year and record.get("year") and work.year != record["year"]:
        if work.year in _years(message):
            notes.append(f"year {work.year} is the record's online or print year ({record['year']} cited there)")
        else:
            details.append(f"year is {record['year']} in the record, {work.year} here")
    for name, label in (("volume", "volume"), ("number", "issue")):
        if work.get(name) and record.get(name) and _plain(work.get(name)) != _plain(record[name]):
            details.append(f"{label} is {record[name]} in the record, {work.get(name)} here")
    first_mine = re.split(r"[-–]+", work.get("pages"))[0].strip() if work.get("pages") else ""
    first_theirs = re.split(r"[-–]+", record.get("pages", ""))[0].strip()
    if first_mine and first_theirs and first_mine.lower() != first_theirs.lower():
        details.append(f"first page or article number is {first_theirs} in the record, {first_mine} here")
    if status:
        notes.append(status[0])
    return ("mismatch", details) if details else ("verified", notes)


def compare_reference(ref, message: dict) -> tuple[str, list[str], list[str]]:
    """(status, mismatches-or-notes, fields that agree) for a written reference against the record of its DOI."""
    status = retraction_status(message)
    if status and status[0] != "under an expression of concern":
        return "retracted", [f"{status[0]} (notice {status[1]})" if status[1] else status[0]], []
    _type, record = crossref_to_fields(message)
    problems, notes, agree = [], [], []
    theirs = parse_names(record.get("author", ""))
    if ref.first_author and theirs:
        family = theirs[0].family or theirs[0].literal
        (
            agree.append("first author")
            if _plain(ref.first_author) == _plain(family)
            else problems.append(f"first author is {family} in the record, {ref.first_author} here")
        )
    if ref.year and record.get("year"):
        if ref.year == record["year"]:
            agree.append("year")
        elif ref.year in _years(message):
            notes.append(f"year {ref.year} is the record's print or online year (it lists {record['year']})")
            agree.append("year")
        else:
            problems.append(f"year is {record['year']} in the record, {ref.year} here")
    if ref.title and record.get("title"):
        (
            agree.append("title")
            if titles_agree(ref.title, record["title"] + " " + record.get("subtitle", ""))
            else problems.append(f"title differs from the record's '{record['title']}'")
        )
    container = record.get("journal") or record.get("booktitle") or ""
    if ref.journal and container:
        (
            agree.append("journal")
            if journals_agree(ref.journal, container, record.get("shortjournal", ""))
            else problems.append(f"journal is {container} in the record, {ref.journal} here")
        )
    for value, name, label in ((ref.volume, "volume", "volume"), (ref.issue, "number", "issue")):
        if value and record.get(name):
            (
                agree.append(label)
                if _plain(value) == _plain(record[name])
                else problems.append(f"{label} is {record[name]} in the record, {value} here")
            )
    first_theirs = re.split(r"[-–]+", record.get("pages", ""))[0].strip()
    if ref.first_page and first_theirs:
        (
            agree.append("pages")
            if ref.first_page.lower() == first_theirs.lower()
            else problems.append(f"first page or article number is {first_theirs} in the record, {ref.first_page} here")
        )
    if status:
        notes.append(status[0])
    return ("mismatch", problems, agree) if problems else ("ok", notes, agree)
