"""`evidence add PMID:N` and `add PMCN`: a work named by its PubMed or PMC identifier.

The PubMed record gives the work's DOI, which then goes the way of every DOI (Crossref's record stored, so `check`
can check it); a work Crossref does not know, or one without a DOI, is made from the PubMed record alone. Every
answer is stored under ``records/pubmed/`` (under 'pmid:N' and under the DOI), so a rerun, or the enrichment that
follows, asks nothing again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from evidence.errors import RemoteDataError
from evidence.jobs.common import Notify
from evidence.sources import enrichment
from evidence.sources.found import Found, normal_pmcid, normal_pmid

if TYPE_CHECKING:
    from evidence.protocols import LibraryStore

UNREACHABLE = "unreachable"


def split_pubmed_id(value: str) -> tuple[str, str]:
    """('pmid', digits) or ('pmcid', 'PMC…') for a value that names one ('PMID:23121403', 'pmid 23121403',
    'PMC10627933', 'PMCID: PMC10627933'), else ('', '')."""
    text = value.strip()
    if text.lower().startswith("pmid"):
        pmid = normal_pmid(text)
        return ("pmid", pmid) if pmid else ("", "")
    pmcid = normal_pmcid(text)
    return ("pmcid", pmcid) if pmcid and text.lower().startswith("pmc") else ("", "")


def look_up(store: LibraryStore, client, values: list[str], notify: Notify) -> dict[str, Found | None | str]:
    """{value: its PubMed record, None (PubMed has no such work) or UNREACHABLE}. ``client`` None: offline,
    stored answers only."""
    from evidence.sources.http import Unreachable

    results: dict[str, Found | None | str] = {}
    pmid_of: dict[str, str] = {}
    pmcids = []
    for value in values:
        kind, ident = split_pubmed_id(value)
        if kind == "pmid":
            pmid_of[value] = ident
        else:
            pmcids.append((value, ident))
    if pmcids:
        if client is None:
            results.update((value, UNREACHABLE) for value, _ in pmcids)
        else:
            try:
                converted = client.convert_pmcids([ident for _, ident in pmcids])
            except (Unreachable, RemoteDataError) as error:
                notify(f"The PMC ID Converter could not be asked ({error}).")
                converted = None
            for value, ident in pmcids:
                if converted is None:
                    results[value] = UNREACHABLE
                elif ident in converted:
                    pmid_of[value] = converted[ident]
                else:
                    results[value] = None
    unasked = []
    for value, pmid in pmid_of.items():
        stored = store.read_answer("pubmed", f"pmid:{pmid}")
        if stored is not None:
            results[value] = enrichment.from_stored("pubmed", stored["raw"]) if stored["raw"] else None
        else:
            unasked.append(value)
    if unasked and client is None:
        results.update((value, UNREACHABLE) for value in unasked)
    elif unasked:
        try:
            found = {record.pmid: record for record in client.fetch(list(dict.fromkeys(pmid_of[v] for v in unasked)))}
        except (Unreachable, RemoteDataError) as error:
            notify(f"PubMed could not be asked ({error}).")
            results.update((value, UNREACHABLE) for value in unasked)
        else:
            fetched = datetime.now(UTC)
            for value in unasked:
                record = found.get(pmid_of[value])
                store.write_answer("pubmed", f"pmid:{pmid_of[value]}", record.raw if record else None, fetched)
                if record is not None and record.doi:
                    store.write_answer("pubmed", record.doi, record.raw, fetched)
                results[value] = record
    return results


def entry_type_of(record: Found) -> str:
    if record.fields.get("journal"):
        return "article"
    return "book" if record.fields.get("publisher") else "misc"
