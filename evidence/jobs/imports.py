"""`evidence import`: the works of a .bib, CSL-JSON or Crossref JSON file, losing nothing a manuscript may cite."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from evidence.errors import BadInputError
from evidence.jobs.common import Notify, load, new_work, quiet
from evidence.jobs.search import sync_index
from evidence.keys import unique_key
from evidence.model import Work
from evidence.results.works import ImportReport
from evidence.sources.formats import Incoming, parse_json_works
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


def import_file(
    store: LibraryStore, path: Path, index: WorkIndex | None = None, notify: Notify = quiet
) -> ImportReport:
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
        bib = load(store, notify)
        dois = bib.doi_map()
        taken = {key.lower() for key in bib.keys()}

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
            verbatim = verbatim_blocks(text)
            library_text = bib.render() if verbatim else ""  # a block copied before is not copied again
            for line, raw in verbatim:
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
            del text  # a large import holds each work once: as read, then as a work of the library
            if not items:
                raise BadInputError(f"{path.name} holds no works in a format evidence reads (CSL-JSON or Crossref).")
            items.reverse()
            while items:
                item = items.pop()
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
        store.save_bib(bib, notify)
        if index is not None:
            sync_index(store, index, bib, store.bib_signature())
    return ImportReport(tuple(added), tuple(present), tuple(skipped), tuple(problems))
