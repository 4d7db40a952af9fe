"""`evidence search`, `show` and `export`, and keeping the index in line with references.bib."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from evidence.cite.csl_map import work_to_csl
from evidence.doi import normalize_doi
from evidence.errors import InvalidDOIError, LibraryError, NotInLibraryError, UsageError
from evidence.index.snippets import best_passage
from evidence.model import Work
from evidence.results.works import SearchHit, WorkView
from evidence.sources.found import normal_pmid
from evidence.store.latex import marked_fields

if TYPE_CHECKING:  # annotations only: the interfaces cost nothing at run time
    from evidence.protocols import LibraryStore, WorkIndex


def sync_index(store: LibraryStore, index: WorkIndex, bib, signature) -> None:
    """Bring the index in line with ``bib`` (read under ``signature``), then note where each entry sits in the file
    so that the next read-only command, while the file is unchanged, need not parse it again. After this command's
    own writes, only the works it wrote are looked at (``bib.unindexed``). Nothing is written while another
    command is appending to the file (a bulk import): the index is that command's to bring in line."""
    if bib.appending_elsewhere:
        return
    index_written(index, bib)
    store.remember_entries(bib, signature)


def index_written(index: WorkIndex, bib) -> None:
    """The index in line with ``bib``: only the works written since it last was, when those are known."""
    changed = bib.unindexed_works()
    if changed is None or not index.sync_changed(changed):
        index.sync(bib.each_work())
    bib.unindexed = set()


def catch_up_index(store: LibraryStore, index: WorkIndex) -> list[int] | None:
    """After a hand edit of references.bib (or when its signature was not yet recorded): the saved rows, then the
    index, brought in line with the entries that changed only, so a search goes on reading only its hits. Returns
    the signature the file had when it was read and hashed for this, for reading its hits under; None when that
    cannot be done (the caller then loads the library and syncs the index with all of it)."""
    caught = store.catch_up()
    if caught is None or not caught.indexed or not index.sync_changed(caught.changed, caught.removed):
        return None
    store.remember_caught_up(caught)
    return caught.signature


def ranked_with_works(store: LibraryStore, index: WorkIndex, rank, works: list[Work] | None = None):
    """``rank()``'s result (raw hits first) and the works behind them, by key.

    While references.bib is unchanged since the last sync, only the hits' entries are read from it, so a search in
    a large library does not pay for parsing the whole file; otherwise (or with a damaged index) the file is read
    whole and the index synced first. ``works``, when given, are used as they are."""
    if works is not None:
        return rank(), {work.key: work for work in works}
    if store.has_entry_map():
        try:
            result = rank()
            by_key = store.works_by_key([hit.key for hit in result[0]])
            verified = catch_up_index(store, index) if by_key is None else None
            if verified is not None:
                result = rank()
                by_key = store.works_by_key([hit.key for hit in result[0]], verified)
            if by_key is not None:  # None: the file changed since the last sync, so the hits may be stale too
                return result, by_key
        except LibraryError:
            pass  # a damaged index: the full path below rebuilds it
    signature = store.bib_signature()
    bib = store.load_bib()
    sync_index(store, index, bib, signature)
    result = rank()
    return result, {work.key: work for work in bib.works_with_keys({hit.key for hit in result[0]})}


@dataclass(frozen=True)
class SearchFilters:
    """What a hit must also be: published within the years (either end open), of one study design (a name of
    ``claims.design.DESIGNS``), with an abstract."""

    year_from: int | None = None
    year_to: int | None = None
    design: str = ""
    has_abstract: bool = False

    def __bool__(self) -> bool:
        return self.year_from is not None or self.year_to is not None or bool(self.design) or self.has_abstract

    def keeps(self, work: Work) -> bool:
        if self.year_from is not None or self.year_to is not None:
            year = int(work.year) if work.year.isdigit() else None
            if year is None or (self.year_from or year) > year or year > (self.year_to or year):
                return False
        if self.has_abstract and not work.get("abstract").strip():
            return False
        if self.design:
            from evidence.claims.design import design_of

            return design_of(work).name == self.design
        return True


# With filters, the index is asked for this many hits at least, so that enough of them pass.
FILTERED_POOL = 500


def search(
    store: LibraryStore,
    index: WorkIndex,
    query: str,
    limit: int = 10,
    default_and: bool = False,
    filters: SearchFilters = SearchFilters(),
) -> list[SearchHit]:
    """Ranked works for a query, each with its best-matching sentence and the query terms marked; with
    ``filters``, only the works they keep (looked for among the first ``FILTERED_POOL`` hits, or more)."""
    if limit < 1:
        raise UsageError("--limit must be at least 1.")
    if filters.design:
        from evidence.claims.design import DESIGNS

        if filters.design not in DESIGNS:
            raise UsageError(f"Unknown design '{filters.design}'; use one of: {', '.join(DESIGNS)}.")
    pool = max(limit, FILTERED_POOL) if filters else limit
    (raw_hits, terms), by_key = ranked_with_works(
        store, index, lambda: index.search(query, limit=pool, default_and=default_and)
    )
    hits = []
    for raw in raw_hits:
        work = by_key.get(raw.key)
        if work is None or not filters.keeps(work):
            continue
        if len(hits) == limit:
            break
        # The passage comes from the abstract or the annotation; the title is shown anyway, so it is only a fallback.
        passage, matched = best_passage([work.get("abstract"), work.get("annotation")], terms, index.stem)
        if not matched:
            _, matched = best_passage([work.title], terms, index.stem)
        hits.append(
            SearchHit(
                raw.key, round(raw.score, 4), work.first_author, work.year, work.title, work.doi, passage, matched
            )
        )
    return hits


def list_works(store: LibraryStore, offset: int, limit: int, lacking: str = "") -> tuple[int, list[Work]]:
    """How many works the library holds (those without the field ``lacking``, when given), and ``limit`` of them
    from the ``offset``-th on, in the file's order: read from where the entry map says they sit while the file is
    as it describes, else from the whole file."""
    listed = store.entry_keys(offset, limit, lacking)
    if listed is not None:
        total, keys = listed
        found = store.works_by_key(keys) if keys else {}
        if found is not None and all(key in found for key in keys):
            return total, [found[key] for key in keys]
    everything = store.load_bib().each_work()
    if lacking:
        chosen = [work for work in everything if not work.get(lacking).strip()]
        return len(chosen), chosen[offset : offset + limit]
    return len(everything), list(everything[offset : offset + limit])


def find_work(store: LibraryStore, key_or_doi: str) -> Work:
    """The work with this key (else alias, DOI, or 'pmid:N'); a key as written is read from where the entry map
    says it sits, so opening one work of a large library does not parse all of it."""
    if store.has_entry_map():
        found = store.works_by_key([key_or_doi])
        if found is not None and key_or_doi in found:
            return found[key_or_doi]
    bib = store.load_bib()
    work = bib.by_key(key_or_doi)
    if work is None:
        try:
            work = bib.doi_map().get(normalize_doi(key_or_doi))
        except InvalidDOIError:
            work = None
    if work is None and normal_pmid(key_or_doi) and ":" in key_or_doi:
        pmid = normal_pmid(key_or_doi)
        work = next((w for w in bib.works if w.get("pmid").strip() == pmid), None)
    if work is None:
        raise NotInLibraryError(f"No work with the key, DOI or PMID '{key_or_doi}' is in the library.")
    return work


def describe_work(work: Work) -> WorkView:
    """A work with what a reader weighs it by: its PMID, abstract and study design, and where each came from (the
    ``<field>-source`` enrichment wrote, else the library file itself)."""
    from evidence.claims.design import PUBLICATION_TYPES_FIELD, design_of

    design = design_of(work)
    sources = {
        name: work.get(f"{name}-source") or "references.bib"
        for name in ("abstract", "pmid", "pmcid", PUBLICATION_TYPES_FIELD, "retraction")
        if work.get(name)
    }
    if design.source == "publication types":
        sources["design"] = sources.get(PUBLICATION_TYPES_FIELD, "references.bib")
    else:
        sources["design"] = "wording"
    return WorkView(
        work.key,
        work.entry_type,
        dict(work.text),
        dict(work.fields),
        pmid=work.get("pmid"),
        abstract=work.get("abstract"),
        design=design.name,
        design_source=design.source,
        sources=sources,
    )


def export(store: LibraryStore, fmt: str) -> Iterator[str]:
    """The whole library as BibTeX (written for other programs: ``store.bibtex_export``) or as CSL-JSON, in pieces
    of one work each, so a large library is written out without holding every work or the whole text. The format
    and the library are checked here, before the first piece."""
    if fmt not in ("bibtex", "csl-json"):
        raise UsageError(f"Unknown export format '{fmt}'; use bibtex or csl-json.")
    works = store.load_bib().each_work()
    return _bibtex_pieces(works) if fmt == "bibtex" else _csl_json_pieces(works)


def _bibtex_pieces(works: Iterable[Work]) -> Iterator[str]:
    from evidence.store.bibtex_export import export_entry

    separator = ""
    for work in works:
        yield separator + export_entry(work)
        separator = "\n\n"
    if separator:
        yield "\n"


def _csl_json_pieces(works: Iterable[Work]) -> Iterator[str]:
    """What ``json.dumps(items, indent=2)`` writes, an item at a time: its lines one level in, commas between."""
    opening = "[\n  "
    for work in works:
        item = json.dumps(work_to_csl(work, marked_fields(work)), ensure_ascii=False, indent=2)
        yield opening + item.replace("\n", "\n  ")
        opening = ",\n  "
    yield "[]\n" if opening == "[\n  " else "\n]\n"
