"""A library work -> a CSL-JSON item, the input of every CSL processor (citeproc-py, Pandoc, Zotero).

One mapping for every work, whether it came from Crossref or from a hand-made .bib: types, names (particles,
suffixes, organisations as literals), dates, page or article number, container and short container titles, DOI.
Empty values are left out rather than sent as empty strings, which CSL processors render as stray punctuation.
"""

from __future__ import annotations

import re

from evidence.cite.types import BIBTEX_TO_CSL, csl_pages
from evidence.links import doi_link, web_link
from evidence.markup import to_csl
from evidence.model import Person, Work, parse_names

_PARTICLES = (
    "van der",
    "van den",
    "von der",
    "van",
    "von",
    "de la",
    "de",
    "del",
    "della",
    "di",
    "da",
    "du",
    "le",
    "la",
)


def person_to_csl(person: Person) -> dict:
    if person.literal:
        return {"literal": person.literal}
    name: dict[str, str] = {}
    family = person.family
    for particle in _PARTICLES:
        if family.lower().startswith(particle + " ") and family[: len(particle)].islower():
            name["non-dropping-particle"] = family[: len(particle)]
            family = family[len(particle) + 1 :]
            break
    name["family"] = family
    if person.given:
        name["given"] = person.given
    if person.suffix:
        name["suffix"] = person.suffix
    return name


def _names(people: list[Person]) -> list[dict]:
    """CSL names; BibTeX's 'and others' is dropped (CSL has no such name: the style decides on 'et al.')."""
    return [person_to_csl(p) for p in people if (p.literal or p.family) and not _is_others(p)]


def _is_others(person: Person) -> bool:
    return (person.literal or person.family).lower() == "others" and not person.given


def _date_parts(work: Work) -> list[int]:
    """[year, month, day] as far as known: biblatex's ISO ``date`` first, then year / month / day."""
    iso = re.match(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", work.get("date"))
    if iso:
        return [int(part) for part in iso.groups() if part]
    year = "".join(ch for ch in work.year if ch.isdigit())[:4]
    if not year:
        return []
    parts = [int(year)]
    month = work.get("month")
    if month.isdigit() and 1 <= int(month) <= 12:
        parts.append(int(month))
        day = work.get("day")
        if day.isdigit() and 1 <= int(day) <= 31:
            parts.append(int(day))
    return parts


def full_title(title: str, subtitle: str) -> str:
    """Title and subtitle as one CSL title, joined as biblatex and pandoc join them ('Title: Subtitle'; after a
    title ending in '?', '!' or ':' with a space only). CSL has no subtitle variable: a style would drop it."""
    if not subtitle or subtitle.lower() in title.lower():
        return title
    return f"{title} {subtitle}" if title.rstrip().endswith(("?", "!", ":", ".")) else f"{title}: {subtitle}"


def work_to_csl(work: Work, marked: dict[str, str] | None = None) -> dict:
    """The CSL-JSON item for one work; ``id`` is the citation key. ``marked``: the title and subtitle with their
    inline markup as ``evidence.markup`` marks (``store.latex.marked_fields``), written as CSL's tags."""
    marked = marked or {}
    item: dict = {"id": work.key, "type": BIBTEX_TO_CSL.get(work.entry_type, "document")}
    if work.entry_type == "misc" and work.get("howpublished") and "preprint" in work.get("howpublished").lower():
        item["type"] = "article"
    authors = _names(work.authors)
    if authors:
        item["author"] = authors
    editors = _names(parse_names(work.get("editor")))
    if editors:
        item["editor"] = editors
    if work.title:
        title = to_csl(marked["title"]) if marked.get("title") else work.title
        subtitle = to_csl(marked["subtitle"]) if marked.get("subtitle") else work.get("subtitle")
        item["title"] = full_title(title, subtitle)
    container = work.get("journal") or work.get("booktitle") or work.get("howpublished")
    if container:
        item["container-title"] = container
    if work.get("shortjournal"):
        item["container-title-short"] = work.get("shortjournal")
    parts = _date_parts(work)
    if parts:
        item["issued"] = {"date-parts": [parts]}
    for source, target in (
        ("volume", "volume"),
        ("number", "issue"),
        ("publisher", "publisher"),
        ("abstract", "abstract"),
        ("isbn", "ISBN"),
        ("pmid", "PMID"),
        ("pmcid", "PMCID"),
        ("issn", "ISSN"),
        ("language", "language"),
        ("edition", "edition"),
        ("address", "publisher-place"),
    ):
        if work.get(source):
            item[target] = work.get(source)
    if work.entry_type == "techreport" and work.get("institution"):
        item["publisher"] = work.get("institution")
    if work.entry_type in ("phdthesis", "mastersthesis") and work.get("school"):
        item["publisher"] = work.get("school")
    pages = csl_pages(work.get("pages"))
    article_number = work.get("eid")
    if article_number:
        item["number"] = article_number  # styles print it as an article number ('Article 1253438', 'Art. no.')
    if pages and pages != article_number:
        item["page"] = pages
    if work.get("eid"):
        item["number"] = work.get("eid")
    doi_url = doi_link(work.get("doi"))
    if doi_url:
        item["DOI"] = work.get("doi")  # the publisher's spelling; DOIs compare without case
        item["URL"] = doi_url
    elif web_link(work.get("url")):
        item["URL"] = web_link(work.get("url"))
    return item
