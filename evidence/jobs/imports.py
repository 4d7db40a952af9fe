"""`evidence import`: the works of a .bib, CSL-JSON or Crossref JSON file, losing nothing a manuscript may cite."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

from evidence.errors import BadInputError
from evidence.jobs.common import Notify, load, new_work, quiet
from evidence.jobs.search import index_written, sync_index
from evidence.keys import unique_key
from evidence.model import Work
from evidence.results.works import ImportReport
from evidence.sources.formats import iter_json_works
from evidence.store import bibtex

if TYPE_CHECKING:  # annotations only: the interfaces cost nothing at run time
    from evidence.protocols import LibraryStore, WorkIndex


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


# A large import is written, stored and indexed this many works at a time, then let go of, so that its memory is
# that of one batch and not of every work it brings (all of them still land together, or none: ``_Batches``).
BATCH = 2000


class _Batches:
    """The works an import has appended to ``bib`` so far, written out every ``BATCH`` of them: appended to the
    file under the journal ``store.appending_together`` keeps open, stored as rows, indexed, and then read back
    as rows (``store.settle``), so only one small object per entry stays. A file that is not yet plain UTF-8 is
    written whole once, at the end (an append cannot be undone from a file that was rewritten)."""

    def __init__(self, store: LibraryStore, bib, index: WorkIndex | None, notify: Notify):
        self.store, self.bib, self.index, self.notify = store, bib, index, notify
        self.first = len(bib.blocks)  # the first block not yet written
        self.blocks_before = len(bib.blocks)  # the works an import adds are in the blocks after these
        self.dois = bib.doi_map()
        self.new_works = index.adding() if index is not None else None
        self.unwritten: set[str] = set()  # the keys of the works appended since the last batch was written
        self.holding = False  # whether the appends are held together (from the first batch written before the end)

    def appended(self) -> None:
        if len(self.bib.blocks) - self.first >= BATCH and self.bib.source_pieces is not None:
            self.write()

    def write(self) -> None:
        bib, blocks = self.bib, self.bib.blocks
        if not self.holding:
            self.store.hold_appends()
            self.holding = True
        self.store.save_bib(bib, self.notify)
        if self.new_works is not None:
            changed = bib.unindexed_works()
            if changed is None or not self.new_works.add(changed):
                self.new_works.finish(self.added_works())
                index_written(self.index, bib)
            bib.unindexed = set()
        # from the block before the batch: its spacing changed; from the start when the write merged a hand edit
        self.store.settle(bib, max(self.first - 1, 0) if bib.blocks is blocks else 0)
        self.first = len(bib.blocks)
        self.dois = bib.doi_map()  # a new map: the old one held the batch's works
        self.unwritten = set()

    def added_works(self):
        """The works this import has added so far, read from the library's rows as they are asked for."""
        return self.bib.each_work(self.blocks_before)

    def finish(self) -> None:
        """The last batch written (by the caller's ``save_bib``): the works of the batches before it indexed (the
        last batch's are the caller's ``sync_index``'s)."""
        if self.new_works is not None:
            self.new_works.finish(self.added_works())

    def cancel(self) -> None:
        if self.new_works is not None:
            self.new_works.cancel()


@contextlib.contextmanager
def _cancelled_on_failure(batches: _Batches):
    try:
        yield
    except BaseException:
        batches.cancel()
        raise


def import_file(
    store: LibraryStore, path: Path, index: WorkIndex | None = None, notify: Notify = quiet
) -> ImportReport:
    """Add the works of a .bib, CSL-JSON or Crossref JSON/JSONL file; works without a DOI are welcome.

    Nothing imported disappears: an entry with a DOI the library has keeps its key as an alias of that work
    (``ids``), a work that merely shares a DOI (a chapter with its book's) is its own entry, an entry that names a
    field twice is kept (first value), and the file's @preamble and @comment blocks are copied verbatim. A block
    that is not valid BibTeX is reported with its line, not copied (it would make the library unreadable). All the
    works land, or none: an import that fails part-way leaves the library as it was."""
    from evidence.files import open_text, read_head, text_encoding
    from evidence.store.bibfile import parse_bibtex_parts

    path = Path(path)
    suffix = path.suffix.lower()
    head = read_head(path, "import file")
    start = head.decode(text_encoding(head, path, "import file"), errors="ignore").lstrip()
    is_bibtex = suffix in (".bib", ".bibtex", ".txt") or (
        suffix not in (".json", ".jsonl", ".ndjson") and start.startswith(("@", "%"))
    )

    def lines():
        with open_text(path, "import file") as text:
            yield from text

    added, present, skipped, problems = [], [], [], []
    with store.locked(on_wait=notify):
        bib = load(store, notify)
        batches = _Batches(store, bib, index, notify)
        taken = {key.lower() for key in bib.keys()}
        # the aliases of works already on disk, added at the end: an edit before the end of the file is no append
        aliases: dict[str, list[str]] = {}

        def arriving(key: str, entry_type: str, title: str, doi: str) -> bool:
            """False when the work is already in the library (its key kept as an alias there)."""
            existing = batches.dois.get(doi) if doi else None
            if existing is None:
                return True
            if not _same_work(entry_type, title, existing):
                problems.append(
                    f"{path.name}: {key or title[:40]} shares the DOI {doi} with {existing.key} but is another work "
                    f"({entry_type}); it was added as its own entry."
                )
                return True
            if key and key.lower() not in taken:
                if existing.key in batches.unwritten:  # not on disk yet: it is written with its alias
                    batches.dois[doi] = bib.add_alias(existing, key)
                else:
                    aliases.setdefault(existing.key, []).append(key)
                taken.add(key.lower())
                problems.append(f"{path.name}: {key} is {existing.key} (same DOI); {key} is kept as its alias (ids).")
            present.append(existing.key)
            return False

        def keep(work: Work) -> None:
            bib.append(work)
            if work.doi and work.doi not in batches.dois:
                batches.dois[work.doi] = work
            batches.unwritten.add(work.key)
            added.append(work.key)
            batches.appended()

        with store.appending_together(), _cancelled_on_failure(batches):
            if is_bibtex:
                held = len(bib.source)  # the library's own bytes: a block found there was copied before
                for part in parse_bibtex_parts(lines, path.name, BATCH):
                    problems.extend(part.problems)
                    verbatim = list(reversed(part.verbatim))
                    for block in [*part.blocks, None]:  # in the file's order, the verbatim blocks among the entries
                        if block is not None and block.work is None:
                            continue
                        while verbatim and (block is None or verbatim[-1][0] <= block.line):
                            line, raw = verbatim.pop()
                            if bib.source.find(raw.strip().encode("utf-8"), 0, held) < 0:
                                bib.append_raw(raw)
                                kind = raw.lstrip().split("{", 1)[0].lower() if raw.lstrip().startswith("@") else ""
                                skipped.append(f"{path.name} line {line}: {kind or 'block'} copied as it is")
                        if block is None:
                            break
                        work = block.work
                        if not arriving(work.key, work.entry_type, work.title, work.doi):
                            continue
                        key = work.key if work.key.lower() not in taken else unique_key(work.key, taken)
                        taken.add(key.lower())
                        keep(store.make_work(key, work.entry_type, _resolve_macros(work, part.strings)))
            else:
                read = 0
                with open_text(path, "import file") as text:  # read as taken: the file is never held whole
                    for item in iter_json_works(text.read, path.name):
                        read += 1
                        doi = item.fields.get("doi", "")
                        if not arriving(item.key, item.entry_type, item.fields.get("title", ""), doi):
                            continue
                        if item.crossref is not None and doi and store.read_record(doi) is None:
                            store.write_record(doi, item.crossref, source=f"import:{path.name}")
                        keep(new_work(store, item.entry_type, item.fields, taken, item.key))
                if not read:
                    raise BadInputError(
                        f"{path.name} holds no works in a format evidence reads (CSL-JSON or Crossref)."
                    )
            if aliases:
                for block in bib.blocks:  # an alias changes its block's text, never the list
                    for alias in aliases.get(block.key, ()) if block.key is not None else ():
                        bib.add_alias(block.work, alias)
            store.save_bib(bib, notify)
            batches.finish()
        if index is not None:
            sync_index(store, index, bib, store.bib_signature())
    return ImportReport(tuple(added), tuple(present), tuple(skipped), tuple(problems))
