"""Finding the record of each DOI: stored, else Crossref (batches, then single requests, then the agency).

The one resolver, for add, check and report alike. Application logic over the store and the Crossref client, which
come in as arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from evidence.errors import RemoteDataError
from evidence.jobs.common import Notify, quiet
from evidence.results.works import Resolution

if TYPE_CHECKING:  # annotations only: the interfaces cost nothing at run time
    from evidence.protocols import LibraryStore, RecordSource


def resolve_records(
    store: LibraryStore | None,
    client: RecordSource | None,
    dois: list[str],
    refresh: bool = False,
    max_age_days: float | None = None,
    on_resolved: Callable[[Resolution], None] = quiet,
    save: Callable[[], None] = quiet,
    notify: Notify = quiet,
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
        source = client.base_url
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


def _fetch_batch(client: RecordSource | None, chunk: list[str]):
    return client.works(chunk)


def _fetch_single(client: RecordSource | None, doi: str):
    """('message', (record, primary's own record or None)) or ('resolution', Resolution) for one DOI on its own.

    An answer for another DOI than the one asked for (an alias's redirect) is checked by asking for that DOI too:
    only its own answer may become its record."""
    from evidence.sources.http import Unreachable

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


def _fetch_all(client: RecordSource, dois: list[str], arrived, settle, save, notify: Notify) -> None:
    """Batches first; what a batch lacks goes singly. Answers are handled here, on the calling thread."""
    import time
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    from evidence.sources.http import Unreachable

    workers = max(1, client.slots.limit)
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
