"""Crossref work message -> the plain-text fields of a BibTeX entry, as a careful reference manager would map them.

Pure: takes the JSON message as a dict and returns plain Unicode values; encoding them for BibTeX is
``bibtex.encode_fields``'s job. Dates follow the print date first (the issue a reader cites), then online, then
``issued`` (which is the earliest of the two and so often a year too early for print citations).
"""

from __future__ import annotations

from evidence.cite.types import CROSSREF_TO_BIBTEX, bibtex_pages
from evidence.doi import doi_url
from evidence.markup import strip_marks
from evidence.model import MONTHS, Person, format_names
from evidence.sources.jats import html_to_marked, html_to_text, jats_to_text

# Where each entry type keeps the title of what contains the work.
_CONTAINER_FIELD = {"article": "journal", "incollection": "booktitle", "inproceedings": "booktitle"}


def _first(values, read=html_to_text) -> str:
    if isinstance(values, list):
        for value in values:
            if isinstance(value, str) and value.strip():
                return read(value)
        return ""
    return read(values) if isinstance(values, str) else ""


def _date_parts(message: dict) -> tuple[int | None, int | None, int | None]:
    """(year, month, day) of the date a reader cites: print, then online, then issued; missing parts are None."""
    for name in ("published-print", "published-online", "issued", "published", "created"):
        parts = (message.get(name) or {}).get("date-parts") or []
        if parts and parts[0] and parts[0][0]:
            first = parts[0]
            try:
                year = int(first[0])
                month = int(first[1]) if len(first) > 1 and first[1] else None
                day = int(first[2]) if len(first) > 2 and first[2] else None
            except (TypeError, ValueError):
                continue
            if not (month and 1 <= month <= 12):
                return year, None, None
            return year, month, day if day and 1 <= day <= 31 else None
    return None, None, None


def person(person: dict) -> Person:
    """A Crossref contributor (``family``/``given``/``suffix``, or an organisation's ``name``) as a Person."""
    family = html_to_text(str(person.get("family") or ""))
    given = html_to_text(str(person.get("given") or ""))
    if not family:
        return Person(literal=html_to_text(str(person.get("name") or "")) or given)
    return Person(family=family, given=given, suffix=html_to_text(str(person.get("suffix") or "")))


def names(people) -> str:
    if not isinstance(people, list):
        return ""
    return format_names([person(p) for p in people if isinstance(p, dict)])


def crossref_to_fields(message: dict) -> tuple[str, dict[str, str]]:
    """Map one Crossref work message to (BibTeX entry type, plain-text fields in a stable order)."""
    crossref_type = message.get("type") or "other"
    entry_type = CROSSREF_TO_BIBTEX.get(crossref_type, "misc")
    fields: dict[str, str] = {}
    fields["author"] = names(message.get("author"))
    if entry_type in ("book", "proceedings") and not fields["author"]:
        fields["editor"] = names(message.get("editor"))
    elif entry_type in ("incollection", "inproceedings"):
        fields["editor"] = names(message.get("editor"))
    title = _first(message.get("title"), html_to_marked)  # italic species names and the like are kept
    fields["title"] = title
    subtitle = _first(message.get("subtitle"), html_to_marked)
    if subtitle and strip_marks(subtitle).lower() not in strip_marks(title).lower():
        fields["subtitle"] = subtitle  # biblatex's field; styles decide whether to print it
    container = _first(message.get("container-title"))
    container_field = _CONTAINER_FIELD.get(entry_type)
    if container_field:
        fields[container_field] = container
    elif container and entry_type == "misc":
        fields["howpublished"] = container
    if entry_type == "article":
        fields["shortjournal"] = _first(message.get("short-container-title"))
    year, month, day = _date_parts(message)
    fields["year"] = str(year) if year else ""
    fields["month"] = MONTHS[month - 1] if month else ""
    fields["date"] = f"{year:04d}-{month:02d}-{day:02d}" if year and month and day else ""  # biblatex's full date
    fields["volume"] = str(message.get("volume") or "").strip()
    fields["number"] = str(message.get("issue") or "").strip()
    pages = str(message.get("page") or "").strip()
    article_number = str(message.get("article-number") or "").strip()
    fields["pages"] = bibtex_pages(pages) if pages else article_number
    fields["eid"] = article_number  # biblatex's field: styles print 'Article 1253438' rather than a page
    publisher = html_to_text(message.get("publisher") or "")
    if entry_type == "techreport":
        fields["institution"] = publisher
    elif entry_type == "phdthesis":
        fields["school"] = (
            _first(message.get("institution", [{}])[0].get("name") if message.get("institution") else "") or publisher
        )
    else:
        fields["publisher"] = publisher
    doi = str(message.get("DOI") or "").strip().lower()
    fields["doi"] = doi
    fields["url"] = doi_url(doi) if doi else str(message.get("URL") or "")
    issns = message.get("ISSN") or []
    fields["issn"] = ", ".join(dict.fromkeys(i for i in issns if isinstance(i, str)))
    if entry_type in ("book", "incollection", "inproceedings", "proceedings"):
        isbns = message.get("ISBN") or []
        fields["isbn"] = ", ".join(dict.fromkeys(i for i in isbns if isinstance(i, str)))
    fields["language"] = str(message.get("language") or "")
    fields["abstract"] = jats_to_text(message.get("abstract") or "")
    return entry_type, {name: value for name, value in fields.items() if value}


# Update types that take a work out of the evidence (Crossref's 'updated-by' / Crossmark vocabulary).
RETRACTING_UPDATES = {"retraction": "retracted", "withdrawal": "withdrawn", "removal": "removed"}
CONCERN_UPDATES = {"expression_of_concern": "under an expression of concern"}


def retraction_status(message: dict) -> tuple[str, str] | None:
    """('retracted' | 'withdrawn' | 'removed' | 'under an expression of concern', notice DOI) when the record says
    so in ``updated-by`` (Crossref adds it to the original work once a notice is registered), else None."""
    updates = message.get("updated-by") or []
    found = None
    for update in updates if isinstance(updates, list) else []:
        if not isinstance(update, dict):
            continue
        kind = str(update.get("type", "")).lower().replace("-", "_").replace(" ", "_")
        if kind in RETRACTING_UPDATES:
            return RETRACTING_UPDATES[kind], str(update.get("DOI", "")).lower()
        if kind in CONCERN_UPDATES and found is None:
            found = (CONCERN_UPDATES[kind], str(update.get("DOI", "")).lower())
    return found
