"""Reference lists for articles: the works an article cites, formatted in a CSL style, optionally written into it.

Application layer: takes the store, the Crossref client (or None) and the CSL adapter's style, returns a RefsResult.
Works cited by DOI that the library lacks are fetched the way ``add`` fetches them, so ``[@doi:10.x/y]`` just works.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from evidence.cite import csl
from evidence.cite.article import BEGIN_MARK, END_MARK, Article, parse_article
from evidence.cite.csl_map import work_to_csl
from evidence.config import parse_config
from evidence.model import Work
from evidence.results.problems import Problem
from evidence.results.refs import RefsResult
from evidence.store.latex import marked_fields

FORMATS = ("text", "markdown", "html", "bibtex", "csl-json")
# What a reader needs to find each kind of work; a style prints what it has, so gaps are reported, not guessed.
_NEEDED = {
    "article-journal": ("author", "title", "issued", "container-title"),
    "chapter": ("author", "title", "issued", "container-title"),
    "paper-conference": ("author", "title", "issued", "container-title"),
    "book": ("author", "title", "issued", "publisher"),
}
_DEFAULT_NEEDED = ("author", "title", "issued")


def default_style(store) -> str:
    return parse_config(store.read_config_text()).style


def resolve_cited(store, connect, article: Article, notify: Callable[[str], None], bib=None):
    """(works in order of first citation, problems): keys looked up, @doi: and bare DOIs fetched when missing.
    ``connect()`` gives the Crossref client (None offline), called only when a DOI must be fetched: a list drawn
    from the library alone never loads the HTTP stack. ``bib``: the library as already loaded (loaded again only
    when DOIs had to be added)."""
    bib = bib if bib is not None else store.load_bib()
    dois = bib.doi_map()
    missing_dois = [key[4:] for key in article.cited_in_order() if key.startswith("doi:")]
    wanted = []
    for key in missing_dois:
        doi = _doi_of(key)
        if doi and doi not in dois:
            wanted.append(doi)
    if wanted:
        from evidence.jobs import add  # only when DOIs must be fetched: it brings the service clients

        add.add_dois(store, connect(), wanted, notify=notify)
        bib = store.load_bib()
        dois = bib.doi_map()
    keys = bib.key_map()  # one map for the article: looking each key up in the file would cost a pass per key
    first_line = {}
    for cite in article.cites:
        first_line.setdefault(cite.key, cite.line)
    for doi, line in article.bare_dois:
        first_line.setdefault(f"doi:{doi}", line)
    works: list[Work] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for key in article.cited_in_order():
        line = first_line.get(key)
        if key.startswith("doi:"):
            doi = _doi_of(key[4:])
            work = dois.get(doi) if doi else None
            if work is None:
                why = "is not a DOI" if not doi else "could not be found in the library or fetched"
                problems.append(Problem(f"the DOI {key[4:]} {why}", line, key))
                continue
        else:
            work = keys.get(key.lower())
            if work is None:
                problems.append(Problem(f"no work with the key '{key}' is in the library", line, key))
                continue
        if work.key not in seen:
            seen.add(work.key)
            works.append(work)
    return works, problems


def _doi_of(text: str) -> str:
    from evidence.doi import normalize_doi
    from evidence.errors import InvalidDOIError

    try:
        return normalize_doi(text)
    except InvalidDOIError:
        return ""


def gaps(work: Work, item: dict) -> list[Problem]:
    """Fields the style needs that the work lacks (problems), and an author list cut short (a note)."""
    found = []
    for name in _NEEDED.get(item.get("type", ""), _DEFAULT_NEEDED):
        if name == "author" and (item.get("author") or item.get("editor")):
            continue
        if name not in item:
            label = {"issued": "date", "container-title": "journal or book title"}.get(name, name)
            found.append(Problem(f"{work.key} has no {label}, which the reference needs", None, work.key))
    if any((p.literal or p.family).lower() == "others" for p in work.authors):
        found.append(
            Problem(
                f"{work.key}: only part of the author list is known ('and others' in the .bib); "
                "the list shows the known authors",
                None,
                work.key,
                "note",
            )
        )
    return found


def references(
    store,
    connect,
    article_text: str,
    style_name: str | None,
    fmt: str = "text",
    notify: Callable[[str], None] = lambda _m: None,
) -> RefsResult:
    """The formatted reference list of an article, with every problem found on the way (``connect`` as in
    ``resolve_cited``)."""
    if fmt not in FORMATS:
        from evidence.errors import UsageError

        raise UsageError(f"Unknown format '{fmt}'; use one of {', '.join(FORMATS)}.")
    style = csl.resolve_style(style_name or default_style(store))
    works, problems = resolve_cited(store, connect, parse_article(article_text), notify)
    return format_references(store, works, problems, style, fmt)


def format_references(store, works: list[Work], problems: list[Problem], style, fmt: str) -> RefsResult:
    """The list of ``works`` (cited, in order) in ``style`` and ``fmt``: the rendering half of ``references``, for
    a caller that has resolved the citations already (``report`` renders text and HTML from one resolution)."""
    problems = list(problems)
    items = [work_to_csl(work, marked_fields(work)) for work in works]
    order = [work.key for work in works]
    pending = None
    if fmt not in ("bibtex", "csl-json") and items:
        # pandoc formats the list while this process does the rest (gaps, retractions): the two overlap
        pending = csl.start_list(style, items, order, ("text",) if fmt == "text" else ("html",))
    try:
        for work, item in zip(works, items, strict=True):
            problems.extend(gaps(work, item))
        if fmt == "bibtex":
            from evidence.store.bibtex_export import export_entry

            entries = [export_entry(work) for work in works]
            output = "\n\n".join(entries) + ("\n" if entries else "")
        elif fmt == "csl-json":
            entries = [json.dumps(item, ensure_ascii=False) for item in items]
            output = json.dumps(items, ensure_ascii=False, indent=2) + "\n"
        else:
            marking = parse_config(store.read_config_text()).mark_retracted
            retracted = retracted_keys(store, works) if marking else set()
            formatted, pending = pending.entries() if pending else [], None
            order = [entry.key for entry in formatted]
            if fmt == "text":
                entries = [entry.text for entry in formatted]
            elif fmt == "html":
                entries = [entry.html for entry in formatted]
            else:
                entries = [html_to_markdown(entry.html) for entry in formatted]
            entries = [_marked(e, fmt) if key in retracted else e for key, e in zip(order, entries, strict=True)]
            output = assemble(entries, fmt, style.numeric)
    finally:
        if pending:
            pending.cancel()  # failed before the list was read: no pandoc left running
    return RefsResult(style.name, style.title, fmt, tuple(order), tuple(entries), output, tuple(problems))


RETRACTED_MARK = "[Retracted]"


def retracted_keys(store, works: list[Work]) -> set[str]:
    """The works that no longer stand (``jobs.common.withdrawal_of``): a list must never cite them as if they did."""
    from evidence.jobs.common import withdrawal_of

    return {work.key for work in works if withdrawal_of(store, work)}


def _marked(entry: str, fmt: str) -> str:
    if fmt == "html":
        return f'{entry} <span class="retracted">{RETRACTED_MARK}</span>'
    return f"{entry} {RETRACTED_MARK}"


def html_to_markdown(fragment: str) -> str:
    """pandoc's HTML entry as Markdown: emphasis, bold, super- and subscripts kept (pandoc's ``^x^`` and ``~x~``),
    links as their text, the entry number's cell joined to the entry; ``<`` stays escaped, so no raw HTML."""
    text = re.sub(r"</?em>", "*", fragment)
    text = re.sub(r"</?strong>", "**", text)
    text = re.sub(r"</?sup>", "^", text)
    text = re.sub(r"</?sub>", "~", text)
    text = re.sub(r"<[^>]+>", "", text)
    return text.replace("&amp;", "&").replace("&quot;", '"').replace("&#39;", "'")


def assemble(entries: list[str], fmt: str, numeric: bool) -> str:
    if not entries:
        return ""
    if fmt == "html":
        body = "\n".join(f'  <div class="csl-entry">{e}</div>' for e in entries)
        return f'<div class="csl-bib-body">\n{body}\n</div>\n'
    return "\n\n".join(entries) + "\n"


def insert_list(article_text: str, block: str) -> tuple[str, bool]:
    """The article with ``block`` as its generated reference list: replacing the previous one, else under the
    References heading, else under a new heading at the end; and whether a hand-typed list stood under the heading.
    A hand-typed list is replaced, never left under the new one: it is kept in an HTML comment above it (which no
    reader of the article, evidence's included, takes for references). Nothing else in the article changes."""
    lines = article_text.splitlines(keepends=True)
    article = parse_article(article_text)
    generated = f"{BEGIN_MARK}\n{block.rstrip()}\n{END_MARK}\n"
    if article.generated:
        start, end = article.generated
        return "".join(lines[: start - 1]) + generated + "".join(lines[end:]), False
    if article.references_heading:
        at = article.references_heading
        head = "".join(lines[:at])
        if not head.endswith("\n"):
            head += "\n"
        until = next((n for n in range(at, len(lines)) if re.match(r"^\s*#{1,6}\s", lines[n])), len(lines))
        typed = "".join(lines[at:until])
        rest = "".join(lines[until:])
        kept = ""
        if any(line.strip() and not line.strip().startswith("<!--") for line in lines[at:until]):
            kept = f"{KEPT_MARK}\n{typed.strip().replace('--', '- -')}\n-->\n\n"
        elif typed.strip():
            kept = typed.strip() + "\n\n"  # only comments stood there: they stay as they were
        tail = "\n" + rest.lstrip("\n") if rest.strip() else ""
        return head + "\n" + kept + generated + tail, bool(kept) and kept.startswith(KEPT_MARK)
    text = article_text if article_text.endswith("\n") or not article_text else article_text + "\n"
    return text + "\n## References\n\n" + generated, False


KEPT_MARK = (
    "<!-- evidence: the hand-typed list that stood here before `evidence refs --insert`; the list below replaces it:"
)
