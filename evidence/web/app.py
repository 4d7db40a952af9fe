"""The ASGI application: the routes, the shipped assets, and the guard in front of everything."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from evidence.cite.reading import WORD_LIMIT
from evidence.web import pages
from evidence.web.guard import Guard
from evidence.web.site import Site

STATIC = Path(__file__).with_name("static")
# An upload is an article: a Word file may be as large as evidence reads one, plus the form around it.
MAX_BODY = WORD_LIMIT + 1_000_000


def create_app(site: Site, allowed_hosts: set[str], max_body: int = MAX_BODY) -> Guard:
    routes = [
        Route("/", pages.home),
        Route("/search", pages.search),
        Route("/works", pages.works),
        Route("/works/{key:path}", pages.work),
        Route("/claims", pages.claims),
        Route("/claims/{claim}/link", pages.link, methods=["POST"]),
        Route("/articles/{name}", pages.article),
        Route("/articles/{name}/references.{suffix}", pages.article_download),
        Route("/check", pages.check_upload, methods=["POST"]),
        Route("/add", pages.add_form, methods=["GET"]),
        Route("/add", pages.add, methods=["POST"]),
        Route("/enrich", pages.enrich, methods=["POST"]),
        Route("/jobs/{number:int}", pages.job),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={Exception: pages.unexpected})
    app.state.site = site
    app.state.max_body = max_body
    return Guard(app, allowed_hosts, max_body)
