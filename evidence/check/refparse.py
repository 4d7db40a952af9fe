"""Reading a written reference list: find the section, split it into entries, parse each entry's fields.

Pure heuristics for the styles practitioners use (APA and its variants, Vancouver/NLM, AMA, Harvard): first author,
authors' family names, year, title, journal, volume, issue, pages or article number, and the DOI. A field that cannot
be read is left empty rather than guessed; comparison then skips it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from evidence.cite.article import is_references_heading
from evidence.doi import find_dois
from evidence.sources.found import find_pubmed_ids

_NUMBERED = re.compile(r"^\s*(?:\[\d+\]|\d+[.)])\s+")
_URL = re.compile(r"(?:https?://|www\.)\S+|\bdoi:\s*\S+", re.I)
_YEAR_PAREN = re.compile(r"\(((?:19|20)\d{2})[a-z]?(?:,[^)]*)?\)")
_YEAR = re.compile(r"(?<![\d.])((?:19|20)\d{2})[a-z]?(?![\d])")
_VOLUME = re.compile(
    r"(?P<volume>\d+)\s*(?:\((?P<issue>[\w\s-]+)\))?\s*[:,]\s*(?:pp?\.\s*|Article\s+)?"
    r"(?P<first>[A-Za-z]?\d+)(?:\s*[-–—]\s*(?P<last>[A-Za-z]?\d+))?"
)
_IEEE = re.compile(
    r"vol\.\s*(?P<volume>\w+)(?:,\s*no\.\s*(?P<issue>\w+(?:[-–]\w+)?))?(?:,\s*(?:pp?\.|Art\.\s*no\.)\s*"
    r"(?P<first>[A-Za-z]?\d+))?",
    re.I,
)
# A title in quotes: curly ones, straight ones with the title's punctuation inside ('"Title,"'), or straight ones
# between the authors' punctuation and the title's own ('Author, "Title", Journal'). Quoted words inside an APA
# title ('(1927). "Ecology" and "Plant Ecology".') are none of these.
# A curly-quoted span is a title only where a title can start (the entry's start, after the authors' punctuation)
# and, unless the title's own punctuation closes it ('“Title,” in Proc.'), not before a lower-case word: in
# '(1927). “Ecology” and “Plant Ecology.” Ecology' the quotes are the title's own words.
_QUOTED_TITLE = re.compile(
    r"(?:^|(?<=[,.:)\]]\s))“(?:([^”]{8,}[,.?!])”|([^”]{8,})”(?!\s+[a-z]))"
    r"|\"([^\"]{8,}[,.?!])\"|(?:^|(?<=[,.:)]\s))\"([^\"]{8,})\"(?=[,.:;]|\s*$)"
)
_YEAR_THEN_STOP = re.compile(r"((?:1[5-9]|20)\d{2})[a-z]?\.\s+")
# A segment (title, journal) ends at a full stop after a word, upper-case words ('EPILEPSY. Arch Neurol'), a
# closing quote, a question mark or a one-letter word ('data in r. Methods Ecol Evol'), never after an initial or
# an abbreviation's single capital ('J. ACM').
_SEGMENT_END = re.compile(
    r"(?<=[^A-Z\s.][a-z0-9)?])\.\s+|(?<=[A-Z]{3})\.\s+|(?<=[?!\"”’])\.\s+|(?<=[?!])\s+|(?<=\s[a-z])\.\s+(?=[A-Z])"
    r"|(?<=[a-z][.?!][”’])\s+(?=[A-Z])"
)
_TRAILING_YEAR = re.compile(r"(?<![\w.])(?:1[5-9]|20)\d{2}[a-z]?\.?\s*$")
_AUTHOR_STOP = re.compile(r"\bet al\b\.?|&|\band\b", re.I)


@dataclass(frozen=True)
class ParsedRef:
    text: str
    line: int
    doi: str = ""
    first_author: str = ""
    authors: tuple[str, ...] = field(default_factory=tuple)
    year: str = ""
    title: str = ""
    journal: str = ""
    volume: str = ""
    issue: str = ""
    first_page: str = ""
    key: str = ""  # the library or .bib key, when the reference is an entry rather than written text
    pmid: str = ""  # a 'PMID: N' the reference gives


def reference_section(text: str) -> list[tuple[int, str]]:
    """(line, entry text) for each entry under the last References-like heading; numbered entries may wrap."""
    lines = text.splitlines()
    start = None
    for number, line in enumerate(lines):
        if is_references_heading(line):
            start = number + 1
    if start is None:
        return []
    entries: list[tuple[int, str]] = []
    inside_comment = False
    for number in range(start, len(lines)):
        line = lines[number].rstrip()
        if inside_comment:  # a comment over several lines (the hand-typed list refs --insert replaced) is not read
            inside_comment = "-->" not in line
            continue
        if line.strip().startswith("<!--"):
            inside_comment = "-->" not in line
            continue
        if re.match(r"^\s*#{1,6}\s", line):
            break
        if not line.strip():
            continue
        continuation = entries and line.startswith((" ", "\t")) and not _NUMBERED.match(line)
        if continuation:
            entries[-1] = (entries[-1][0], entries[-1][1] + " " + line.strip())
        else:
            entries.append((number + 1, _NUMBERED.sub("", line).strip()))
    return entries


def _family(author: str) -> str:
    author = author.strip().strip(",.;")
    if "," in author:
        return author.split(",")[0].strip()
    words = author.split()
    if not words:
        return ""
    # 'Yang Y', 'Dorsher PT' (Vancouver: family first, initials after) or 'Y. Yang' (IEEE: initials first).
    if len(words) > 1 and re.fullmatch(r"[A-Z]{1,3}\.?|(?:[A-Z]\.)+-?(?:[A-Z]\.)*", words[-1]):
        return " ".join(words[:-1])
    if re.fullmatch(r"(?:[A-Z]\.\s?)+", words[0]) or re.fullmatch(r"(?:[A-Z]\.-?)+[A-Z]?\.?", words[0]):
        family = " ".join(w for w in words if not re.fullmatch(r"(?:[A-Z]\.-?)+[A-Z]?\.?", w))
        return family or author  # 'T.J.C': a name made of initials only is that name
    # 'Sean M Arietta', 'Dean Baskin': given names first, the family name last.
    given_first = words[0][0].isupper() and len(words[0]) > 3 and words[-1][0].isupper() and len(words) <= 4
    return words[-1] if given_first else words[0]


def _authors(part: str) -> list[str]:
    part = _AUTHOR_STOP.sub(";", part)
    if part.count(";") == 0 and re.search(r",\s*[A-Z]\.", part):
        # APA: 'Mehta, S., Orr, K.' -> pairs of family, initials
        pieces = re.split(r"(?<=\.),\s*(?=[A-Z][^\s,.]+,)", part)
    else:
        pieces = re.split(r";|,(?=\s*[A-Z][a-z'’-]+\s+[A-Z]{1,3}\b)", part)
    return [f for f in (_family(p) for p in pieces) if f and f.lower() not in ("others",)]


_NAME_CHUNK = re.compile(r"^(?:(?:[A-Z]\.[\s-]?)+\s*[\w'’ -]+|[\w'’ -]+,?\s+(?:[A-Z]\.\s?)+)(?:\s+et al\.?)?$")


def _physics_layout(text: str, line: int, before_year: str, year: str, dois: list[str]) -> ParsedRef | None:
    """'C. J. Hamer, Nucl. Phys. B 195, 503 (1982).': authors, journal with volume, page, year last, no title."""
    chunks = [c.strip() for c in re.split(r",\s*|\s+and\s+", before_year.strip(" .")) if c.strip()]
    authors = []
    while chunks and _NAME_CHUNK.match(chunks[0]):
        authors.append(_family(re.sub(r"\s+et al\.?$", "", chunks.pop(0))))
    if not authors or not chunks:
        return None
    venue = re.match(r"^(?P<journal>.*?\D)\s*(?P<volume>\d+)$", chunks[0])
    if not venue:
        return None
    first_page = re.split(r"[-–]", chunks[1])[0].strip() if len(chunks) > 1 else ""
    return ParsedRef(
        text,
        line,
        dois[0] if dois else "",
        authors[0],
        tuple(authors),
        year,
        "",
        venue.group("journal").strip(" ,."),
        venue.group("volume"),
        "",
        first_page,
    )


_PAGES_MARKED = re.compile(r"\bpp?\.\s*(?P<first>[A-Za-z]?\d+)")
_PAGE_RANGE = re.compile(r"(?<![\d.:/])(?P<first>\d{1,6})\s*[-–—]\s*(?P<last>\d{1,6})(?![\d])")
_VOLUME_MARKED = re.compile(r"\b(?:vol|v)\.\s*(?P<volume>\d+)", re.I)
_VOLUME_BEFORE_YEAR = re.compile(
    r"(?<![\d(])(?P<volume>\d{1,4}),?\s*(?:(?:no\.\s*)?(?P<issue>\d{1,4})\s*)?\((?:1[5-9]|20)\d{2}\)"
)
_VOLUME_THEN_RANGE = re.compile(
    r"(?<![\d(])(?P<volume>\d{1,4})(?:\s*\((?P<issue>[\w-]{1,9})\))?,?\s+(?P<first>\d{1,6})\s*[-–—]\s*\d{1,6}\b"
)
_VOLUME_ISSUE = re.compile(r"(?<![\d(])(?P<volume>\d{1,4})\s*\((?P<issue>[\w-]{1,9})\)")
_VOLUME_AFTER_YEAR = re.compile(r"\b(?:1[5-9]|20)\d{2}[a-z]?,\s*(?P<volume>\d{1,4}),\s*(?=[A-Za-z]?\d)")


def _is_year(value: str) -> bool:
    return bool(re.fullmatch(r"(?:1[5-9]|20)\d{2}", value))


def _fill_gaps(ref: ParsedRef) -> ParsedRef:
    """Pages and volume from layouts the main reading missed: 'pp. 39-55', 'v. 16', '13, 5 (2004): 399-415',
    'Study, 14 206-214, 1981'. A page range of two years ('1998-2001') is not pages; a year is never a volume."""
    body = _URL.sub(" ", ref.text)
    misread = ref.first_page and ref.first_page == ref.year  # 'vol, year' taken for 'volume, page': both are wrong
    first_page = "" if misread else ref.first_page
    year_as_volume = _is_year(ref.volume) and body.count(ref.volume) < 2
    volume, issue = (ref.volume, ref.issue) if not (year_as_volume or misread) else ("", "")
    if not volume or not first_page:
        both = _VOLUME_THEN_RANGE.search(body)
        if both and not _is_year(both.group("volume")):
            if not volume:
                volume, issue = both.group("volume"), both.group("issue") or issue
            first_page = first_page or both.group("first")
    if not first_page:
        marked = _PAGES_MARKED.search(body)
        ranges = [m for m in _PAGE_RANGE.finditer(body) if not (_is_year(m["first"]) and _is_year(m["last"]))]
        first_page = marked.group("first") if marked else ranges[-1].group("first") if ranges else ""
    if not volume:
        issues = (m for m in _VOLUME_ISSUE.finditer(body) if not _is_year(m["issue"]) and not _is_year(m["volume"]))
        found = (
            _VOLUME_MARKED.search(body)
            or next(issues, None)
            or _VOLUME_AFTER_YEAR.search(body)
            or _VOLUME_BEFORE_YEAR.search(body)
        )
        if found:
            volume = found.group("volume")
            issue = issue or (found.groupdict().get("issue") or "")
    return replace(ref, volume=volume, issue=issue, first_page=first_page)


_MONTH_WORD = r"(?:jan|feb|mar|apr|may|mai|jun|jul|aug|ao[uû]|sep|oct|nov|d[eé]c|dec|spring|summer|autumn|fall|winter)"
_JOURNAL_TAIL = re.compile(rf"(?:[,;]?\s+(?=\(?\d)|,\s*{_MONTH_WORD}\w*\b|,\s*n[°o.]).*$", re.I)


def _clean_journal(ref: ParsedRef) -> ParsedRef:
    """A journal ends before its volume, year, issue or month: 'American Literary History 10 (1998): 544-67' is
    'American Literary History'; 'In ICML' is 'ICML'."""
    journal = _JOURNAL_TAIL.sub("", re.sub(r"^In:?\s+", "", ref.journal)).strip(" ,.;:") or ref.journal
    journal = "" if re.fullmatch(r"[\d\s().,-]*", journal) else journal  # a year or a number is no journal
    return replace(ref, journal=journal)


_EMPHASIS = re.compile(r"(?<![\w*])\*{1,2}(?=\S)|(?<=\S)\*{1,2}(?![\w*])|(?<![\w_])_(?=\S)|(?<=\S)_(?![\w_])")
_MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>&])")


def plain_reference(text: str) -> str:
    """A reference as its reader sees it: Markdown emphasis marks (``*Journal*, *15*(4)``) and backslash escapes
    removed; underscores inside words (DOIs such as ``article_5c54``) stay."""
    if "*" in text or "_" in text:
        text = _EMPHASIS.sub("", text)
    return _MARKDOWN_ESCAPE.sub(r"\1", text) if "\\" in text else text


def parse_reference(text: str, line: int = 0) -> ParsedRef:
    """Fields of one written reference (plain text or Markdown)."""
    pmids = [ident[5:] for ident in find_pubmed_ids(text) if ident.startswith("PMID:")]
    parsed = _clean_journal(_fill_gaps(_parse(plain_reference(_PMID_NOTE.sub(" ", text)), line)))
    return replace(parsed, text=text, pmid=pmids[0] if pmids else "")


# 'PMID: 23121403' and 'PMCID: PMC…' as styles print them: removed before the fields are read (they are no page).
_PMID_NOTE = re.compile(r"\b(?:PMID|PMCID):?\s*(?:PMC)?\d+\.?", re.I)


# '[1] ', '(1) ', '1. ', and '1 ' before a capital (The Lancet's number set apart): a year is never read as one.
_CITATION_NUMBER = re.compile(r"^\s*(?:\[\d+\]|\(\d+\)|\d+\.|\d{1,3}(?=\s+[A-ZÀ-Þ]))\s+")
# Capital letters of the scripts names are written in (Latin with accents, Greek, Cyrillic): initials are these.
_CAPS = "A-ZÀ-ÖØ-ÞĀ-ŽΑ-ΩА-ЯЁ"
_STOP_AFTER = re.compile(rf"\.\s+(?=[{_CAPS}0-9\"“‘a-z])")
_NEXT_INITIAL = re.compile(rf"[{_CAPS}]\.(?:[\s,-]|[{_CAPS}]|$)")


def _opens_a_name(before: str) -> bool:
    """Whether initials after ``before`` open a name ('Y. Sagiv', ', and M. Yannakakis', 'A. Apte, D. Auroux')
    rather than close one ('Alexander, T.', 'Abdo, A. A.')."""
    head = re.sub(rf"(?:[{_CAPS}]\.[\s-]*)*$", "", before).rstrip()
    if not head or re.search(r"(?:\band|&)$", head):
        return True
    if head.endswith(","):
        chunk = re.split(r"(?:^|\s)(?:&|and)\s+", head[:-1].rsplit(",", 1)[-1].strip())[-1]
        return " " in chunk  # 'A. Apte,' is a whole name, 'Alexander,' a family name waiting for its initials
    return False


def _end_of_authors(body: str) -> re.Match | None:
    """The full stop that ends the author list: not the one after an initial that opens a name ('Y. Sagiv and M.
    Yannakakis. Title'), but the one after a closing initial ('Yin T. Title') or a family name."""
    skipped = None
    for stop in _STOP_AFTER.finditer(body):
        # What precedes a stop is judged on its last 200 characters (no name is longer): taking the whole prefix
        # made 'A. A. A. ...' quadratic.
        before = body[max(0, stop.start() - 200) : stop.start()]
        if body[stop.end()] in "‘“\"'«":
            return stop  # no name opens with a quote: the title does ('Cooper, W. S. ‘Ecology’ and ...')
        initial = re.search(rf"(?:^|[\s.,-])([{_CAPS}])$", before)
        if body[stop.end()].islower() and (
            not (initial and not _opens_a_name(before[: initial.start(1)]))
            or re.match(r"[a-z]+", body[stop.end() :]).group(0) in _PARTICLES | {"al"}
        ):
            continue  # a lower-case word ends the names only after a closing initial ('Chang W. diffviewer: ...')
        if initial and _NEXT_INITIAL.match(body, stop.end()):
            continue  # 'Patterson, H. A.': more initials of the same name follow
        if initial and _opens_a_name(before[: initial.start(1)]):
            skipped = skipped or stop
            continue  # the family name is still to come
        if skipped is not None and _reads_like_prose(body[skipped.end() : stop.start()].split(",", 1)[0]):
            return skipped  # 'T.J.C. Surgical reconstruction of the mandible.': the initials were the whole name
        return stop
    return None


_PARTICLES = {"and", "van", "von", "de", "der", "den", "del", "della", "di", "da", "du", "la", "le", "dos", "das", "et"}


def _is_no_names(text: str) -> bool:
    """Whether what stands before the first full stop is a title rather than names (an anonymous work: 'Widget
    Mania: Using a GUI Widget Framework. In: ...'): the first name holds no colon and no run of lower-case words."""
    first = text.split(",", 1)[0]
    return ":" in first or _reads_like_prose(first)


def _reads_like_prose(text: str) -> bool:
    """Two lower-case words that are no particles, or four upper-case ones: a title, not the rest of a name list
    (names are capitalised: 'Cau, R. Kuiper, and W.-P. de Roever')."""
    words = [w for w in re.findall(r"\b\w[\w'’-]{2,}\b", text[:300]) if w.lower() not in _PARTICLES and w != "al"]
    shouting = sum(1 for w in words if w.isupper() and len(w) >= 4)
    return sum(1 for w in words if w.islower()) >= 2 or shouting >= 4


def _parse(text: str, line: int) -> ParsedRef:
    dois = find_dois(text)
    text_without_number = _CITATION_NUMBER.sub("", text)
    body = _URL.sub(" ", text_without_number).strip()
    body = re.sub(r"\s+", " ", body)
    year, authors_part, rest = "", "", body
    match = _YEAR_PAREN.search(body)
    quoted = _QUOTED_TITLE.search(body)
    if quoted:  # IEEE and others: 'A. Author, “Title,” Journal, vol. 1, no. 2, pp. 3–4, 2020.'
        head = body[: quoted.start()]
        before_title_year = _YEAR_PAREN.search(head)  # Harvard: 'Author, A. (2014) “Title”, ...'
        # Chicago author-date: 'Author, A. 2014. “Title”.': the year between authors and title is no name.
        names = head[: before_title_year.start()] if before_title_year else _TRAILING_YEAR.sub("", head)
        authors = _authors(names)
        tail = body[quoted.end() :]
        again = tail.find(quoted.group(0))
        if 0 <= again < 20:  # an anonymous work: the title stands in for the author, then comes again as the title
            tail = tail[again + len(quoted.group(0)) :]
        # The year or 'In' between title and container ('“Title.” 2007. In Book', '“Title” (2007) Book') is neither.
        tail = re.sub(r"^[\s,.]*(?:\(?(?:1[5-9]|20)\d{2}[a-z]?\)?[.,]?\s*)?(?:In:?\s+)?", "", tail)
        found = before_title_year or _YEAR.search(body[quoted.end() :])
        ieee = _IEEE.search(tail)
        journal = tail.strip(" ,.").split(",")[0].strip(" ,.")
        return ParsedRef(
            text,
            line,
            dois[0] if dois else "",
            authors[0] if authors else "",
            tuple(authors),
            found.group(1) if found else "",
            next(g for g in quoted.groups() if g).strip(" ,."),
            journal,
            ieee.group("volume") if ieee else "",
            (ieee.group("issue") or "") if ieee else "",
            (ieee.group("first") or "") if ieee else "",
        )
    if match and not body[match.end() :].strip(" .,;[]") and "," in body[: match.start()]:
        physics = _physics_layout(text, line, body[: match.start()], match.group(1), dois)
        if physics is not None:
            return physics
    at_end = match is not None and not body[match.end() :].strip(" .,;[]")
    if match and not at_end:
        year = match.group(1)
        authors_part, rest = body[: match.start()], body[match.end() :].lstrip(" .")
        if re.match(r"In:?\s", rest) and _is_no_names(authors_part):
            # an anonymous chapter: its title stands where the authors would ('Title. (2007). In Book (pp. 3-4).')
            authors_part, rest = "", f"{authors_part.strip()} {rest}"
    elif at_end:
        # Nature and physics styles: 'Authors. Title. Journal 15, 353 (1926).': the year closes the entry.
        year = match.group(1)
        first_stop = _end_of_authors(body[: match.start()])
        if first_stop:
            authors_part, rest = body[: first_stop.start()], body[first_stop.end() : match.start()]
        else:  # no full stop ends the names ('Feferman, S., Title, J. Symbolic Logic, 27, 259-316 (1962).')
            authors_part = body[: match.start()]
    else:
        # Vancouver/AMA: 'Authors. Title. Journal. 2013;19(1):61-77.'
        first_stop = _end_of_authors(body)
        if first_stop and not _is_no_names(body[: first_stop.start()]):
            authors_part, rest = body[: first_stop.start()], body[first_stop.end() :]
        leading = _YEAR_THEN_STOP.match(rest)  # 'Cousot, P. and Cousot, R. 1978. Title.': the year comes first
        if leading:
            rest = rest[leading.end() :]
        found = leading or _YEAR.search(rest)
        year = found.group(1) if found else ""
    authors = _authors(authors_part)
    segments = [s.strip() for s in _SEGMENT_END.split(rest) if s.strip()]
    title = segments[0].rstrip(".") if segments else ""
    journal, volume, issue, first_page = "", "", "", ""
    if len(segments) > 1 and segments[1].rstrip(".") == title:
        segments = segments[1:]  # an anonymous work: its title printed in the author's place, then as the title
    tail = " ".join(segments[1:])
    numbers = _VOLUME.search(tail)
    if numbers:
        volume, issue, first_page = numbers.group("volume"), numbers.group("issue") or "", numbers.group("first")
        journal_part = tail[: numbers.start()]
    else:
        journal_part = tail
    # A full stop ends the journal only after a whole word: 'J. ACM' and 'Phys. Rev.' are abbreviations.
    journal = re.split(r"[,;]?\s+\d|[,;]\s*\d|(?<=[a-z]{4})\.\s", journal_part.strip(" ,.;") + " ")[0].strip(" ,.;")
    if year and volume == year and body.count(year) < 2:
        volume = ""  # the year was read as a volume (a volume may equal the year: Hindawi's '2017, 1–7 (2017)')
    return ParsedRef(
        text,
        line,
        dois[0] if dois else "",
        authors[0] if authors else "",
        tuple(authors),
        year,
        title,
        journal,
        volume,
        issue.strip(),
        first_page,
    )
