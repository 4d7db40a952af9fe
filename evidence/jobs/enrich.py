"""`evidence enrich` (and the end of `add`): fill what Crossref lacks from PubMed, then Europe PMC, then OpenAlex.

Each service is asked, in batches, only about the works still lacking something it can give, and only once: every
answer (also "no such work") is stored in ``records/<service>/`` as its batch arrives, so an interrupted run resumes
and a rerun asks nothing. A service that is down or answers garbage leaves the works as they were, with one line
saying so. Offline, stored answers are used and nothing is asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from evidence.config import ENRICH_SERVICES
from evidence.errors import RemoteDataError, UsageError
from evidence.jobs.common import Notify, Progress, load, quiet
from evidence.jobs.search import sync_index
from evidence.results.works import EnrichOutcome, EnrichReport
from evidence.sources import enrichment
from evidence.sources.found import Found
from evidence.store import bibtex

if TYPE_CHECKING:
    from evidence.model import Work
    from evidence.protocols import LibraryStore

# Works asked about per batch: each batch's answers are stored before the next is asked.
BATCH = {"pubmed": 200, "europepmc": 25, "openalex": 50}


def _ask(service: str, client, idents: list[str]) -> list[Found]:
    dois = [ident for ident in idents if not ident.startswith("pmid:")]
    pmids = [ident[5:] for ident in idents if ident.startswith("pmid:")]
    if service == "pubmed":
        searchable = [doi for doi in dois if '"' not in doi]  # a quote cannot stand inside an esearch term
        found_pmids = client.search_dois(searchable) if searchable else []
        return client.fetch(list(dict.fromkeys(found_pmids + pmids)))
    if service == "europepmc":
        return (client.by_dois(dois) if dois else []) + (client.by_pmids(pmids) if pmids else [])
    return client.by_dois(dois) if dois else []


def _answers(
    store: LibraryStore, service: str, client, idents: list[str], progress: Progress
) -> tuple[dict[str, Found | None], str]:
    """{ident: the service's record or None} for every ident answered (stored, or asked now); a problem sentence
    when the service could not be asked about some of them."""
    from evidence.sources.http import Unreachable

    answers: dict[str, Found | None] = {}
    unasked = []
    for ident in idents:
        stored = store.read_answer(service, ident)
        if stored is None:
            unasked.append(ident)
            continue
        try:
            answers[ident] = enrichment.from_stored(service, stored["raw"]) if stored["raw"] else None
        except (RemoteDataError, ValueError):
            unasked.append(ident)  # a damaged stored answer is asked again
    if client is None or not unasked:
        return answers, ""
    name = enrichment.SERVICE_NAMES[service]
    size = BATCH[service]
    for start in range(0, len(unasked), size):
        chunk = unasked[start : start + size]
        try:
            found = _ask(service, client, chunk)
        except Unreachable as error:
            left = len(unasked) - start
            return answers, f"{name} could not be reached ({error}); {left} works were left as they were."
        except RemoteDataError as error:
            left = len(unasked) - start
            return (
                answers,
                f"{name} gave an answer that could not be read ({error}); {left} works were left as they were.",
            )
        fetched = datetime.now(UTC)
        for ident in chunk:
            record = enrichment.match(ident, found)
            store.write_answer(service, ident, record.raw if record else None, fetched)
            answers[ident] = record
        progress(min(start + size, len(unasked)), len(unasked), name)
    return answers, ""


def enrich_works(
    store: LibraryStore,
    clients: Mapping[str, object] | None,
    bib,
    works: list[Work],
    services: tuple[str, ...] = ENRICH_SERVICES,
    notify: Notify = quiet,
    progress: Progress = quiet,
) -> EnrichReport:
    """Fill ``works`` (entries of ``bib``, which the caller saves) from ``services`` in order. ``clients`` None:
    offline, stored answers only."""
    day = datetime.now(UTC).date().isoformat()
    current = {work.key: work for work in works}
    filled: dict[str, list[tuple[str, str]]] = {work.key: [] for work in works}
    problems = []
    requests_before = sum(client.counters.requests for client in (clients or {}).values())
    for service in services:
        wanted = {}
        for key, work in current.items():
            ident = enrichment.ident_of(work.text)
            if ident and enrichment.lacking(work.text, service):
                wanted.setdefault(ident, key)
        if not wanted:
            continue
        client = clients.get(service) if clients is not None else None
        answers, problem = _answers(store, service, client, list(wanted), progress)
        if problem:
            notify(problem)
            problems.append(problem)
        for ident, key in wanted.items():
            record = answers.get(ident)
            if record is None:
                continue
            work = current[key]
            fields = enrichment.filled_fields(work.text, record, day)
            if fields:
                current[key] = bib.add_fields(work, bibtex.encode_fields(fields))
                source = f"{record.service}:{record.source_id}"
                filled[key] += [(name, source) for name in fields if not name.endswith("-source")]
    requests = sum(client.counters.requests for client in (clients or {}).values()) - requests_before
    outcomes = []
    for work in works:
        ident = enrichment.ident_of(work.text)
        note = "" if ident else "no DOI or PMID to ask about"
        outcomes.append(EnrichOutcome(work.key, ident, tuple(filled[work.key]), note))
    return EnrichReport(tuple(outcomes), requests, tuple(problems))


def enrich_library(
    store: LibraryStore,
    clients: Mapping[str, object] | None,
    keys: list[str],
    services: tuple[str, ...],
    index=None,
    notify: Notify = quiet,
    progress: Progress = quiet,
) -> EnrichReport:
    """``evidence enrich [KEY...]``: the works named (every work, without keys), under the library's lock."""
    if not services:
        raise UsageError("evidence.toml turns enrichment off ([sources] enrich = []); name a service there to enrich.")
    with store.locked(on_wait=notify):
        bib = load(store, notify)
        if keys:
            works = []
            for key in dict.fromkeys(keys):
                work = bib.by_key(key)
                if work is None:
                    raise UsageError(f"There is no work with the key {key} in the library.")
                works.append(work)
        else:
            works = bib.works
        report = enrich_works(store, clients, bib, works, services, notify, progress)
        if report.filled:
            store.save_bib(bib, notify)
            if index is not None:
                sync_index(store, index, bib, store.bib_signature())
    return report
