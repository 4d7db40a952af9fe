"""`evidence report`: claims, reference checks and the reference list of one article, in one pass.

Application layer. The references are checked by ``checking.check_references``, the checker behind ``evidence
check``, so the two never disagree on the same article: the article's written list and DOIs, then each cited work
the list does not cover, as the library has it. Records older than the library's ``max_age_days`` are fetched again
(unless offline); offline, checks that need a record are listed as not made, never as passed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from evidence.check.checking import check_references, references_in, with_cited_works
from evidence.cite import csl
from evidence.cite.article import parse_article
from evidence.cite.refs import default_style, format_references, resolve_cited
from evidence.claims.report import claims_report
from evidence.config import parse_config
from evidence.jobs.common import RecordsReadOnce
from evidence.results.check import CheckReport
from evidence.results.report import Report

if TYPE_CHECKING:  # annotations only: the interfaces cost nothing at run time
    from evidence.protocols import LibraryStore, RecordSource


def report(
    store: LibraryStore,
    client: RecordSource | None,
    article_text: str,
    article_name: str,
    style: str | None = None,
    notify: Callable[[str], None] = lambda _m: None,
    html: bool = False,
    pubmed=None,
) -> Report:
    """One pass: the article is read once and the library loaded once (again only if cited DOIs had to be fetched),
    and the list is rendered from the one resolution of the citations, as text and, with ``html``, as HTML; each
    stored record is read once."""
    store = RecordsReadOnce(store)
    article = parse_article(article_text)
    bib = store.load_bib()
    cited, problems = resolve_cited(store, lambda: client, article, notify, bib=bib)
    if not {work.key for work in cited} <= bib.keys():
        bib = store.load_bib()  # works were fetched for @doi: citations and added
    refs = with_cited_works(references_in(article_text, article_name), cited, bib.works)
    max_age = parse_config(store.read_config_text()).max_age_days
    checks = check_references(store, client, refs, bib.works, max_age, notify, pubmed)
    chosen = csl.resolve_style(style or default_style(store))
    listing = format_references(store, cited, problems, chosen, "text")
    page_list = format_references(store, cited, problems, chosen, "html").entries if html else ()
    return Report(
        article_name,
        claims_report(store, article_text, article_name, bib=bib, article=article),
        tuple(checks),
        listing,
        offline=client is None,
        oldest_record=CheckReport.of(article_name, checks).oldest_record,
        html_entries=tuple(page_list),
    )
