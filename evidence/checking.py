"""`evidence check`: every DOI in an article, a .bib file or a list resolves, matches what is cited, and stands.

Application layer. Each DOI is resolved from the stored record, else Crossref (one batched list request, then
single requests for what it lacks, then the agency), and each written reference is compared with the record field by
field. A DOI that does not resolve gets a suggested correction: variants of it (trailing junk removed, one character
dropped) checked in one batch, and Crossref's ``query.bibliographic`` match for the written reference — offered only
when its metadata agrees with the entry, naming the fields that agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .compare import compare_reference
from .doi import find_dois, normalize_doi
from .errors import InvalidDOIError, RemoteDataError
from .refparse import ParsedRef, parse_reference, reference_section


@dataclass(frozen=True)
class CheckItem:
    doi: str
    status: str  # ok | mismatch | retracted | not-found | other-agency | unreachable | not-checked | invalid
    line: int | None = None
    reference: str = ""
    details: tuple[str, ...] = ()
    agree: tuple[str, ...] = ()
    suggestion: str = ""
    suggestion_agrees: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckReport:
    source: str
    items: tuple[CheckItem, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return all(item.status in ("ok", "other-agency") for item in self.items)

    def count(self, status: str) -> int:
        return sum(1 for item in self.items if item.status == status)


def references_in(text: str, name: str) -> list[ParsedRef]:
    """Written references with their DOIs: the reference section's entries, then DOIs elsewhere in the text."""
    if name.lower().endswith(".bib"):
        from .store import parse_bibtex  # a .bib given to check is input, read the same way as the library

        refs = []
        for work in parse_bibtex(text, name).works:
            if work.doi:
                people = work.authors
                refs.append(
                    ParsedRef(
                        work.key,
                        0,
                        work.doi,
                        (people[0].family or people[0].literal) if people else "",
                        (),
                        work.year,
                        work.title,
                        work.get("journal"),
                        work.get("volume"),
                        work.get("number"),
                        work.get("pages").split("-")[0],
                    )
                )
        return refs
    refs = [parse_reference(entry, line) for line, entry in reference_section(text)]
    seen = {ref.doi for ref in refs if ref.doi}
    for number, line in enumerate(text.splitlines(), start=1):
        for doi in find_dois(line):
            if doi not in seen:
                seen.add(doi)
                refs.append(ParsedRef(doi, number, doi))
    return refs


def _resolve(store, client, dois: list[str]) -> dict[str, tuple[str, dict | None, str]]:
    """doi -> (status, message, detail): stored records first, then Crossref in batches, then singles and agency."""
    from .crossref import Unreachable

    found: dict[str, tuple[str, dict | None, str]] = {}
    missing = []
    for doi in dois:
        record = store.read_record(doi) if store is not None else None
        if record and isinstance(record.get("message"), dict):
            found[doi] = ("found", record["message"], "")
        else:
            missing.append(doi)
    if client is None:
        for doi in missing:
            found[doi] = ("not-checked", None, "offline, and no stored record")
        return found
    remaining = list(missing)
    while remaining:
        size = client.batch_size_for(remaining)
        chunk, remaining = remaining[:size], remaining[size:]
        try:
            answers = client.works(chunk) if len(chunk) > 1 else {}
        except (Unreachable, RemoteDataError):
            answers = {}
        for doi in chunk:
            message = answers.get(doi)
            if message is None:
                try:
                    message = client.work(doi)
                    if message is None:
                        agency = client.agency(doi)
                        if agency and agency != "crossref":
                            found[doi] = ("other-agency", None, f"registered with {agency}, not Crossref")
                        else:
                            found[doi] = ("not-found", None, "this DOI does not resolve")
                        continue
                except (Unreachable, RemoteDataError) as error:
                    found[doi] = ("unreachable", None, str(error))
                    continue
            if store is not None:
                store.write_record(str(message.get("DOI", doi)).lower(), message, source=client.base_url)
            found[doi] = ("found", message, "")
    return found


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


def _suggest(client, ref: ParsedRef) -> tuple[str, tuple[str, ...]]:
    """The best corrected DOI whose record agrees with the written reference (author and title at least)."""
    from .crossref import Unreachable

    candidates: list[dict] = []
    try:
        variants = doi_variants(ref.doi)
        if variants:
            candidates.extend(client.works(variants).values())
        if ref.title or ref.text:
            candidates.extend(client.search_bibliographic(ref.text or ref.title, rows=5))
    except (Unreachable, RemoteDataError):
        return "", ()
    best: tuple[int, str, tuple[str, ...]] | None = None
    for message in candidates:
        status, _details, agree = compare_reference(ref, message)
        if status == "mismatch" or "title" not in agree:
            continue
        score = len(agree)
        if best is None or score > best[0]:
            best = (score, str(message.get("DOI", "")).lower(), tuple(agree))
    return (best[1], best[2]) if best else ("", ())


def check(store, client, sources: list[str], read: Callable[[Path], str]) -> CheckReport:
    """Check an article (Markdown or text), a .bib file, or DOIs given directly."""
    refs: list[ParsedRef] = []
    items: list[CheckItem] = []
    label = ""
    for source in sources:
        path = Path(source)
        if path.is_file():
            label = path.name
            refs.extend(references_in(read(path), path.name))
            continue
        try:
            refs.append(ParsedRef("", 0, normalize_doi(source)))
        except InvalidDOIError as error:
            items.append(CheckItem(source, "invalid", details=(str(error),)))
        label = label or "DOIs"
    with_doi = [ref for ref in refs if ref.doi]
    resolved = _resolve(store, client, list(dict.fromkeys(ref.doi for ref in with_doi)))
    for ref in with_doi:
        status, message, detail = resolved[ref.doi]
        if status == "found":
            verdict, details, agree = compare_reference(ref, message)
            items.append(CheckItem(ref.doi, verdict, ref.line or None, ref.text, tuple(details), tuple(agree)))
            continue
        suggestion, agrees = ("", ())
        if status == "not-found" and client is not None:
            suggestion, agrees = _suggest(client, ref)
        items.append(
            CheckItem(
                ref.doi,
                status,
                ref.line or None,
                ref.text,
                (detail,) if detail else (),
                suggestion=suggestion,
                suggestion_agrees=agrees,
            )
        )
    return CheckReport(label, tuple(items))
