"""PubMed's efetch XML (``PubmedArticleSet``), esearch XML and the PMC ID Converter's JSON, read into ``Found``.

Parsed with defusedxml: the answer is hostile input, and defusedxml refuses entity declarations and external
references outright (a billion-laughs answer or one naming a local file fails to parse, it is never expanded).
The DOCTYPE line PubMed sends names its DTD by URL; expat never fetches it.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # noqa: S405 - serialising only; parsing goes through defusedxml

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from evidence.controls import strip_controls
from evidence.doi import find_dois
from evidence.errors import RemoteDataError
from evidence.model import MONTHS, Person, format_names
from evidence.sources.found import MAX_ABSTRACT_CHARS, Found, bounded, normal_pmcid, normal_pmid

_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)\b")


def _text(element: ET.Element | None) -> str:
    """All the text inside ``element`` (inline <i>, <sup> ... dropped, their words kept), on one line."""
    if element is None:
        return ""
    return strip_controls(" ".join("".join(element.itertext()).split()))


def parse(xml: bytes | str, what: str = "PubMed's answer") -> ET.Element:
    try:
        return SafeET.fromstring(xml)
    except DefusedXmlException:
        raise RemoteDataError(f"{what} declares XML entities, which are never read; nothing was stored.") from None
    except ET.ParseError:
        raise RemoteDataError(f"{what} is not well-formed XML; nothing was stored.") from None


def articles(xml: bytes | str) -> list[Found]:
    """One ``Found`` per article or book in an efetch answer (an empty set for unknown PMIDs)."""
    root = parse(xml, "PubMed's efetch answer")
    if root.tag != "PubmedArticleSet":
        raise RemoteDataError("PubMed's efetch answer holds no PubmedArticleSet.")
    found = []
    for element in root:
        if element.tag == "PubmedArticle":
            found.append(_article(element))
        elif element.tag == "PubmedBookArticle":
            found.append(_book(element))
    return [item for item in found if item.pmid]


def _abstract(abstract: ET.Element | None) -> str:
    """The abstract's paragraphs; a structured abstract keeps each section's label ('METHODS: ...')."""
    if abstract is None:
        return ""
    paragraphs = []
    for part in abstract.findall("AbstractText"):
        text = _text(part)
        label = strip_controls(" ".join(str(part.get("Label") or "").split()))
        if text:
            paragraphs.append(f"{label.upper()}: {text}" if label else text)
    return bounded("\n\n".join(paragraphs), MAX_ABSTRACT_CHARS)


def _people(author_list: ET.Element | None) -> str:
    people = []
    for author in author_list.findall("Author") if author_list is not None else []:
        if author.get("ValidYN", "Y") == "N":
            continue
        collective = _text(author.find("CollectiveName"))
        if collective:
            people.append(Person(literal=collective))
            continue
        family = _text(author.find("LastName"))
        if family:
            given = _text(author.find("ForeName")) or _text(author.find("Initials"))
            people.append(Person(family=family, given=given, suffix=_text(author.find("Suffix"))))
    return format_names(people)


def _ids(article: ET.Element) -> dict[str, str]:
    """The article's own ids (PubmedData/ArticleIdList, not those of the works it cites)."""
    ids: dict[str, str] = {}
    for item in article.findall("./PubmedData/ArticleIdList/ArticleId"):
        ids.setdefault(str(item.get("IdType") or ""), _text(item))
    return ids


def _retraction(citation: ET.Element) -> str:
    for item in citation.findall("./CommentsCorrectionsList/CommentsCorrections"):
        if item.get("RefType") == "RetractionIn":
            source = _text(item.find("RefSource"))
            pmid = _text(item.find("PMID"))
            return bounded(f"{source} (PMID {pmid})" if pmid else source or "a retraction notice")
    return ""


def _date(journal_issue: ET.Element | None, article: ET.Element) -> tuple[str, str]:
    date = journal_issue.find("PubDate") if journal_issue is not None else None
    year = _text(date.find("Year")) if date is not None else ""
    month = _text(date.find("Month")).lower()[:3] if date is not None else ""
    if not year and date is not None:
        match = _YEAR.search(_text(date.find("MedlineDate")))
        year = match.group(1) if match else ""
    if not year:
        match = _YEAR.search(_text(article.find("ArticleDate/Year")))
        year = match.group(1) if match else ""
    if month.isdigit() and 1 <= int(month) <= 12:
        month = MONTHS[int(month) - 1]
    return year, month if month in MONTHS else ""


def _pages(article: ET.Element) -> str:
    pagination = article.find("Pagination")
    if pagination is None:
        return ""
    medline = _text(pagination.find("MedlinePgn"))
    if medline:
        start, _, end = medline.partition("-")
        if start.isdigit() and end.isdigit() and len(end) < len(start):
            end = start[: len(start) - len(end)] + end  # MEDLINE shortens the last page: '123-9' is 123-129
        return f"{start}--{end}" if end else start
    start, end = _text(pagination.find("StartPage")), _text(pagination.find("EndPage"))
    return f"{start}--{end}" if start and end else start


def _doi(ids: dict[str, str], article: ET.Element) -> str:
    candidates = [ids.get("doi", "")]
    candidates += [_text(e) for e in article.findall("ELocationID") if e.get("EIdType") == "doi"]
    for candidate in candidates:
        dois = find_dois(candidate)
        if dois:
            return dois[0]
    return ""


def _article(element: ET.Element) -> Found:
    citation = element.find("MedlineCitation")
    if citation is None:
        return Found("pubmed", "")
    article = citation.find("Article")
    pmid = normal_pmid(_text(citation.find("PMID")))
    if article is None or not pmid:
        return Found("pubmed", pmid, pmid=pmid)
    ids = _ids(element)
    journal = article.find("Journal")
    issue = journal.find("JournalIssue") if journal is not None else None
    year, month = _date(issue, article)
    types = tuple(dict.fromkeys(_text(t) for t in article.findall("./PublicationTypeList/PublicationType") if _text(t)))
    doi = _doi(ids, article)
    fields = {
        "author": _people(article.find("AuthorList")),
        "title": bounded(_text(article.find("ArticleTitle")).rstrip(".")),
        "journal": bounded(_text(journal.find("Title")) if journal is not None else ""),
        "shortjournal": _text(journal.find("ISOAbbreviation")) if journal is not None else "",
        "year": year,
        "month": month,
        "volume": _text(issue.find("Volume")) if issue is not None else "",
        "number": _text(issue.find("Issue")) if issue is not None else "",
        "pages": _pages(article),
        "issn": _text(journal.find("ISSN")) if journal is not None else "",
        "doi": doi,
        "language": _text(article.find("Language")),
    }
    return Found(
        "pubmed",
        pmid,
        doi=doi,
        pmid=pmid,
        pmcid=normal_pmcid(ids.get("pmc", "")),
        abstract=_abstract(article.find("Abstract")),
        publication_types=types,
        retraction=_retraction(citation),
        fields={name: value for name, value in fields.items() if value},
        raw=ET.tostring(element, encoding="unicode"),
    )


def _book(element: ET.Element) -> Found:
    document = element.find("BookDocument")
    if document is None:
        return Found("pubmed", "")
    pmid = normal_pmid(_text(document.find("PMID")))
    book = document.find("Book")
    year = ""
    if book is not None:
        match = _YEAR.search(_text(book.find("PubDate")))
        year = match.group(1) if match else ""
    ids = {str(i.get("IdType") or ""): _text(i) for i in document.findall("./ArticleIdList/ArticleId")}
    doi = next(iter(find_dois(ids.get("doi", ""))), "")
    title = _text(document.find("ArticleTitle")) or (_text(book.find("BookTitle")) if book is not None else "")
    fields = {
        "author": _people(document.find("AuthorList")) or (_people(book.find("AuthorList")) if book else ""),
        "title": bounded(title.rstrip(".")),
        "publisher": _text(book.find("Publisher/PublisherName")) if book is not None else "",
        "year": year,
        "doi": doi,
    }
    types = tuple(_text(t) for t in document.findall("./PublicationType") if _text(t))
    return Found(
        "pubmed",
        pmid,
        doi=doi,
        pmid=pmid,
        abstract=_abstract(document.find("Abstract")),
        publication_types=types,
        fields={name: value for name, value in fields.items() if value},
        raw=ET.tostring(element, encoding="unicode"),
    )


def search_ids(xml: bytes | str) -> list[str]:
    """The PMIDs of an esearch answer (none for a search that found nothing)."""
    root = parse(xml, "PubMed's esearch answer")
    if root.tag != "eSearchResult":
        raise RemoteDataError("PubMed's esearch answer holds no eSearchResult.")
    error = root.find("ERROR")
    if error is not None and _text(error):
        raise RemoteDataError(f"PubMed's esearch answered with an error: {bounded(_text(error), 200)}")
    return [pmid for pmid in (normal_pmid(_text(i)) for i in root.findall("./IdList/Id")) if pmid]


def converted_ids(data: dict) -> list[tuple[str, str, str]]:
    """The PMC ID Converter's answer as (pmcid, pmid, doi) for each record it knows."""
    records = data.get("records") if isinstance(data, dict) else None
    if not isinstance(records, list):
        raise RemoteDataError("The PMC ID Converter's answer holds no list of records.")
    found = []
    for record in records:
        if not isinstance(record, dict) or record.get("status") == "error":
            continue
        doi = next(iter(find_dois(str(record.get("doi") or ""))), "")
        pmid = normal_pmid(str(record.get("pmid") or ""))
        found.append((normal_pmcid(str(record.get("pmcid") or "")), pmid, doi))
    return found
