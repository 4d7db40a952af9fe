"""One handler per page. Each reads the request, calls ``Library`` (the same jobs as the command line), and
renders a template; an EvidenceError becomes its sentence on the page, never a traceback.

Reading pages are plain functions, which Starlette runs in its thread pool, so a slow page (a report checking
references online) does not hold up the others; a write reads its form here, then runs in the pool too.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from evidence.errors import BadInputError, EvidenceError, NotInLibraryError
from evidence.model import STANCES
from evidence.render.text import add_summary, enrich_summary
from evidence.web.templating import render

STYLES = ("apa", "vancouver", "ieee", "chicago-author-date", "harvard-cite-them-right", "nature", "ama")
DOWNLOADS = {
    "md": ("markdown", "text/markdown"),
    "bib": ("bibtex", "text/plain"),
    "json": ("csl-json", "application/json"),
}
UPLOAD_FIELD = "article"
SUGGESTED = 5  # works suggested for a claim
SUGGEST_WAIT = 3.0  # seconds a page waits for its suggestions before it shows their progress instead


def _page(request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
    site = request.app.state.site
    return HTMLResponse(
        render(template, token=site.token, library=str(site.library_path), offline=site.offline, **context),
        status_code=status,
    )


def _guarded(handler: Callable) -> Callable:
    """The handler, with an EvidenceError shown as the page's one sentence (404 for what the library lacks)."""

    def page(request: Request) -> Response:
        try:
            return handler(request)
        except EvidenceError as error:
            status = 404 if isinstance(error, NotInLibraryError) else 400
            return _page(request, "error.html", status=status, message=str(error))

    page.__name__ = handler.__name__
    page.__doc__ = handler.__doc__
    return page


async def unexpected(request: Request, error: Exception) -> HTMLResponse:
    """The last line of defence, as the CLI's: a sentence on a page (the traceback goes to the server's log)."""
    message = f"Something went wrong: {type(error).__name__}: {error}. Please report it."
    return _page(request, "error.html", status=500, message=message)


def _site(request: Request):
    return request.app.state.site


# -- reading pages -----------------------------------------------------------------------------------------------


@_guarded
def home(request: Request) -> Response:
    """The library at a glance, and what needs attention: claims without support or with weak support, references
    that are retracted or do not match their records (checked against the stored records, offline), works without
    an abstract."""
    site = _site(request)
    notes: list[str] = []
    library = site.open(notes, offline=True)
    works, _ = library.list_works(0, 0)
    no_abstract_count, no_abstract = site.kept(
        library, ("lacking", "abstract"), lambda: library.list_works(0, 50, "abstract")
    )
    claims = library.claims()
    articles = [_summary(name, site.report(name, text, offline=True)[0]) for name, text in library.articles().items()]
    unsupported = [c for c in claims.claims if not any(s.stance == "supports" for s in c.supports)]
    warned = [c for c in claims.claims if c.warnings]
    return _page(
        request,
        "home.html",
        works=works,
        claims=claims.claims,
        articles=articles,
        unsupported=unsupported,
        warned=warned,
        no_abstract=no_abstract,
        no_abstract_count=no_abstract_count,
        notes=notes,
    )


def _summary(name: str, report) -> dict:
    from evidence.results.report import FAILED_STATUSES

    bad = [c for c in report.checks if c.status in FAILED_STATUSES]
    return {"name": name, "verdict": report.verdict, "line": report.verdict_line, "bad": bad}


@_guarded
def search(request: Request) -> Response:
    from evidence.claims.design import DESIGNS
    from evidence.jobs.search import SearchFilters

    query = request.query_params.get("q", "").strip()
    form = {name: request.query_params.get(name, "") for name in ("from_year", "to_year", "design", "has_abstract")}
    hits, notes = [], []
    if query:
        filters = SearchFilters(
            _year(form["from_year"]), _year(form["to_year"]), form["design"], bool(form["has_abstract"])
        )
        hits = _site(request).open(notes).search(query, limit=_limit(request), filters=filters)
    return _page(request, "search.html", query=query, hits=hits, form=form, designs=DESIGNS, notes=notes)


@_guarded
def work(request: Request) -> Response:
    """One work: its fields, abstract, note, design and where each came from, and the claims it takes part in."""
    key = request.path_params["key"]
    library = _site(request).open()
    view = library.describe(key)
    claims = [
        (claim, support)
        for claim in library.claims().claims
        for support in claim.supports
        if support.key.lower() == view.key.lower()
    ]
    return _page(request, "work.html", view=view, claims=claims)


@_guarded
def claims(request: Request) -> Response:
    """Every claim with its evidence and warnings; ``?suggest=ID`` adds the works suggested for that claim, each
    with a form to link it."""
    site = _site(request)
    report = site.open().claims()
    chosen = request.query_params.get("suggest", "")
    suggestions, finding = [], None
    if chosen:
        claim = next((c for c in report.claims if c.id == chosen), None)
        if claim is None:
            raise NotInLibraryError(f"claims.toml has no claim #{chosen}.")
        linked = {s.key.lower() for s in claim.supports}
        job = site.suggestions(claim.text, SUGGESTED + len(linked))
        if not job.wait(SUGGEST_WAIT):
            finding = job  # the page shows its progress and reloads itself
        elif job.error:
            raise BadInputError(job.error)
        else:
            suggestions = [hit for hit in job.result if hit.key.lower() not in linked][:SUGGESTED]
    return _page(
        request,
        "claims.html",
        report=report,
        chosen=chosen,
        suggestions=suggestions,
        finding=finding,
        stances=STANCES,
        linked=request.query_params.get("linked", ""),
    )


@_guarded
def article(request: Request) -> Response:
    name = request.path_params["name"]
    text = _article_text(request, name)
    style = request.query_params.get("style", "").strip() or None
    report, notes = _site(request).report(name, text, style)
    return _page(
        request, "article.html", report=report, name=name, style=style or "", styles=STYLES, notes=notes, uploaded=False
    )


@_guarded
def article_download(request: Request) -> Response:
    """The article's reference list as Markdown, BibTeX or CSL-JSON, as a file to save."""
    name, suffix = request.path_params["name"], request.path_params["suffix"]
    if suffix not in DOWNLOADS:
        raise BadInputError(f"There is no download '{suffix}'; choose md, bib or json.")
    fmt, media = DOWNLOADS[suffix]
    style = request.query_params.get("style", "").strip() or None
    result = _site(request).open().references(_article_text(request, name), style=style, fmt=fmt)
    stem = name.rsplit(".", 1)[0]
    return Response(
        result.output,
        media_type=media,
        headers={"content-disposition": f'attachment; filename="{_safe_filename(stem)}-references.{suffix}"'},
    )


PAGE_SIZE = 100


@_guarded
def works(request: Request) -> Response:
    """Every work, a hundred to a page, in the order of references.bib."""
    text = request.query_params.get("page", "1")
    number = max(1, int(text)) if text.isdigit() else 1
    library = _site(request).open()
    total, shown = library.list_works((number - 1) * PAGE_SIZE, PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    if number > pages:
        number = pages
        total, shown = library.list_works((number - 1) * PAGE_SIZE, PAGE_SIZE)
    return _page(request, "works.html", works=shown, total=total, page=number, pages=pages)


@_guarded
def add_form(request: Request) -> Response:
    return _page(request, "add.html", text="")


@_guarded
def job(request: Request) -> Response:
    number = request.path_params["number"]
    found = _site(request).jobs.get(number)
    if found is None:
        return _page(
            request, "error.html", status=404, message=f"There is no job {number} (the server was restarted?)."
        )
    summary = ""
    if found.result is not None:
        summary = add_summary(found.result) if found.kind == "add" else enrich_summary(found.result)
    return _page(request, "job.html", job=found, summary=summary)


# -- writes ------------------------------------------------------------------------------------------------------


async def _form(request: Request):
    """The posted form, once its CSRF token is this server's; None (and the caller answers 403) otherwise."""
    form = await request.form(max_files=1, max_fields=20, max_part_size=request.app.state.max_body)
    return form if _site(request).check_token(form.get("csrf")) else None


def _forbidden(request: Request) -> HTMLResponse:
    return _page(
        request,
        "error.html",
        status=403,
        message="Refused: the form's token is missing or out of date; reload the page and try again.",
    )


async def link(request: Request) -> Response:
    """Link a suggested work to a claim in claims.toml, as ``suggest --claim ID --link KEY`` does."""
    form = await _form(request)
    if form is None:
        return _forbidden(request)
    claim_id = request.path_params["claim"]
    key, stance = str(form.get("key", "")).strip(), str(form.get("stance", "")).strip()

    def run() -> Response:
        if stance not in STANCES:
            raise BadInputError(f"Choose the stance the work takes: {', '.join(STANCES)}.")
        library = _site(request).open()
        claim = next((c for c in library.claims().claims if c.id == claim_id), None)
        if claim is None:
            raise NotInLibraryError(f"claims.toml has no claim #{claim_id}.")
        hits = library.suggest(claim.text, limit=20)
        linked = library.link(claim_id, [key], stance, hits, claim.text)
        return RedirectResponse(f"/claims?linked={','.join(linked) or 'none'}#claim-{claim_id}", status_code=303)

    return await run_in_threadpool(_guarded(lambda _request: run()), request)


async def add(request: Request) -> Response:
    """Start fetching the DOIs and PubMed identifiers found in the pasted text, and (unless unticked) the works of
    the pasted references that give neither, found by Crossref's bibliographic search; the job's page shows
    progress."""
    from evidence.jobs.add import ids_from_text, references_without_ids

    form = await _form(request)
    if form is None:
        return _forbidden(request)
    text = str(form.get("ids", ""))
    ids = ids_from_text(text)
    references = references_without_ids(text) if form.get("references") else []
    if not ids and not references:
        message = "No DOI, PubMed identifier (PMID:N, PMCN) or reference was found in what you pasted."
        return _page(request, "add.html", status=400, text=text, message=message)
    site = _site(request)

    def fetch(job):
        return site.open(job.notes).add(ids, progress=job.progress, references=references)

    count = len(ids) + len(references)
    started = site.jobs.start(f"Adding {count} {'work' if count == 1 else 'works'}", fetch, "add")
    started.total = count
    return RedirectResponse(f"/jobs/{started.id}", status_code=303)


async def enrich(request: Request) -> Response:
    """Start filling the abstracts, PMIDs and publication types the works lack from the services evidence.toml
    names (PubMed, Europe PMC, OpenAlex), as ``evidence enrich`` does; the job's page shows progress."""
    form = await _form(request)
    if form is None:
        return _forbidden(request)
    site = _site(request)
    started = site.jobs.start(
        "Filling abstracts, PMIDs and publication types",
        lambda job: site.open(job.notes).enrich(progress=job.progress),
        "enrich",
    )
    return RedirectResponse(f"/jobs/{started.id}", status_code=303)


async def check_upload(request: Request) -> Response:
    """Check an uploaded article (Markdown, text, Word or a saved web page): its report, the file kept in memory
    only (never written anywhere)."""
    from evidence.cite.reading import article_text

    form = await _form(request)
    if form is None:
        return _forbidden(request)
    upload = form.get(UPLOAD_FIELD)
    if upload is None or not hasattr(upload, "read") or not upload.filename:
        return _page(request, "error.html", status=400, message="Choose an article file to check.")
    data = await upload.read()
    name = _safe_filename(upload.filename.replace("\\", "/").rsplit("/", 1)[-1]) or "article.md"
    style = str(form.get("style", "")).strip() or None

    def run(_request: Request) -> Response:
        notes: list[str] = []
        text = article_text(data, name)
        report = _site(request).open(notes).report(text, name, style=style, html=True)
        return _page(
            request,
            "article.html",
            report=report,
            name=name,
            style=style or "",
            styles=STYLES,
            notes=notes,
            uploaded=True,
        )

    return await run_in_threadpool(_guarded(run), request)


# -- helpers -----------------------------------------------------------------------------------------------------


def _article_text(request: Request, name: str) -> str:
    """An article of the library's articles/ folder, found by its exact file name among those listed there (the
    name is never joined to a path, so no name reaches outside the folder)."""
    texts = _site(request).open().articles()
    if name not in texts:
        raise NotInLibraryError(f"The library has no article named {name}.")
    return texts[name]


def _year(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not (text.isdigit() and len(text) <= 4):
        raise BadInputError(f"A year is four digits, like 2020; '{text}' is not one.")
    return int(text)


def _limit(request: Request) -> int:
    text = request.query_params.get("n", "20")
    return max(1, min(int(text), 200)) if text.isdigit() else 20


def _safe_filename(name: str) -> str:
    return "".join(c for c in name if c.isalnum() or c in "._- ")[:120].strip(" .")
