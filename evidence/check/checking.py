"""Checking references: every reference resolves to a record, matches what is cited, and stands.

Application layer, the one checker behind ``evidence check`` and ``evidence report``. A reference with a DOI is
compared with the record of that DOI (``sources.resolve.resolve_records``: stored, else Crossref). A reference without
one is matched to the library's works by first author, year and title, and, online, looked up with Crossref's
``query.bibliographic``, so a Nature- or Harvard-style list without DOIs is checked too. A DOI that does not resolve
gets a suggested correction: variants of it (trailing junk removed, one character dropped) checked in one batch,
and Crossref's bibliographic match for the written reference, offered only when its metadata agrees with the entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from evidence.check.compare import Comparison, compare_reference, names_agree, reference_of_work, titles_agree
from evidence.check.refparse import ParsedRef, parse_reference, reference_section
from evidence.cite.article import parse_article
from evidence.doi import find_dois, normalize_doi
from evidence.errors import InvalidDOIError, RemoteDataError
from evidence.model import Work
from evidence.results.check import CheckItem, CheckReport, MismatchedField
from evidence.sources.found import Found
from evidence.sources.resolve import resolve_records

if TYPE_CHECKING:  # annotations only: the interfaces cost nothing at run time
    from evidence.protocols import LibraryStore, RecordSource

Notify = Callable[[str], None]


def references_in(text: str, name: str) -> list[ParsedRef]:
    """Written references: a .bib file's entries, or an article's reference-section entries, then DOIs written
    elsewhere in its text."""
    if name.lower().endswith(".bib"):
        from evidence.store.bibfile import parse_bibtex  # a .bib given to check is read as the library is

        return [reference_of_work(work) for work in parse_bibtex(text, name).works]
    refs = [parse_reference(entry, line) for line, entry in reference_section(text)]
    seen = {ref.doi for ref in refs if ref.doi}
    for number, line in enumerate(text.splitlines(), start=1):
        for doi in find_dois(line):
            if doi not in seen:
                seen.add(doi)
                refs.append(ParsedRef(doi, number, doi))
    return refs


def with_cited_works(written: list[ParsedRef], cited: list[Work], works: list[Work]) -> list[ParsedRef]:
    """The written references, then each cited library work that none of them covers (by DOI, or by the library
    match of a reference without one): an article that cites [@key] without a written list is still checked."""
    covered = {ref.doi for ref in written if ref.doi}
    for ref in written:
        match = None if ref.doi else library_match(ref, works)
        if match is not None:
            covered.add(match.doi)
    return written + [reference_of_work(work) for work in cited if not work.doi or work.doi not in covered]


def doi_variants(doi: str) -> list[str]:
    """Likely intended DOIs for a mistyped one: trailing junk removed, one character dropped (short suffixes)."""
    variants: dict[str, None] = {}
    prefix, _, suffix = doi.partition("/")
    trimmed = suffix.rstrip(".,;:)]}>'\"")
    if trimmed != suffix and trimmed:
        variants[f"{prefix}/{trimmed}"] = None
    if len(suffix) <= 40:
        for position in range(len(suffix)):
            candidate = suffix[:position] + suffix[position + 1 :]
            if candidate:
                variants[f"{prefix}/{candidate}"] = None
    variants.pop(doi, None)
    return list(variants)


def best_agreeing(ref: ParsedRef, candidates: Iterable[dict]) -> tuple[dict, tuple[str, ...]] | None:
    """The candidate record that agrees with the reference on its title and most other fields, if any."""
    best = None
    for message in candidates:
        comparison = compare_reference(ref, message)
        if comparison.status != "ok" or "title" not in comparison.agree:
            continue
        if ref.first_author and "first author" not in comparison.agree:
            continue
        if best is None or len(comparison.agree) > len(best[1]):
            best = (message, comparison.agree)
    return best


def _suggest(client: RecordSource | None, ref: ParsedRef) -> tuple[str, tuple[str, ...]]:
    """The best corrected DOI whose record agrees with the written reference (author and title at least)."""
    from evidence.sources.http import Unreachable

    candidates: list[dict] = []
    try:
        variants = doi_variants(ref.doi)
        if variants:
            candidates.extend(client.works(variants).values())
        if ref.title or ref.text:
            candidates.extend(client.search_bibliographic(ref.text or ref.title, rows=5))
    except (Unreachable, RemoteDataError):
        return "", ()
    best = best_agreeing(ref, candidates)
    return (str(best[0].get("DOI", "")).lower(), best[1]) if best else ("", ())


def library_match(ref: ParsedRef, works: Iterable[Work]) -> Work | None:
    """The library work a reference without a DOI names: same first author, same year, agreeing title."""
    if not ref.title or not ref.first_author:
        return None
    for work in works:
        people = work.authors
        if not work.doi or not people or (ref.year and work.year and ref.year != work.year):
            continue
        if names_agree(ref.first_author, people[0]) and titles_agree(ref.title, work.title):
            return work
    return None


def retraction_elsewhere(store: LibraryStore | None, work: Work | None, doi: str) -> str:
    """Why PubMed, Europe PMC or OpenAlex hold the work retracted though Crossref's record does not say so (the
    library entry's ``retraction``, or a stored answer), else ''."""
    from evidence.sources import enrichment

    if work is not None and work.get("retraction"):
        source = work.get("retraction-source").split(",")[0]
        return f"retracted, as {source or 'the library'} records it ({work.get('retraction')})"
    if store is None or not doi:
        return ""
    for service in ("pubmed", "europepmc"):
        stored = store.read_answer(service, doi)
        if stored and stored.get("raw"):
            try:
                found = enrichment.from_stored(service, stored["raw"])
            except (RemoteDataError, ValueError):
                continue
            if found is not None and found.retracted:
                notice = found.retraction or "Retracted Publication"
                return f"retracted, as {service}:{found.source_id} records it ({notice})"
    return ""


def _pubmed_records(store, pubmed, refs: list[ParsedRef], notify: Notify) -> dict[str, object]:
    """{pmid: its PubMed record, None (no such PMID) or UNREACHABLE} for every PMID the references give."""
    from evidence.jobs.pubmed_ids import UNREACHABLE, look_up

    pmids = list(dict.fromkeys(ref.pmid for ref in refs if ref.pmid))
    if not pmids:
        return {}
    if store is None:  # no library to keep PubMed's answers in: not asked
        return dict.fromkeys(pmids, UNREACHABLE)
    found = look_up(store, pubmed, [f"PMID:{pmid}" for pmid in pmids], notify)
    return {value[5:]: record for value, record in found.items()}


def _mismatched(item: CheckItem, problem: MismatchedField) -> CheckItem:
    """``item`` with one more problem: a passed reference becomes a mismatch, a worse status stays."""
    return replace(item, status="mismatch" if item.status == "ok" else item.status, problems=(*item.problems, problem))


def _with_pmid_checked(ref: ParsedRef, item: CheckItem, by_pmid: dict[str, object]) -> CheckItem:
    """The item with the reference's PMID checked: it exists, and it is the work the DOI names."""
    if not ref.pmid:
        return item
    record = by_pmid.get(ref.pmid)
    if record is None:
        problem = MismatchedField("PMID", ref.pmid, "no such PMID in PubMed")
        if not item.doi:
            return replace(item, status="not-found", warnings=(f"PubMed has no work with the PMID {ref.pmid}",))
        return replace(
            item, status="mismatch" if item.status == "ok" else item.status, problems=(*item.problems, problem)
        )
    if not isinstance(record, Found):
        return replace(item, warnings=(*item.warnings, f"the PMID {ref.pmid} could not be checked against PubMed"))
    if record.doi and item.doi and record.doi != item.doi:
        problem = MismatchedField("PMID", ref.pmid, f"PMID {ref.pmid} is {record.doi}")
        return replace(
            item, status="mismatch" if item.status == "ok" else item.status, problems=(*item.problems, problem)
        )
    if not item.doi:  # PubMed's record has no DOI: its title must be the reference's
        title = record.fields.get("title", "")
        if ref.title and title and not titles_agree(ref.title, title):
            problem = MismatchedField("title", ref.title, title)
            return replace(item, status="mismatch", problems=(problem,), warnings=(), matched_by="pmid")
        return replace(
            item, status="ok", warnings=(f"checked against PubMed's record of PMID {ref.pmid}",), matched_by="pmid"
        )
    return replace(item, agree=(*item.agree, "PMID"))


def check_references(
    store: LibraryStore | None,
    client: RecordSource | None,
    refs: list[ParsedRef],
    works: list[Work] | None = None,
    max_age_days: float | None = None,
    notify: Notify = lambda _m: None,
    pubmed=None,
) -> list[CheckItem]:
    """One CheckItem per reference, in order. ``works`` are the library's (for references without a DOI).
    ``pubmed``: the PubMed client, for references that give a PMID (None: stored answers only)."""
    from evidence.sources.http import Unreachable

    works = works or []
    by_doi = {work.doi: work for work in works if work.doi}
    found_for: dict[int, tuple[str, str, dict | None]] = {}  # reference -> (doi, how found, its record if known)
    by_pmid = _pubmed_records(store, pubmed, refs, notify)
    for number, ref in enumerate(refs):
        record = by_pmid.get(ref.pmid)
        if not ref.doi and isinstance(record, Found) and record.doi:
            found_for[number] = (record.doi, "pmid", None)
            continue
        if ref.doi:
            continue
        work = library_match(ref, works)
        if work is not None:
            found_for[number] = (work.doi, "library", None)
        elif client is not None and (ref.title or ref.text):
            try:
                best = best_agreeing(ref, client.search_bibliographic(ref.text or ref.title, rows=5))
            except (Unreachable, RemoteDataError):
                best = None
            if best is not None:
                found_for[number] = (str(best[0].get("DOI", "")).lower(), "bibliographic", best[0])
    wanted = [ref.doi for ref in refs if ref.doi]
    wanted += [doi for doi, how, _m in found_for.values() if how in ("library", "pmid")]
    resolved = resolve_records(store, client, list(dict.fromkeys(wanted)), max_age_days=max_age_days, notify=notify)
    items = []
    for number, ref in enumerate(refs):
        doi, how, message = found_for.get(number, (ref.doi, "doi" if ref.doi else "", None))
        key = ref.key or (by_doi[doi].key if doi in by_doi else "")
        line = ref.line or None
        cited = ref.text
        if not doi:
            why = "no DOI, and no work in the library matches it" + ("" if client else " (offline)")
            items.append(CheckItem("", "not-checked", line, cited, warnings=(why,), key=key))
            continue
        fetched = ""
        if message is None:
            resolution = resolved[doi]
            if resolution.status != "found":
                suggestion, agrees = ("", ())
                if resolution.status == "not-found" and client is not None:
                    suggestion, agrees = _suggest(client, ref)
                detail = "this DOI does not resolve" if resolution.status == "not-found" else resolution.detail
                items.append(
                    CheckItem(
                        doi,
                        resolution.status,
                        line,
                        cited,
                        warnings=(detail,) if detail else (),
                        suggested_doi=suggestion,
                        suggestion_agrees=agrees,
                        key=key,
                        matched_by=how,
                    )
                )
                continue
            message, fetched = resolution.message, resolution.fetched
        comparison = compare_reference(ref, message)
        notes = list(comparison.notes)
        elsewhere = retraction_elsewhere(store, by_doi.get(doi), doi) if comparison.status != "retracted" else ""
        if elsewhere:
            comparison = Comparison("retracted", notes=(elsewhere,))
            notes = [elsewhere]
        if how == "library":
            notes.append(f"no DOI written; matched to {by_doi[doi].key} in the library, DOI {doi}")
        elif how == "pmid":
            notes.append(f"no DOI written; PubMed gives {doi} for PMID {ref.pmid}")
        elif how == "bibliographic":
            notes.append(f"no DOI written; Crossref's bibliographic search found {doi}")
        items.append(
            CheckItem(
                doi,
                comparison.status,
                line,
                cited,
                comparison.problems,
                tuple(notes),
                comparison.agree,
                suggested_doi=doi if how == "bibliographic" else "",
                key=key,
                matched_by=how,
                record_fetched=fetched,
            )
        )
    return [_with_pmid_checked(ref, item, by_pmid) for ref, item in zip(refs, items, strict=True)]


def check(
    store: LibraryStore | None,
    client: RecordSource | None,
    sources: list[str],
    read: Callable[[Path], str],
    max_age_days: float | None = None,
    notify: Notify = lambda _m: None,
    pubmed=None,
) -> CheckReport:
    """Check an article (Markdown or text), a .bib file, or DOIs given directly."""
    refs: list[ParsedRef] = []
    invalid: list[CheckItem] = []
    label = ""
    bib = None  # the library, loaded for the first file: a list of DOIs needs no library
    for source in sources:
        path = Path(source)
        if path.is_file():
            label = path.name
            text = read(path)
            written = references_in(text, path.name)
            if bib is None and store is not None:
                bib = store.load_bib()
                keys = bib.key_map()
            if path.suffix.lower() != ".bib" and bib is not None:
                cited = []
                for key in parse_article(text).cited_in_order():
                    work = keys.get(key.lower()) if not key.startswith("doi:") else None
                    if work is not None:
                        cited.append(work)
                    elif not key.startswith("doi:"):
                        why = f"no work with the key '{key}' is in the library"
                        invalid.append(CheckItem("", "not-found", cited=key, warnings=(why,), key=key))
                written = with_cited_works(written, cited, bib.works)
            refs.extend(written)
            continue
        try:
            refs.append(ParsedRef("", 0, normalize_doi(source)))
        except InvalidDOIError as error:
            invalid.append(CheckItem(source, "invalid", warnings=(str(error),)))
        label = label or "DOIs"
    works = bib.works if bib is not None else []
    items = check_references(store, client, refs, works, max_age_days, notify, pubmed)
    return CheckReport.of(label, invalid + items, offline=client is None)
