"""Jinja2 with autoescaping on for every template: every value from the library, a server or an uploaded article
is escaped; the only markup let through is what this module builds itself from escaped text (marked terms) or what
citeproc wrote (reference entries, already escaped by pandoc's HTML writer)."""

from __future__ import annotations

import functools
import re

from markupsafe import Markup, escape

from evidence.links import doi_link
from evidence.render.text import passage_text

_MARKED = re.compile(r"\*\*(.+?)\*\*")


def marked(text: str) -> Markup:
    """A passage with the terms the search marked ``**like this**`` shown as <mark>, everything else escaped."""
    return Markup(_MARKED.sub(r"<mark>\1</mark>", str(escape(text or ""))))


def doi_href(doi: str) -> str:
    return doi_link(doi) or ""


@functools.cache
def environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(
        loader=PackageLoader("evidence.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["marked"] = marked
    env.filters["doi_href"] = doi_href
    env.filters["passage"] = passage_text  # a quote only when the work says it, as the terminal shows it
    return env


def render(template: str, **context) -> str:
    return environment().get_template(template).render(**context)
