"""Comparing what a library entry says with the Crossref record of its DOI: pure, field by field.

Cited titles are often shortened, so a title that is a prefix or a close match of the record's is fine; a year one
off where the record's print and online dates straddle it is a note, not a mismatch.
"""

from __future__ import annotations

import difflib
import re
import unicodedata

from .crossref_map import crossref_to_fields, retraction_status
from .model import Work, parse_names


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^a-z0-9 ]+", " ", text.lower()).split())


def titles_agree(cited: str, actual: str) -> bool:
    a, b = _plain(cited), _plain(actual)
    if not a or not b:
        return True
    return b.startswith(a) or a.startswith(b) or difflib.SequenceMatcher(None, a, b).ratio() >= 0.9


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
