"""`evidence add`: fetch works by DOI and add them, each record stored as it arrives."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from evidence.doi import find_dois, normalize_doi
from evidence.errors import InvalidDOIError, RemoteDataError
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


def references_without_ids(text: str) -> list[str]:
    """The lines of a pasted reference list that read as references (a title and a year) but give no DOI or
    PubMed identifier: each is looked for in Crossref by ``add`` with ``references``."""
    from evidence.check.refparse import parse_reference

    found = []
    for line in text.splitlines():
        line = line.strip()
        if len(line) < 20 or find_dois(line) or find_pubmed_ids(line):
            continue
        parsed = parse_reference(line)
        if parsed.title and parsed.year:
            found.append(line)
    return found


def _dois_of_references(
    client: RecordSource | None, references: list[str], progress: Progress
) -> tuple[dict[str, str], list[AddOutcome]]:
    """Each written reference's DOI, by Crossref's bibliographic search: its best match whose record agrees with
    the reference on the title (and the first author, when the reference names one), as ``check`` accepts a
    reference without a DOI; an outcome for each reference nothing agreeing was found for."""
    from evidence.check.checking import best_agreeing
    from evidence.check.refparse import parse_reference
    from evidence.sources.http import Unreachable

    dois: dict[str, str] = {}
    missing = []
    for number, text in enumerate(references):
        shown = text if len(text) <= 100 else text[:99] + "…"
        progress(number, len(references), f"looking up: {shown}")
        if client is None:
            missing.append(
                AddOutcome(
                    shown,
                    "unreachable",
                    message="offline: a reference without a DOI is looked for with Crossref's bibliographic search",
                )
            )
            continue
        try:
            best = best_agreeing(parse_reference(text), client.search_bibliographic(text, rows=5))
        except (Unreachable, RemoteDataError) as error:
            missing.append(AddOutcome(shown, "unreachable", message=str(error)))
            continue
        doi = str(best[0].get("DOI", "")).lower() if best else ""
        if doi:
            dois.setdefault(doi, shown)
        else:
            message = "Crossref's bibliographic search found no work whose title and authors agree with it"
            missing.append(AddOutcome(shown, "not-found", message=message))
    return dois, missing


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
    references: Iterable[str] = (),
) -> AddReport:
    """Fetch each DOI not yet in the library (stored records first, then Crossref in batches) and store it.

    Each answer is written to records/ as it arrives and references.bib follows at least once a second, so an
    interrupted run keeps what it fetched and a rerun asks only for the rest. ``client`` None means offline: stored
    records only. With ``refresh`` every record is fetched again and the outcome says what changed in it. Works
    added or refreshed are then filled from ``enrich_services`` (PubMed, Europe PMC, OpenAlex) where Crossref left
    them without an abstract, PMID or publication types; Crossref alone is enough for the add to succeed.
    ``references`` (written references without an identifier) are first looked for in Crossref, and each one
    found is added by the DOI of the work that agrees with it.
    """
    from evidence.check.compare import record_changes
    from evidence.jobs.enrich import enrich_works

    dois, pubmed_ids, outcomes = parse_add_arguments(values)
    by_reference, unmatched = _dois_of_references(client, list(references), progress)
    dois += [doi for doi in by_reference if doi not in dois]
    outcomes += unmatched
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
    for doi, reference in by_reference.items():
        found = results.get(doi, AddOutcome(doi, "not-found"))
        said = f"found for the reference '{reference}'" + (f"; {found.message}" if found.message else "")
        results[doi] = AddOutcome(found.doi, found.status, found.key, found.title, said)
    return AddReport(
        outcomes=tuple(outcomes) + tuple(results[d] for d in dois) + tuple(pubmed_outcomes.values()),
        requests=client.counters.requests if client is not None else 0,
        rate_limited=client.counters.rate_limited if client is not None else 0,
        enriched=enriched.outcomes if enriched else (),
        enrich_requests=enriched.requests if enriched else 0,
    )


# The resolver's statuses as add reports them: offline without a record, nothing could be fetched.
_ADD_STATUS = {"not-checked": "unreachable"}
