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
from evidence.cite.article import parse_article
from evidence.cite.refs import references, resolve_cited
from evidence.claims.report import claims_report
from evidence.config import parse_config
from evidence.results import Report

if TYPE_CHECKING:  # annotations only: the interfaces cost nothing at run time
    from evidence.protocols import LibraryStore, RecordSource


def report(
    store: LibraryStore,
    client: RecordSource | None,
    article_text: str,
    article_name: str,
    style: str | None = None,
    notify: Callable[[str], None] = lambda _m: None,
) -> Report:
    article = parse_article(article_text)
    cited, _problems = resolve_cited(store, client, article, notify)
    library = store.load_bib().works
    refs = with_cited_works(references_in(article_text, article_name), cited, library)
    max_age = parse_config(store.read_config_text()).max_age_days
    checks = check_references(store, client, refs, library, max_age, notify)
    listing = references(store, client, article_text, style, "text", notify=notify)
    dates = sorted(check.record_fetched[:10] for check in checks if check.record_fetched)
    return Report(
        article_name,
        claims_report(store, article_text, article_name),
        tuple(checks),
        listing,
        offline=client is None,
        oldest_record=dates[0] if dates else "",
    )
