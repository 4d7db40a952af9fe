"""`evidence report`: claims, reference checks and the reference list of one article, in one pass.

Application layer. Anything the library lacks a Crossref record for is fetched in one batched round (unless
offline); offline, the checks that need a record are listed as not made, never as passed.
"""

from __future__ import annotations

from collections.abc import Callable

from . import services
from .article import parse_article
from .claims_service import claims_report
from .compare import compare_with_record
from .model import ReferenceCheck, Report
from .refs import references, resolve_cited


def check_works(store, works) -> list[ReferenceCheck]:
    checks = []
    for work in works:
        if not work.doi:
            checks.append(ReferenceCheck(work.key, "", "no-doi", ("no DOI, so nothing to check it against",)))
            continue
        record = store.read_record(work.doi)
        if not record or not isinstance(record.get("message"), dict):
            checks.append(ReferenceCheck(work.key, work.doi, "not-checked", ("no stored Crossref record",)))
            continue
        status, details = compare_with_record(work, record["message"])
        checks.append(ReferenceCheck(work.key, work.doi, status, tuple(details)))
    return checks


def report(
    store,
    client,
    article_text: str,
    article_name: str,
    style: str | None = None,
    notify: Callable[[str], None] = lambda _m: None,
) -> Report:
    article = parse_article(article_text)
    works, _problems = resolve_cited(store, client, article, notify)
    if client is not None:
        unstored = [w.doi for w in works if w.doi and store.read_record(w.doi) is None]
        if unstored:
            services.add_dois(store, client, unstored, refresh=True, notify=notify)
    checks = check_works(store, works)
    refs = references(store, client, article_text, style, "text", notify=notify)
    return Report(
        article_name, claims_report(store, article_text, article_name), tuple(checks), refs, offline=client is None
    )
