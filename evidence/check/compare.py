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
from dataclasses import dataclass
from importlib.resources import files

from evidence.check.refparse import ParsedRef
from evidence.model import Person, Work, parse_names
from evidence.results.check import MismatchedField
from evidence.sources.crossref_map import crossref_to_fields, retraction_status


def _plain(text: str) -> str:
    text = re.sub(r"[\u2010-\u2015\u2212]", " ", text or "")  # dashes separate ('1–2' is '1 2', as '1-2' is)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
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


def containers_agree(cited: str, container: str, short: str = "", journal: bool = True) -> bool:
    """A cited journal or book title against the record's. A book's or proceedings' title may be cited after 'In:',
    with '[Internet]', with the publisher after it ('… Ajax Projects. Apress') or cut short ('AFRICON' for
    'AFRICON 2009'); a journal's must agree as ``journals_agree`` says ('Nature Medicine' is not 'Nature')."""
    if journals_agree(cited, container, short):
        return True
    a = re.sub(r"^(?:in|en|dans|im)\s+", "", _plain(cited)).replace(" internet", "").strip()
    if a != _plain(cited) and journals_agree(a, container, short):
        return True
    if journal:
        return False
    b = _plain(container)
    return bool(a and b) and (a.startswith(b) or (len(a) >= 4 and b.startswith(a)))


def _years(message: dict) -> set[str]:
    years = set()
    for name in ("published-print", "published-online", "issued"):
        parts = (message.get(name) or {}).get("date-parts") or [[]]
        if parts and parts[0] and parts[0][0]:
            years.add(str(parts[0][0]))
    return years


_INITIALS = re.compile(r"(?:[a-z]{1,3}\s?)+")


def names_agree(cited: str, person: Person) -> bool:
    """Whether a written first author is the record's: the family name alone, with the initials a style prints
    beside it ('MASIDE X', 'F. B. Rosmej'), with or without its particles ('van der Berg' / 'Berg'), or an
    organisation's name shortened ('PLOS ONE Staff' for 'The PLOS ONE Staff')."""
    a = _plain(cited)
    b = _plain(person.family or person.literal)
    if not a or not b:
        return True
    if a == b:
        return True
    for rest in (a.removeprefix(b + " "), a.removesuffix(" " + b)):
        if rest != a and _INITIALS.fullmatch(rest):
            return True
    if person.literal:
        return a in b or b in a
    shorter, longer = sorted((a, b), key=len)
    return longer.endswith(" " + shorter) or longer.startswith(shorter + " ")


def first_page(pages: str) -> str:
    """The first page of a range written any way ('75--81', '75–81', '75-81', 'e113017')."""
    return re.split(r"\s*[-\u2010-\u2015]+\s*", (pages or "").strip(), maxsplit=1)[0].strip()


@dataclass(frozen=True)
class Comparison:
    status: str  # ok | mismatch | retracted
    problems: tuple[MismatchedField, ...] = ()
    notes: tuple[str, ...] = ()
    agree: tuple[str, ...] = ()


def reference_of_work(work: Work) -> ParsedRef:
    """A library entry as a written reference, so an entry and a reference list are compared by the same rules."""
    people = work.authors
    first = (people[0].family or people[0].literal) if people else ""
    return ParsedRef(
        work.key,
        0,
        work.doi,
        first,
        tuple(p.family or p.literal for p in people),
        work.year,
        " ".join(filter(None, (work.title, work.get("subtitle")))),
        work.get("journal") or work.get("booktitle"),
        work.get("volume"),
        work.get("number"),
        first_page(work.get("pages")) or work.get("eid"),
        work.key,
        work.get("pmid").strip(),
    )


def compare_reference(ref: ParsedRef, message: dict) -> Comparison:
    """A written reference (or a library entry, through ``reference_of_work``) against the record of its DOI.

    A field the reference does not give, or the record lacks, is not compared. The first page agrees with the
    record's first page or with its article number (Hindawi, Wiley and Frontiers deposit both)."""
    status = retraction_status(message)
    if status and status[0] != "under an expression of concern":
        return Comparison("retracted", notes=(f"{status[0]} (notice {status[1]})" if status[1] else status[0],))
    _type, record = crossref_to_fields(message)
    problems, notes, agree = [], [], []
    theirs = parse_names(record.get("author", "") or record.get("editor", ""))
    if ref.first_author and theirs:
        family = theirs[0].family or theirs[0].literal
        if names_agree(ref.first_author, theirs[0]):
            agree.append("first author")
        else:
            problems.append(MismatchedField("first author", ref.first_author, family))
    if ref.year and record.get("year"):
        if ref.year == record["year"]:
            agree.append("year")
        elif ref.year in _years(message):
            notes.append(f"year {ref.year} is the record's print or online year (it lists {record['year']})")
            agree.append("year")
        else:
            problems.append(MismatchedField("year", ref.year, record["year"]))
    if ref.title and record.get("title"):
        full = " ".join(filter(None, (record["title"], record.get("subtitle"))))
        if titles_agree(ref.title, full) or titles_agree(ref.title, record["title"]):
            agree.append("title")
        else:
            problems.append(MismatchedField("title", ref.title, record["title"]))
    container = record.get("journal") or record.get("booktitle") or ""
    if ref.journal and container:
        if containers_agree(ref.journal, container, record.get("shortjournal", ""), journal="journal" in record):
            agree.append("journal")
        else:
            problems.append(MismatchedField("journal", ref.journal, container))
    for value, name, label in ((ref.volume, "volume", "volume"), (ref.issue, "number", "issue")):
        if value and record.get(name):
            if _plain(value) == _plain(record[name]):
                agree.append(label)
            else:
                problems.append(MismatchedField(label, value, record[name]))
    accepted = {p.lower() for p in (first_page(record.get("pages", "")), record.get("eid", "")) if p}
    if ref.first_page and accepted:
        if first_page(ref.first_page).lower() in accepted:
            agree.append("pages")
        else:
            problems.append(
                MismatchedField("pages", ref.first_page, first_page(record.get("pages", "")) or record["eid"])
            )
    if status:
        notes.append(status[0])
    return Comparison("mismatch" if problems else "ok", tuple(problems), tuple(notes), tuple(agree))


def record_changes(old: dict, new: dict) -> list[str]:
    """What a fresh record says differently from the stored one, as short phrases ('now retracted', 'volume
    corrected (12 -> 13)'), for ``add --refresh`` and the re-checks of stale records."""
    changes = []
    before, after = retraction_status(old), retraction_status(new)
    if after != before:
        changes.append(f"now {after[0]}" if after else f"no longer {before[0]}" if before else "")
    _type, a = crossref_to_fields(old)
    _type, b = crossref_to_fields(new)
    for name, label in (
        ("title", "title"),
        ("author", "authors"),
        ("journal", "journal"),
        ("year", "year"),
        ("volume", "volume"),
        ("number", "issue"),
        ("pages", "pages"),
        ("doi", "DOI"),
    ):
        if a.get(name, "") != b.get(name, ""):
            shown = name not in ("title", "author")
            detail = f" ({a.get(name) or 'none'} -> {b.get(name) or 'none'})" if shown else ""
            changes.append(f"{label} {'corrected' if a.get(name) else 'added'}{detail}")
    return [change for change in changes if change]
