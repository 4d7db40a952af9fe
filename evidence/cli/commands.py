"""One function per command: parse its options, call ``Library``, render the result, choose the exit code."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from evidence.cli.progress import Progress, ProgressOnceKnown
from evidence.cli.settings import (
    ENV_LIBRARY,
    ENV_MAILTO,
    ENV_OFFLINE,
    Settings,
    json_option,
    note,
)
from evidence.controls import terminal_safe
from evidence.errors import BadInputError, NetworkError, UsageError
from evidence.model import STANCES
from evidence.render import text as render
from evidence.version import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--library", "-L", metavar="DIR", help=f"Library folder (default: ${ENV_LIBRARY}, else ./library).")
@click.option("--offline", is_flag=True, help=f"Never use the network (also ${ENV_OFFLINE}=1).")
@click.option("--mailto", metavar="EMAIL", help=f"Contact address for Crossref's polite pool (also ${ENV_MAILTO}).")
@click.option("--debug", is_flag=True, help="Show a traceback when something goes wrong.")
@click.version_option(__version__, prog_name="evidence")
@click.pass_context
def cli(ctx: click.Context, library, offline, mailto, debug) -> None:
    """Keep the works your articles cite, search them, and link each claim to its evidence."""
    ctx.obj = Settings(library, offline, mailto, debug)


# ---------------------------------------------------------------------------------------------------------------------
# init


@cli.command()
@click.argument("directory", required=False, metavar="[DIR]")
@json_option
@click.pass_obj
def init(settings: Settings, directory, as_json) -> None:
    """Create an empty library in DIR (default: the --library folder)."""
    from evidence.api import Library

    path = Path(directory) if directory else settings.library_path
    existed = (path / "references.bib").exists()
    Library.create(path, **settings.options())
    if as_json:
        render.print_json({"library": str(path), "created": not existed})
    else:
        render.init_result(str(path), not existed, render.console())


# ---------------------------------------------------------------------------------------------------------------------
# add


def _read_article(path, what: str = "article") -> str:
    from evidence.cite.reading import read_article

    return read_article(Path(path), what)


def _read_from(source: str) -> str:
    from evidence.files import decode_bytes, read_text

    if source == "-":
        return decode_bytes(sys.stdin.buffer.read(), "standard input", "DOI list")
    return read_text(Path(source), "DOI list")


@cli.command()
@click.argument("dois", nargs=-1, metavar="DOI|PMID:N|PMCN...")
@click.option(
    "--from", "from_file", metavar="FILE", help="Read DOIs and PubMed ids from FILE (any text; '-' for stdin)."
)
@click.option("--refresh", is_flag=True, help="Fetch again even when a record is stored.")
@click.option(
    "--references",
    "look_up",
    is_flag=True,
    help="Also look up, with Crossref's bibliographic search, the lines of --from that read as references but "
    "give no DOI or PubMed id.",
)
@json_option
@click.pass_obj
def add(settings: Settings, dois, from_file, refresh, look_up, as_json) -> None:
    """Fetch works by DOI (from Crossref) or PMID:N / PMCN (through PubMed) and add them to the library."""
    from evidence.jobs.add import ids_from_text, parse_add_arguments, references_without_ids
    from evidence.sources.crossref import raise_if_all_unreachable

    values = list(dois)
    references: list[str] = []
    if look_up and not from_file:
        raise UsageError("--references looks up the references of --from FILE; give the file too.")
    if from_file:
        text = _read_from(from_file)
        found = ids_from_text(text)
        references = references_without_ids(text) if look_up else []
        if not found and not values and not references:
            where = "standard input" if from_file == "-" else from_file
            what = "DOI, PubMed identifier or reference" if look_up else "DOI or PubMed identifier"
            raise BadInputError(f"No {what} was found in {where}.")
        values.extend(found)
    if not values and not references:
        raise UsageError("Give at least one DOI or PubMed identifier (PMID:N, PMCN), or --from FILE.")
    library = settings.open()
    if not settings.offline and not settings.mailto and not as_json and parse_add_arguments(values)[0]:
        note(f"Tip: set {ENV_MAILTO} (or --mailto) to use Crossref's faster polite pool.")
    with Progress(len(values) + len(references), "Fetching", enabled=not as_json) as progress:
        report = library.add(values, refresh=refresh, progress=progress, references=references)
    if all(o.status == "invalid" for o in report.outcomes):
        raise BadInputError(
            report.outcomes[0].message
            if len(report.outcomes) == 1
            else f"None of the {len(report.outcomes)} values given is a DOI or a PubMed identifier."
        )
    if not settings.offline:
        try:
            raise_if_all_unreachable(len(report.outcomes), report.count("unreachable"), settings.crossref_url)
        except NetworkError:
            if as_json:
                render.print_json(report)
            raise
    if as_json:
        render.print_json(report)
    else:
        render.add_report(report, render.console())
    if not report.ok:
        sys.exit(1)


# ---------------------------------------------------------------------------------------------------------------------
# import, search, show, export


@cli.command()
@click.argument("keys", nargs=-1, metavar="[KEY...]")
@json_option
@click.pass_obj
def enrich(settings: Settings, keys, as_json) -> None:
    """Fill abstracts, PMIDs and publication types from PubMed, Europe PMC and OpenAlex (all works, or KEYs)."""
    library = settings.open()
    with ProgressOnceKnown("Asking", enabled=not as_json) as progress:
        report = library.enrich(keys, progress=lambda done, total, _service: progress(done, total))
    if as_json:
        render.print_json(report)
    else:
        render.enrich_report(report, render.console())
    if report.problems and not report.filled:
        sys.exit(4 if not settings.offline else 1)


@cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@click.pass_obj
def import_(settings: Settings, file: Path, as_json) -> None:
    """Add the works of a .bib, CSL-JSON or Crossref JSON/JSONL file."""
    library = settings.open()
    report = library.import_file(file)
    for problem in report.problems:
        note(problem)
    if as_json:
        render.print_json(report)
    else:
        render.import_report(report, file.name, render.console())
    if report.problems:
        sys.exit(1)


@cli.command()
@click.argument("query", nargs=-1, required=True)
@click.option("-n", "--limit", default=10, show_default=True, help="How many works to list.")
@click.option("--all-terms", is_flag=True, help="Require every term (AND) instead of ranking by any.")
@click.option("--from-year", type=int, metavar="YEAR", help="Only works published in YEAR or later.")
@click.option("--to-year", type=int, metavar="YEAR", help="Only works published in YEAR or earlier.")
@click.option("--design", metavar="DESIGN", help="Only works of this study design (as `show` names it).")
@click.option("--has-abstract", is_flag=True, help="Only works with an abstract.")
@json_option
@click.pass_obj
def search(settings: Settings, query, limit, all_terms, from_year, to_year, design, has_abstract, as_json) -> None:
    """Search titles, abstracts, annotations, keywords, authors and journals (Whoosh query syntax)."""
    from evidence.jobs.search import SearchFilters

    text = " ".join(query)
    filters = SearchFilters(from_year, to_year, design or "", has_abstract)
    hits = settings.open().search(text, limit=limit, default_and=all_terms, filters=filters)
    if as_json:
        render.print_json({"query": text, "hits": hits})
    else:
        render.search_hits(hits, text, render.console())


@cli.command()
@click.argument("key_or_doi", metavar="KEY|DOI")
@json_option
@click.pass_obj
def show(settings: Settings, key_or_doi, as_json) -> None:
    """Show one work's fields."""
    view = settings.open().describe(key_or_doi)
    if as_json:
        render.print_json(view)
    else:
        render.work_detail(view, render.console())


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["bibtex", "csl-json"]), default="bibtex", show_default=True)
@click.option("--output", "-o", metavar="FILE", help="Write to FILE (atomically) instead of standard output.")
@json_option
@click.pass_obj
def export(settings: Settings, fmt, output, as_json) -> None:
    """Write the whole library as BibTeX or CSL-JSON."""
    pieces = settings.open().export("csl-json" if as_json else fmt)
    if output:
        from evidence.files import write_atomic

        write_atomic(Path(output), (piece.encode("utf-8") for piece in pieces))
        note(f"Wrote {output}.")
    else:
        for piece in pieces:
            sys.stdout.write(piece)


# ---------------------------------------------------------------------------------------------------------------------
# claims


@cli.command()
@click.argument("article", required=False, type=click.Path(dir_okay=False, path_type=Path))
@json_option
@click.pass_obj
def claims(settings: Settings, article: Path | None, as_json) -> None:
    """Show each claim with the works that support it, and what leaves a claim standing on too little."""

    library = settings.open()
    text = _read_article(article) if article else None
    report = library.claims(text, article.name if article else "")
    if as_json:
        render.print_json(report)
    else:
        render.claims_report(report, render.console())
    if not report.ok:
        sys.exit(1)


@cli.command()
@click.argument("text", nargs=-1)
@click.option("--claim", "claim_id", metavar="ID", help="Find support for a claim of claims.toml by its id.")
@click.option("-n", "--limit", default=5, show_default=True, help="How many works to list.")
@click.option("--link", "link_keys", multiple=True, metavar="KEY", help="Record KEY as support for --claim.")
@click.option(
    "--stance",
    type=click.Choice(STANCES),
    default=None,
    help="The stance recorded with --link (default: supports, unless a passage appears to contradict the claim: "
    "then you are asked).",
)
@json_option
@click.pass_obj
def suggest(settings: Settings, text, claim_id, limit, link_keys, stance, as_json) -> None:
    """Rank the library's works by how well they support a claim, with the sentences that do."""
    from evidence.claims.ledger import parse_ledger

    library = settings.open()
    words = " ".join(text).strip()
    if claim_id:
        ledger = parse_ledger(library.claims_text())
        if claim_id not in ledger and not words:
            raise UsageError(f"claims.toml has no claim #{claim_id}; give its text to create it.")
        words = words or ledger[claim_id].text
    if not words:
        raise UsageError('Give the claim as text (evidence suggest "acupuncture eases nerve pain") or --claim ID.')
    if link_keys and not claim_id:
        raise UsageError("--link needs --claim ID: which claim should the works support?")
    embedding = "Embedding {total} works for meaning-based ranking (once: later only new or changed works)."
    with ProgressOnceKnown("Embedding", enabled=not as_json, first_note=embedding) as progress:
        hits = library.suggest(words, limit=limit, progress=progress)
    linked: list[str] = []
    if link_keys:
        for chosen, keys in _stances_for(list(link_keys), stance, hits).items():
            linked += library.link(claim_id, keys, chosen, hits, words)
        note(f"Linked {', '.join(linked) or 'nothing new'} to #{claim_id} in claims.toml.")
    if as_json:
        render.print_json({"claim": words, "hits": hits, "linked": linked})
    else:
        render.suggestions(hits, words, render.console())


def _stances_for(keys: list[str], stance: str | None, hits) -> dict[str, list[str]]:
    """The stance to record for each key: the one given; else supports, except where the work's passage appears to
    contradict the claim: then the user is asked, or (without a terminal to ask on) told to choose."""
    if stance:
        return {stance: keys}
    hinted = {hit.key.lower(): hit for hit in hits if hit.stance_hint == "contradicts"}
    chosen: dict[str, list[str]] = {}
    for key in keys:
        hit = hinted.get(key.lower())
        answer = "supports"
        if hit is not None:
            if not interactive():
                raise UsageError(
                    f"The passage of {key} appears to contradict the claim ({hit.stance_cue}): "
                    "say which with --stance supports, contradicts or background."
                )
            answer = click.prompt(
                f"The passage of {key} appears to contradict the claim ({hit.stance_cue}). Record it as",
                type=click.Choice(STANCES),
                default="contradicts",
                err=True,
            )
        chosen.setdefault(answer, []).append(key)
    return chosen


def interactive() -> bool:
    """Whether there is a person at a terminal to ask."""
    return sys.stdin is not None and sys.stdin.isatty()


@cli.command()
@click.argument("article", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--style", "-s", metavar="NAME|FILE.csl", help="Citation style (default: the library's, else apa).")
@click.option("--html", "html_file", metavar="FILE", help="Also write the report as one self-contained HTML page.")
@click.option("--strict", is_flag=True, help="Exit 1 unless ready: also on references not checked and weak evidence.")
@json_option
@click.pass_obj
def report(settings: Settings, article: Path, style, html_file, strict, as_json) -> None:
    """The whole job for ARTICLE: claims and their evidence, reference checks, and the reference list."""
    from evidence.files import write_atomic

    library = settings.open()
    text = _read_article(article)
    result = library.report(text, article.name, style=style, html=bool(html_file))
    if html_file:
        from evidence.render.html import report_page

        write_atomic(Path(html_file), report_page(result, list(result.html_entries)).encode("utf-8"))
        note(f"Wrote {html_file}.")
    if as_json:
        render.print_json(
            {**render.to_jsonable(result), "verdict": result.verdict, "verdict_line": result.verdict_line}
        )
    else:
        render.report(result, render.console())
    if result.verdict == "problems" or (strict and result.verdict != "ready"):
        sys.exit(1)


@cli.command()
@click.argument("sources", nargs=-1, required=True, metavar="ARTICLE|FILE.bib|DOI...")
@json_option
@click.pass_obj
def check(settings: Settings, sources, as_json) -> None:
    """Check that every DOI resolves, matches what is cited, and is not retracted; suggest fixes for bad DOIs."""
    from evidence.api import Library
    from evidence.sources.crossref import raise_if_all_unreachable

    library = Library.open_if_present(settings.library_path, **settings.options())
    result = library.check(list(sources), lambda path: _read_article(path, "file to check"))
    if not settings.offline and result.references:
        raise_if_all_unreachable(len(result.references), result.count("unreachable"), settings.crossref_url)
    if as_json:
        render.print_json(result)
    else:
        render.check_report(result, render.console())
    if not result.ok:
        sys.exit(1)


# ---------------------------------------------------------------------------------------------------------------------
# refs, publish, styles


def _note_problems(article: Path, problems) -> None:
    """Each problem (and note) on stderr as 'FILE:LINE: message.'."""
    for problem in problems:
        where = f"{article.name}:{problem.line}: " if problem.line else f"{article.name}: "
        note(("note: " if problem.severity == "note" else "problem: ") + where + problem.message + ".")


@cli.command()
@click.argument("article", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--style", "-s", metavar="NAME|FILE.csl", help="Citation style (default: the library's, else apa).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "html", "bibtex", "csl-json"]),
    default="text",
    show_default=True,
)
@click.option("--output", "-o", metavar="FILE", help="Write the list to FILE (atomically).")
@click.option("--insert", is_flag=True, help="Write the list into the article under its References heading.")
@json_option
@click.pass_obj
def refs(settings: Settings, article: Path, style, fmt, output, insert, as_json) -> None:
    """Format the reference list of an ARTICLE (Markdown, text or a saved web page) in any CSL style."""
    from evidence.files import read_text, write_atomic

    library = settings.open()
    if insert and fmt in ("bibtex", "csl-json", "html"):
        raise UsageError("--insert writes a text or Markdown list into the article; choose --format text or markdown.")
    if insert and fmt == "text" and article.suffix.lower() in (".md", ".markdown"):
        fmt = "markdown"
    from evidence.cite.reading import ARTICLE_LIMIT
    from evidence.cite.webpage import is_web_page
    from evidence.cite.word import WORD_SUFFIXES

    if insert and (article.suffix.lower() in WORD_SUFFIXES or article.suffix.lower() in (".html", ".htm", ".xhtml")):
        kind = "a Word document" if article.suffix.lower() in WORD_SUFFIXES else "a web page"
        raise UsageError(
            f"--insert writes into Markdown or text articles; {article.name} is {kind}: "
            "'evidence publish' writes it with its list."
        )
    text = _read_article(article)
    if insert and is_web_page(read_text(article, "article", ARTICLE_LIMIT), article.name):
        raise UsageError(f"--insert writes into Markdown or text articles; {article.name} is a web page.")
    result = library.references(text, style=style, fmt=fmt)
    _note_problems(article, result.problems)
    if insert:
        replaced = library.insert_references(article, result, ARTICLE_LIMIT)
        note(f"Wrote the {result.style_title} list of {len(result.keys)} works into {article}.")
        if replaced:
            note("The hand-typed list under the References heading was replaced; it is kept in a comment above.")
    if output:
        write_atomic(Path(output), result.output.encode("utf-8"))
        note(f"Wrote {output}.")
    if not result.keys and not result.problems:
        note(f"{article.name} cites no works: no [@key] citations and no DOIs were found in it.")
    if as_json:
        render.print_json(result)
    elif not output and not insert:
        sys.stdout.write(terminal_safe(result.output) if sys.stdout.isatty() else result.output)
    if not result.ok:
        sys.exit(1)


@cli.command()
@click.argument("article", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--style", "-s", metavar="NAME|FILE.csl", help="Citation style (default: the library's, else apa).")
@click.option(
    "--to",
    "target",
    type=click.Choice(["docx", "html", "md", "pdf"]),
    default="docx",
    show_default=True,
    help="What to write: Word, a web page, Markdown, or PDF (needs a PDF engine).",
)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Where (default: beside it).")
@json_option
@click.pass_obj
def publish(settings: Settings, article: Path, style, target, output, as_json) -> None:
    """Write an ARTICLE (Markdown, text, Word or HTML) with its citations and reference list in a CSL style."""
    from evidence.cite.reading import WORD_LIMIT

    library = settings.open()
    result = library.publish(article, target, output, style, max_bytes=WORD_LIMIT)
    _note_problems(article, result.problems)
    if result.replaced_list:
        note("The hand-typed list under the References heading was replaced by the formatted one (kept in a comment).")
    if as_json:
        render.print_json(result)
    else:
        note(f"Wrote {result.output}: {len(result.keys)} works cited, {result.style_title}.")
    if not result.ok:
        sys.exit(1)


@cli.command()
@click.argument("word", nargs=-1)
@json_option
def styles(word, as_json) -> None:
    """List the citation styles (10,000+ names and aliases) whose name or title holds WORD."""
    from evidence.cite.csl import ALIASES, list_styles

    found = list_styles(" ".join(word))
    if as_json:
        render.print_json({"aliases": ALIASES, "styles": [{"name": s.name, "title": s.title} for s in found]})
        return
    out = render.console()
    if not word:
        out.print("Aliases: " + ", ".join(f"{a} = {n}" for a, n in ALIASES.items()))
    for item in found:
        out.print(f"{item.name:<55} {render.escape(item.title)}")
    out.print(f"{len(found)} styles.")


# ---------------------------------------------------------------------------------------------------------------------
# serve


@cli.command()
@click.option("--port", "-p", default=8765, show_default=True, help="Port to listen on (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback unless told).")
@click.option("--allow-remote", is_flag=True, help="Allow a --host other machines can reach (no login protects it).")
@click.option("--no-browser", is_flag=True, help="Do not open the browser.")
@json_option
@click.pass_obj
def serve(settings: Settings, port, host, allow_remote, no_browser, as_json) -> None:
    """Open the library in your browser: search, works, claims, articles and adding works, on this machine."""
    from evidence.api import Library
    from evidence.web.server import is_loopback
    from evidence.web.server import serve as run_server
    from evidence.web.site import Site

    if not is_loopback(host):
        if not allow_remote:
            raise UsageError(
                f"--host {host} would let other machines reach your library, with no login to stop them; "
                "add --allow-remote if that is what you want."
            )
        note(f"Warning: serving on {host}: anyone who can reach this address can read and change the library.")
    Library.open(settings.library_path, **settings.options())  # a sentence now, not on the first page
    options = settings.options()

    def opener(**overrides):
        return Library.open(settings.library_path, **{**options, **overrides})

    def announce(url: str) -> None:
        if as_json:  # one line, so a program starting the server can read the address as soon as it is there
            import json

            click.echo(json.dumps({"library": str(settings.library_path), "url": url}))
            sys.stdout.flush()
        else:
            note(f"Serving the library {settings.library_path} at {url} (Ctrl-C to stop).")

    site = Site(settings.library_path, opener, offline=settings.offline)
    run_server(site, host, port, open_browser=not no_browser, announce=announce)
