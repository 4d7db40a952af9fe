"""`evidence add`: fetch works by DOI and add them, each record stored as it arrives."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from evidence.doi import find_dois, normalize_doi
from evidence.errors import InvalidDOIError
from evidence.jobs.common import Notify, Progress, load, new_work, quiet, work_from_crossref
from evidence.jobs.pubmed_ids import UNREACHABLE, entry_type_of, look_up, split_pubmed_id
from evidence.jobs.search import sync_index
from evidence.results.works import AddOutcome, AddReport, Resolution
from evidence.sources.found import find_pubmed_ids
from evidence.sources.resolve import resolve_records

if TYPE_CHECKING:  # annotations only: the interfaces cost nothing at run time
    from evidence.protocols import LibraryStore, RecordSource, WorkIndex
    from evidence.sources.found import Found


def parse_add_arguments(values: Iterable[str]) -> tuple[list[str], list[str], list[AddOutcome]]:
    """Canonical DOIs and PubMed identifiers ('PMID:N', 'PMCN'), each deduplicated in order, and an 'invalid'
    outcome for each value that is neither."""
    dois: dict[str, None] = {}
    pubmed_ids: dict[str, None] = {}
    invalid = []
    for value in values:
        kind, ident = split_pubmed_id(value)
        if kind:
            pubmed_ids.setdefault(f"PMID:{ident}" if kind == "pmid" else ident, None)
            continue
        try:
            dois.setdefault(normalize_doi(value), None)
        except InvalidDOIError as error:
            message = f"{error} (nor a PubMed identifier such as PMID:23121403 or PMC10627933)"
            invalid.append(AddOutcome(doi=value.strip(), status="invalid", message=message))
    return list(dois), list(pubmed_ids), invalid


def ids_from_text(text: str) -> list[str]:
    """DOIs and PubMed identifiers in a file given to ``add --from``: one a line, or anywhere in free text."""
    return find_dois(text) + find_pubmed_ids(text)


def add_dois(
    store: LibraryStore,
    client: RecordSource | None,
    values: Iterable[str],
    index: WorkIndex | None = None,
    refresh: bool = False,
    progress: Progress = quiet,
    notify: Notify = quiet,
    enrich_clients=None,
    enrich_services: tuple[str, ...] = (),
) -> AddReport:
    """Fetch each DOI not yet in the library (stored records first, then Crossref in batches) and store it.

    Each answer is written to records/ as it arrives and references.bib follows at least once a second, so an
    interrupted run keeps what it fetched and a rerun asks only for the rest. ``client`` None means offline: stored
    records only. With ``refresh`` every record is fetched again and the outcome says what changed in it. Works
    added or refreshed are then filled from ``enrich_services`` (PubMed, Europe PMC, OpenAlex) where Crossref left
    them without an abstract, PMID or publication types; Crossref alone is enough for the add to succeed.
    """
    from evidence.check.compare import record_changes
    from evidence.jobs.enrich import enrich_works

    dois, pubmed_ids, outcomes = parse_add_arguments(values)
    results: dict[str, AddOutcome] = {}
    with store.locked(on_wait=notify):
        bib = load(store, notify)
        present = bib.doi_map()
        taken = {key.lower() for key in bib.keys()}
        via_pubmed: dict[str, tuple[str, Found]] = {}  # DOI -> (the PubMed id asked for, its PubMed record)
        pubmed_outcomes: dict[str, AddOutcome] = {}
        if pubmed_ids:
            pubmed_client = (enrich_clients or {}).get("pubmed")
            by_pmid = {work.get("pmid").strip(): work for work in bib.works if work.get("pmid").strip()}
            for value, record in look_up(store, pubmed_client, pubmed_ids, notify).items():
                if record is None:
                    pubmed_outcomes[value] = AddOutcome(value, "not-found", message="PubMed has no such work")
                elif record == UNREACHABLE:
                    pubmed_outcomes[value] = AddOutcome(value, "unreachable", message="PubMed could not be asked")
                elif record.pmid in by_pmid:
                    work = by_pmid[record.pmid]
                    pubmed_outcomes[value] = AddOutcome(
                        value, "present", work.key, work.title, f"already in the library as {work.key}"
                    )
                elif record.doi:
                    via_pubmed.setdefault(record.doi, (value, record))
                    if record.doi not in dois:
                        dois.append(record.doi)
                else:
                    work = new_work(store, entry_type_of(record), {**record.fields, "pmid": record.pmid}, taken)
                    bib.append(work)
                    pubmed_outcomes[value] = AddOutcome(value, "added", work.key, work.title, "from PubMed")

        def settle(resolution: Resolution) -> None:
            doi, message = resolution.doi, resolution.message
            if message is None and doi in via_pubmed and resolution.status in ("not-found", "other-agency"):
                asked, record = via_pubmed[doi]
                work = new_work(store, entry_type_of(record), {**record.fields, "pmid": record.pmid}, taken)
                bib.append(work)
                present[doi] = work
                note = f"{asked}: from PubMed alone (Crossref has no record of {doi})"
                results[doi] = AddOutcome(doi, "added", work.key, work.title, note)
                return
            if message is None:
                results[doi] = AddOutcome(
                    doi, _ADD_STATUS.get(resolution.status, resolution.status), message=resolution.detail
                )
                return
            primary = str(message.get("DOI") or doi).lower()
            existing = present.get(primary) or present.get(doi)
            if existing is not None:
                if resolution.previous is not None:
                    changes = record_changes(resolution.previous, message)
                    said = "; ".join(changes) if changes else "the record is unchanged"
                    status = "updated" if changes else "present"
                    results[doi] = AddOutcome(doi, status, existing.key, existing.title, said)
                    return
                note = f" (under its primary DOI {primary})" if primary != doi else ""
                results[doi] = AddOutcome(
                    doi, "present", existing.key, existing.title, f"already in the library as {existing.key}{note}"
                )
                return
            work = work_from_crossref(store, message, taken)
            bib.append(work)
            present[primary] = work
            results[doi] = AddOutcome(doi, "added", work.key, work.title)

        wanted = []
        for doi in dois:
            if doi in present and not refresh:
                work = present[doi]
                results[doi] = AddOutcome(doi, "present", work.key, work.title, f"already in the library as {work.key}")
            else:
                wanted.append(doi)
        done = len(dois) - len(wanted)

        def settle_and_count(resolution: Resolution) -> None:
            nonlocal done
            settle(resolution)
            done += 1
            progress(done, len(dois), resolution.doi)

        resolve_records(
            store,
            client,
            wanted,
            refresh=refresh,
            on_resolved=settle_and_count,
            save=lambda: store.save_bib(bib, notify),
            notify=notify,
        )
        touched = {results[d].key for d in dois if d in results and results[d].status in ("added", "updated")}
        touched |= {o.key for o in pubmed_outcomes.values() if o.status == "added"}
        if refresh:
            touched |= {results[d].key for d in dois if d in results and results[d].status == "present"}
        enriched = None
        if enrich_services and touched:
            chosen = bib.works_with_keys(touched)
            enriched = enrich_works(store, enrich_clients, bib, chosen, enrich_services, notify)
        store.save_bib(bib, notify)
        if index is not None:
            sync_index(store, index, bib, store.bib_signature())
    return AddReport(
        outcomes=tuple(outcomes) + tuple(results[d] for d in dois) + tuple(pubmed_outcomes.values()),
        requests=client.counters.requests if client is not None else 0,
        rate_limited=client.counters.rate_limited if client is not None else 0,
        enriched=enriched.outcomes if enriched else (),
        enrich_requests=enriched.requests if enriched else 0,
    )


# The resolver's statuses as add reports them: offline without a record, nothing could be fetched.
_ADD_STATUS = {"not-checked": "unreachable"}
