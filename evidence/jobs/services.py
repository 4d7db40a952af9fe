"""The application: one function per job. Adapters come in as arguments; results go out as dataclasses.

Nothing here prints, exits or reads the environment. Progress and notes go through callbacks the caller passes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from evidence.cite.csl_map import work_to_csl
from evidence.doi import find_dois, normalize_doi
from evidence.errors import BadInputError, InvalidDOIError, LibraryError, RemoteDataError, UsageError
from evidence.index.snippets import best_passage
from evidence.keys import base_key, unique_key
from evidence.model import AddOutcome, AddReport, ImportReport, Resolution, SearchHit, Suggestion, Work, parse_names
from evidence.sources.crossref_map import crossref_to_fields
from evidence.sources.formats import Incoming, parse_json_works
from evidence.store import bibtex

Progress = Callable[[int, int, str], None]
Notify = Callable[[str], None]
_KEY_RE = re.compile(r"^[A-Za-z0-9_:.\-+/]+$")


def _quiet(*_args) -> None:
    return None


def _load(store, notify: Notify):
    """references.bib, with each problem in it told once (unreadable blocks are kept verbatim, never dropped)."""
    bib = store.load_bib()
    for problem in bib.problems:
        notify(problem)
    return bib


# ---------------------------------------------------------------------------------------------------------------------
# Building works


def new_work(store, entry_type: str, fields: dict[str, str], taken: set[str], wanted_key: str = "") -> Work:
    """A Work with a fresh key (the wanted one when it is valid and free), encoded for BibTeX."""
    if wanted_key and _KEY_RE.match(wanted_key) and wanted_key.lower() not in taken:
        key = wanted_key
    else:
        people = parse_names(fields.get("author", "") or fields.get("editor", ""))
        first = (people[0].literal or people[0].family) if people else ""
        key = unique_key(base_key(first, fields.get("year", ""), fields.get("title", "")), taken)
    taken.add(key.lower())
    return store.make_work(key, entry_type, bibtex.encode_fields(fields))


def work_from_crossref(store, message: dict, taken: set[str]) -> Work:
    entry_type, fields = crossref_to_fields(message)
    return new_work(store, entry_type, fields, taken)


# ---------------------------------------------------------------------------------------------------------------------
# add


def parse_doi_arguments(values: Iterable[str]) -> tuple[list[str], list[AddOutcome]]:
    """Canonical DOIs (deduplicated, in order) and an 'invalid' outcome for each value that is no DOI."""
    dois: dict[str, None] = {}
    invalid = []
    for value in values:
        try:
            dois.setdefault(normalize_doi(value), None)
        except InvalidDOIError as error:
            invalid.append(AddOutcome(doi=value.strip(), status="invalid", message=str(error)))
    return list(dois), invalid


def dois_from_text(text: str) -> list[str]:
    """DOIs in a file given to ``add --from``: one a line, or anywhere in free text."""
    return find_dois(text)


def add_dois(
    store,
    client,
    values: Iterable[str],
    index=None,
    refresh: bool = False,
    progress: Progress = _quiet,
    notify: Notify = _quiet,
) -> AddReport:
    """Fetch each DOI not yet in the library (stored records first, then Crossref in batches) and store it.

    Each answer is written to records/ as it arrives and references.bib follows at least once a second, so an
    interrupted run keeps what it fetched and a rerun asks only for the rest. ``client`` None means offline: stored
    records only. With ``refresh`` every record is fetched again and the outcome says what changed in it.
    """
    from evidence.check.compare import record_changes

    dois, outcomes = parse_doi_arguments(values)
    results: dict[str, AddOutcome] = {}
    with store.locked(on_wait=notify):
        bib = _load(store, notify)
        present = bib.doi_map()
        taken = {key.lower() for key in bib.keys()}

        def settle(resolution: Resolution) -> None:
            doi, message = resolution.doi, resolution.message
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
            save=lambda: store.save_bib(bib),
            notify=notify,
        )
        store.save_bib(bib)
        if index is not None:
            sync_index(store, index, bib, store.bib_signature())
    counters = getattr(client, "counters", None)
    return AddReport(
        outcomes=tuple(outcomes) + tuple(results[d] for d in dois),
        requests=counters.requests if counters else 0,
        rate_limited=counters.rate_limited if counters else 0,
    )


# The resolver's statuses as add reports them: offline without a record, nothing could be fetched.
_ADD_STATUS = {"not-checked": "unreachable"}


def resolve_records(
    store,
    client,
    dois: list[str],
    refresh: bool = False,
    max_age_days: float | None = None,
    on_resolved: Callable[[Resolution], None] = _quiet,
    save: Callable[[], None] = _quiet,
    notify: Notify = _quiet,
) -> dict[str, Resolution]:
    """The record of each DOI: stored (while younger than ``max_age_days``, unless ``refresh``), else Crossref's.

    The one way records are found, for add, check and report alike. Crossref is asked in batches, then singly for
    what a batch lacks, then for the registration agency of what is still missing. An answer is stored only under
    the DOI asked for; an alias's primary DOI gets a record only from its own answer (a redirect cannot overwrite
    another work's record). ``on_resolved`` is called on this thread as each DOI is settled; ``save`` about once
    a second while answers arrive. ``client`` None means offline: stored records only, whatever their age.
    """
    results: dict[str, Resolution] = {}

    def settle(resolution: Resolution) -> None:
        results[resolution.doi] = resolution
        on_resolved(resolution)

    to_fetch, previous = [], {}
    for doi in dois:
        envelope = store.read_record(doi) if store is not None else None
        stored = envelope.get("message") if isinstance(envelope, dict) else None
        if isinstance(stored, dict):
            if client is None or not (refresh or _older_than(envelope, max_age_days)):
                settle(Resolution(doi, "found", stored, fetched=str(envelope.get("fetched", ""))))
                continue
            previous[doi] = stored
        to_fetch.append(doi)
    if client is None:
        for doi in to_fetch:
            settle(Resolution(doi, "not-checked", detail="offline, and no stored record"))
        return results

    def arrived(doi: str, message: dict, own_record: dict | None) -> None:
        source = getattr(client, "base_url", "crossref")
        if store is not None:
            store.write_record(doi, message, source=source)
            primary = str(message.get("DOI") or doi).lower()
            if own_record is not None and primary != doi:
                store.write_record(primary, own_record, source=source)
        settle(Resolution(doi, "found", message, fetched=_now(), previous=previous.get(doi)))

    _fetch_all(client, to_fetch, arrived, settle, save, notify)
    return results


def _older_than(envelope: dict, days: float | None) -> bool:
    if days is None:
        return False
    from datetime import UTC, datetime

    try:
        fetched = datetime.fromisoformat(str(envelope.get("fetched", "")))
    except ValueError:
        return True  # a record that does not say when it was fetched is as good as stale
    if fetched.tzinfo is None:
        fetched = fetched.replace(tzinfo=UTC)
    return (datetime.now(UTC) - fetched).total_seconds() > days * 86400


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat(timespec="seconds")


def _fetch_batch(client, chunk: list[str]):
    return client.works(chunk)


def _fetch_single(client, doi: str):
    """('message', (record, primary's own record or None)) or ('resolution', Resolution) for one DOI on its own.

    An answer for another DOI than the one asked for (an alias's redirect) is checked by asking for that DOI too:
    only its own answer may become its record."""
    from evidence.sources.crossref import Unreachable

    try:
        message = client.work(doi)
        if message is not None:
            primary = str(message.get("DOI") or doi).lower()
            own = None
            if primary != doi:
                own = client.work(primary)
                own = own if own is not None and str(own.get("DOI", "")).lower() == primary else None
            return "message", (message, own)
        agency = client.agency(doi)
    except Unreachable as error:
        return "resolution", Resolution(doi, "unreachable", detail=str(error))
    except RemoteDataError as error:  # the server answered, but not with a record: say so, store nothing
        return "resolution", Resolution(doi, "bad-answer", detail=str(error))
    if agency and agency != "crossref":
        return "resolution", Resolution(doi, "other-agency", detail=f"registered with {agency}, not Crossref")
    return "resolution", Resolution(doi, "not-found", detail="no such DOI is registered")


def _fetch_all(client, dois: list[str], arrived, settle, save, notify: Notify) -> None:
    """Batches first; what a batch lacks goes singly. Answers are handled here, on the calling thread."""
    import time
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    from evidence.sources.crossref import Unreachable

    workers = max(1, getattr(getattr(client, "slots", None), "limit", 1))
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="crossref")
    pending = {}
    remaining = list(dois)
    while remaining:
        size = client.batch_size_for(remaining)
        chunk, remaining = remaining[:size], remaining[size:]
        if len(chunk) == 1:
            pending[pool.submit(_fetch_single, client, chunk[0])] = ("single", chunk)
        else:
            pending[pool.submit(_fetch_batch, client, chunk)] = ("batch", chunk)
    last_save = time.monotonic()
    try:
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                kind, chunk = pending.pop(future)
                if kind == "batch":
                    try:
                        found = future.result()
                    except (Unreachable, RemoteDataError) as error:
                        notify(f"A batch request failed ({error}); asking for those DOIs one by one.")
                        found = {}
                    for doi in chunk:
                        if doi in found:
                            arrived(doi, found[doi], None)
                        else:
                            pending[pool.submit(_fetch_single, client, doi)] = ("single", [doi])
                else:
                    what, value = future.result()
                    if what == "message":
                        arrived(chunk[0], *value)
                    else:
                        settle(value)
            if time.monotonic() - last_save >= 1.0:
                save()
                last_save = time.monotonic()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


# ---------------------------------------------------------------------------------------------------------------------
# import


def _resolve_macros(work: Work, strings: dict[str, str]) -> dict[str, str]:
    """Raw fields with the imported file's @string macros written out (the library lacks those blocks).

    Month macros (``jan``) stay bare: every BibTeX reader knows them.
    """
    raw = {}
    for name, value in work.fields.items():
        expanded = None if name == "month" else bibtex.expand_macros(value.strip(), strings)
        raw[name] = expanded if expanded is not None else value
    return raw


def _same_work(entry_type: str, title: str, existing: Work) -> bool:
    """Whether an incoming work with an existing work's DOI is that work, not one that shares its DOI (a chapter
    deposited with its book's DOI, a correction with its article's)."""
    from evidence.check.compare import titles_agree

    family = {"incollection": "part", "inbook": "part", "inproceedings": "part"}
    if family.get(entry_type, entry_type) != family.get(existing.entry_type, existing.entry_type):
        return False
    return not title or not existing.title or titles_agree(title, existing.title) or titles_agree(existing.title, title)


def import_file(store, path: Path, index=None, notify: Notify = _quiet) -> ImportReport:
    """Add the works of a .bib, CSL-JSON or Crossref JSON/JSONL file; works without a DOI are welcome.

    Nothing imported disappears: an entry with a DOI the library has keeps its key as an alias of that work
    (``ids``), a work that merely shares a DOI (a chapter with its book's) is its own entry, an entry that names a
    field twice is kept (first value), and the file's @preamble and @comment blocks are copied verbatim. A block
    that is not valid BibTeX is reported with its line, not copied (it would make the library unreadable)."""
    from evidence.files import read_text
    from evidence.store.bibfile import parse_bibtex, verbatim_blocks

    path = Path(path)
    text = read_text(path, "import file")
    suffix = path.suffix.lower()
    added, present, skipped, problems = [], [], [], []
    with store.locked(on_wait=notify):
        bib = _load(store, notify)
        dois = bib.doi_map()
        taken = {key.lower() for key in bib.keys()}
        library_text = bib.render()

        def arriving(key: str, entry_type: str, title: str, doi: str) -> bool:
            """False when the work is already in the library (its key kept as an alias there)."""
            existing = dois.get(doi) if doi else None
            if existing is None:
                return True
            if not _same_work(entry_type, title, existing):
                problems.append(
                    f"{path.name}: {key or title[:40]} shares the DOI {doi} with {existing.key} but is another work "
                    f"({entry_type}); it was added as its own entry."
                )
                return True
            if key and key.lower() not in taken:
                dois[doi] = bib.add_alias(existing, key)
                taken.add(key.lower())
                problems.append(f"{path.name}: {key} is {existing.key} (same DOI); {key} is kept as its alias (ids).")
            present.append(existing.key)
            return False

        if suffix in (".bib", ".bibtex", ".txt") or (
            suffix not in (".json", ".jsonl", ".ndjson") and text.lstrip().startswith(("@", "%"))
        ):
            incoming_bib = parse_bibtex(text, path.name, importing=True)
            problems.extend(incoming_bib.problems)
            for line, raw in verbatim_blocks(text):
                if raw.strip() not in library_text:
                    bib.append_raw(raw)
                    kind = raw.lstrip().split("{", 1)[0].lower() if raw.lstrip().startswith("@") else "block"
                    skipped.append(f"{path.name} line {line}: {kind or 'block'} copied as it is")
            for work in incoming_bib.works:
                if not arriving(work.key, work.entry_type, work.title, work.doi):
                    continue
                key = work.key if work.key.lower() not in taken else unique_key(work.key, taken)
                taken.add(key.lower())
                new = store.make_work(key, work.entry_type, _resolve_macros(work, incoming_bib.strings))
                bib.append(new)
                if new.doi and new.doi not in dois:
                    dois[new.doi] = new
                added.append(key)
        else:
            items: list[Incoming] = parse_json_works(text, path.name)
            if not items:
                raise BadInputError(f"{path.name} holds no works in a format evidence reads (CSL-JSON or Crossref).")
            for item in items:
                doi = item.fields.get("doi", "")
                if not arriving(item.key, item.entry_type, item.fields.get("title", ""), doi):
                    continue
                if item.crossref is not None and doi and store.read_record(doi) is None:
                    store.write_record(doi, item.crossref, source=f"import:{path.name}")
                work = new_work(store, item.entry_type, item.fields, taken, item.key)
                bib.append(work)
                if doi and doi not in dois:
                    dois[doi] = work
                added.append(work.key)
        store.save_bib(bib)
        if index is not None:
            sync_index(store, index, bib, store.bib_signature())
    return ImportReport(tuple(added), tuple(present), tuple(skipped), tuple(problems))


# ---------------------------------------------------------------------------------------------------------------------
# search, show, export


def sync_index(store, index, bib, signature) -> None:
    """Bring the index in line with ``bib`` (read under ``signature``), then note where each entry sits in the file
    so that the next read-only command, while the file is unchanged, need not parse it again."""
    index.sync(bib.works)
    store.remember_entries(bib, signature)


def _ranked_with_works(store, index, rank, works: list[Work] | None = None):
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
            if by_key is not None:  # None: the file changed since the last sync, so the hits may be stale too
                return result, by_key
        except LibraryError:
            pass  # a damaged index: the full path below rebuilds it
    signature = store.bib_signature()
    bib = store.load_bib()
    sync_index(store, index, bib, signature)
    return rank(), {work.key: work for work in bib.works}


def search(store, index, query: str, limit: int = 10, default_and: bool = False) -> list[SearchHit]:
    """Ranked works for a query, each with its best-matching sentence and the query terms marked."""
    if limit < 1:
        raise UsageError("--limit must be at least 1.")
    (raw_hits, terms), by_key = _ranked_with_works(
        store, index, lambda: index.search(query, limit=limit, default_and=default_and)
    )
    hits = []
    for raw in raw_hits:
        work = by_key.get(raw.key)
        if work is None:
            continue
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


def find_work(store, key_or_doi: str) -> Work:
    bib = store.load_bib()
    work = bib.by_key(key_or_doi)
    if work is None:
        try:
            work = bib.doi_map().get(normalize_doi(key_or_doi))
        except InvalidDOIError:
            work = None
    if work is None:
        raise BadInputError(f"No work with the key or DOI '{key_or_doi}' is in the library.")
    return work


def export(store, fmt: str) -> str:
    """The whole library as BibTeX (entries exactly as stored) or as CSL-JSON."""
    bib = store.load_bib()
    if fmt == "bibtex":
        return "\n\n".join(b.raw.strip() for b in bib.blocks if b.work is not None) + ("\n" if bib.works else "")
    if fmt == "csl-json":
        return json.dumps([work_to_csl(work) for work in bib.works], ensure_ascii=False, indent=2) + "\n"
    raise UsageError(f"Unknown export format '{fmt}'; use bibtex or csl-json.")


# ---------------------------------------------------------------------------------------------------------------------
# suggest


def suggest(
    store,
    index,
    text: str,
    limit: int = 10,
    works: list[Work] | None = None,
    pool: int = 100,
    weight: float | None = None,
    embeddings=None,
    meaning_weight: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Suggestion]:
    """Works ranked by how well they support ``text``: BM25F candidates re-ranked by their best sentences, blended
    with the meaning of the whole work when ``embeddings`` (the optional model's vectors) are given."""
    from evidence.claims.ledger import classify_design
    from evidence.index.rank import MEANING_WEIGHT, SENTENCE_WEIGHT, analysed, fuse, rerank, scored_sentences
    from evidence.index.snippets import mark

    if limit < 1:
        raise UsageError("--limit must be at least 1.")
    if not text.strip():
        raise BadInputError("There is no claim text to find support for.")
    pool = max(pool, limit)
    with ThreadPoolExecutor(max_workers=1) as helper:
        # The claim's vector is computed beside the word search: the model's arithmetic runs outside the GIL, so on
        # two cores the two overlap (a suggest call took the sum of both, 100 ms on SciFact, before).
        vector = helper.submit(embeddings.vector, text) if embeddings is not None else None
        (raw, terms, idf), by_key = _ranked_with_works(store, index, lambda: index.candidates(text, limit=pool), works)
        meaning: dict[str, float] = {}
        if vector is not None:
            _bring_up_to_date(store, embeddings, works, progress)
            meaning = embeddings.nearest(vector.result(), pool, also=[hit.key for hit in raw])
            missing = [key for key in meaning if key not in by_key]
            if missing:
                by_key.update(_works_by_key(store, missing, works))
    texts = {}
    for key in [hit.key for hit in raw] + list(meaning):
        work = by_key.get(key)
        if work is not None and key not in texts:
            text_of = analysed(index.analyse, work.get("abstract"), work.get("annotation"))
            texts[key] = text_of if text_of.sentences else analysed(index.analyse, work.title)
    ranked = rerank(
        [(h.key, h.score) for h in raw if h.key in texts],
        texts,
        terms,
        idf,
        SENTENCE_WEIGHT if weight is None else weight,
    )
    if embeddings is not None:
        meaning = {key: score for key, score in meaning.items() if key in texts}
        ranked = fuse(ranked, meaning, MEANING_WEIGHT if meaning_weight is None else meaning_weight)
    found = []
    for item in ranked[:limit]:
        work = by_key[item.key]
        sentences_of = texts[item.key]
        chosen = sorted(item.best[:2] or [n for _s, n in scored_sentences(sentences_of, terms, idf)[:2]])
        marked, matched = [], set()
        for number in chosen:
            sentence, hit_terms = mark(sentences_of.sentences[number], set(terms), index.stem)
            marked.append(sentence)
            matched |= hit_terms
        design = classify_design(work.title, work.get("abstract"), work.get("annotation"), work.get("keywords"))
        found.append(
            Suggestion(
                item.key,
                round(item.score, 4),
                work.first_author,
                work.year,
                work.title,
                work.doi,
                " ".join(marked),
                tuple(sorted(matched)),
                design,
            )
        )
    return found


def _bring_up_to_date(store, embeddings, works: list[Work] | None, progress) -> None:
    """Embed any work that is new or changed since the vectors were last synced (only then is references.bib read)."""
    signature = store.bib_signature()
    if not embeddings.is_current(signature):
        embeddings.sync(works if works is not None else store.load_bib().works, signature, progress)


def _works_by_key(store, keys: list[str], works: list[Work] | None) -> dict[str, Work]:
    if works is not None:
        wanted = set(keys)
        return {work.key: work for work in works if work.key in wanted}
    found = store.works_by_key(keys) if store.has_entry_map() else None
    if found is None:
        found = {work.key: work for work in store.load_bib().works}
    return found


# ---------------------------------------------------------------------------------------------------------------------
# link


def link_supports(store, claim_id: str, keys: list[str], stance: str, hits: list[Suggestion], claim_text: str = ""):
    """Record ``keys`` as evidence for a claim in claims.toml, each with the passage ``suggest`` found for it when
    the work's abstract or note says it (locator 'abstract' or 'note'); a passage that came from the title is no
    passage, so none is stored."""
    from evidence.claims.ledger import find_passage

    with store.locked():
        bib = store.load_bib()
        known = {work.key.lower(): work for work in bib.works}
        missing = [key for key in keys if key.lower() not in known]
        if missing:
            raise BadInputError(f"No work with the key {', '.join(missing)} is in the library.")
        found = {hit.key.lower(): hit.passage.replace("**", "") for hit in hits}
        passages: dict[str, tuple[str, str]] = {}
        for key in keys:
            work, passage = known[key.lower()], found.get(key.lower(), "")
            for field, locator in (("abstract", "abstract"), ("annotation", "note")):
                if passage and find_passage(passage, work.get(field)) == "exact":
                    passages[work.key] = (passage, locator)
                    break
        return store.link_supports(claim_id, [known[k.lower()].key for k in keys], stance, passages, claim_text)
