"""Reading works from the formats people export: CSL-JSON and Crossref JSON / JSONL (BibTeX is store.bibfile's job).

Pure: takes text, returns ``Incoming`` works as (suggested key, entry type, plain-text fields), so import can treat
every format alike. Shapes are recognised, not assumed: a Crossref message has list titles and upper-case ``DOI``,
a CSL item a string title.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from evidence.cite.types import CSL_TO_BIBTEX, bibtex_pages
from evidence.errors import BadInputError
from evidence.model import MONTHS, Person, format_names
from evidence.sources.crossref_map import crossref_to_fields
from evidence.sources.jats import jats_to_text
from evidence.sources.json_stream import JSONStreamError, json_values


@dataclass(frozen=True)
class Incoming:
    """A work read from an import file, before it gets a key in the library."""

    key: str  # the id or key it came with ('' when none)
    entry_type: str
    fields: dict[str, str]
    crossref: dict | None = None  # the raw Crossref message, kept as the record when the work came from Crossref


def _csl_names(people) -> str:
    if not isinstance(people, list):
        return ""
    found = []
    for person in people:
        if not isinstance(person, dict):
            continue
        if person.get("literal"):
            found.append(Person(literal=str(person["literal"])))
            continue
        family = " ".join(str(p) for p in (person.get("non-dropping-particle"), person.get("family")) if p)
        given = " ".join(str(p) for p in (person.get("given"), person.get("dropping-particle")) if p)
        if family:
            found.append(Person(family=family, given=given, suffix=str(person.get("suffix") or "")))
    return format_names(found)


def csl_to_fields(item: dict) -> tuple[str, dict[str, str]]:
    """Map one CSL-JSON item to (BibTeX entry type, plain-text fields)."""
    entry_type = CSL_TO_BIBTEX.get(str(item.get("type", "")), "misc")
    container = str(item.get("container-title") or "")
    fields = {
        "author": _csl_names(item.get("author")),
        "editor": _csl_names(item.get("editor")),
        "title": str(item.get("title") or ""),
        "journal" if entry_type == "article" else "booktitle": container
        if entry_type in ("article", "incollection", "inproceedings")
        else "",
        "shortjournal": str(item.get("container-title-short") or item.get("journalAbbreviation") or ""),
    }
    parts = ((item.get("issued") or {}).get("date-parts") or [[]])[0] or []
    if parts and parts[0]:
        fields["year"] = str(parts[0])
        if len(parts) > 1 and str(parts[1]).isdigit() and 1 <= int(parts[1]) <= 12:
            fields["month"] = MONTHS[int(parts[1]) - 1]
    elif (item.get("issued") or {}).get("raw"):
        fields["year"] = str(item["issued"]["raw"])[:4]
    fields["volume"] = str(item.get("volume") or "")
    fields["number"] = str(item.get("issue") or "")
    page = str(item.get("page") or item.get("number") if entry_type == "article" else item.get("page") or "")
    fields["pages"] = bibtex_pages(page) if page != "None" else ""
    fields["publisher"] = str(item.get("publisher") or "")
    fields["doi"] = str(item.get("DOI") or "").lower()
    url = str(item.get("URL") or "")
    fields["url"] = f"https://doi.org/{fields['doi']}" if fields["doi"] and "doi.org/" in url.lower() else url
    fields["issn"] = str(item.get("ISSN") or "") if not isinstance(item.get("ISSN"), list) else ", ".join(item["ISSN"])
    abstract = str(item.get("abstract") or "")
    fields["abstract"] = jats_to_text(abstract) if abstract.lstrip().startswith("<") else abstract
    fields["keywords"] = str(item.get("keyword") or "")
    fields["annotation"] = str(item.get("note") or "")
    for source, target in (("PMID", "pmid"), ("PMCID", "pmcid"), ("ISBN", "isbn")):
        value = item.get(source)
        fields[target] = ", ".join(map(str, value)) if isinstance(value, list) else str(value or "")
    return entry_type, {k: v for k, v in fields.items() if v and v != "None"}


def _is_crossref(item: dict) -> bool:
    return isinstance(item.get("title"), list) or (
        "DOI" in item and "container-title" in item and isinstance(item.get("container-title"), list)
    )


def _unwrap(data):
    """Yield work dicts from the wrappers people meet: API answers, list answers, {"work": ...} lines, plain lists."""
    if isinstance(data, list):
        for item in data:
            yield from _unwrap(item)
        return
    if not isinstance(data, dict):
        return
    if "message" in data and isinstance(data["message"], dict):
        yield from _unwrap(data["message"])
    elif "items" in data and isinstance(data["items"], list):
        yield from _unwrap(data["items"])
    elif "work" in data and isinstance(data["work"], dict):
        yield from _unwrap(data["work"])
    else:
        yield data


def incoming_from_item(item: dict) -> Incoming:
    if _is_crossref(item):
        entry_type, fields = crossref_to_fields(item)
        return Incoming(key="", entry_type=entry_type, fields=fields, crossref=item)
    entry_type, fields = csl_to_fields(item)
    # Zotero and Better BibTeX put the key the author cites in 'citation-key' (older: 'citation_key'); 'id' is
    # often an item URI, which is no key.
    key = str(item.get("citation-key") or item.get("citation_key") or "")
    identifier = str(item.get("id") or "")
    return Incoming(key=key or ("" if "://" in identifier else identifier), entry_type=entry_type, fields=fields)


def parse_json_works(text: str, source: str) -> list[Incoming]:
    """Works from a JSON document (CSL-JSON array, Crossref answer) or JSON Lines (one work or message per line)."""
    return list(iter_json_works(io.StringIO(text).read, source))


def iter_json_works(read: Callable[[int], str], source: str) -> Iterator[Incoming]:
    """``parse_json_works`` one work at a time, from text read a piece at a time (``json_stream``): an import of
    100,000 works never holds their text, nor all of them decoded. An error names its line, and may come after works
    were yielded (the caller undoes them)."""
    empty = True
    try:
        for document in json_values(read):
            empty = False
            for item in _unwrap(document):
                work = incoming_from_item(item)
                if work.fields:
                    yield work
    except JSONStreamError as error:
        raise BadInputError(f"{source} line {error.line} is not valid JSON ({error.reason}).") from None
    if empty:
        raise BadInputError(f"{source} is empty.")
