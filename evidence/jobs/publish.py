"""Publishing an article: in-text citations and the reference list formatted by a CSL style, as Word, HTML,
Markdown or PDF.

The article (Markdown, or a Word or HTML file turned into Markdown by pandoc) keeps everything it says; what changes:

- each citation (``[@key]``, ``[@doi:10.x/y]``, ``@key`` in running text) is formatted by the style: numbered for
  Vancouver or IEEE, author-date for APA, as pandoc's citeproc formats it;
- the list stands under the article's References heading (added at the end when there is none), replacing the list
  there: a hand-typed one is kept in a comment (which no reader of the output sees) and reported, never printed
  twice;
- a retracted or withdrawn work is marked "[Retracted]" in the list unless the library's config says not to.

Works cited by DOI that the library lacks are fetched as ``refs`` fetches them; keys it lacks are reported.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from evidence.cite import csl, pandoc
from evidence.cite.article import DOI_KEY, parse_article
from evidence.cite.csl_map import work_to_csl
from evidence.cite.refs import RETRACTED_MARK, default_style, insert_list, resolve_cited, retracted_keys
from evidence.config import parse_config
from evidence.errors import UsageError
from evidence.files import decode_bytes
from evidence.results.refs import PublishResult
from evidence.store.latex import marked_fields

TARGETS = {"docx": "docx", "html": "html", "md": "markdown-citations-smart", "pdf": "pdf"}
SUFFIXES = {"docx": ".docx", "html": ".html", "md": ".md", "pdf": ".pdf"}
PDF_ENGINES = ("pdflatex", "xelatex", "lualatex", "tectonic", "typst", "weasyprint", "wkhtmltopdf")
_PLAIN_MARKDOWN = Path(csl.__file__).with_name("plain_markdown.lua")
_REFS_DIV = "::: {#refs}\n:::"
_DOI_CITE = re.compile(rf"(?<![\w@])(-?)@({DOI_KEY})")
# pandoc's Markdown writer escapes the brackets and at-signs of citations typed as text in Word or on a web page.
_ESCAPED_CITATION = re.compile(r"\\\[((?:\\@|@)[^\]\n]*?)\\\]")


def source_markdown(data: bytes, name: str) -> str:
    """The article as Markdown: a Word or HTML file through pandoc's reader, any other file as it is."""
    lower = name.lower()
    if lower.endswith((".docx", ".html", ".htm", ".xhtml")):
        reader = "docx" if lower.endswith(".docx") else "html"
        text = pandoc.run([f"--from={reader}", "--to=markdown-smart", "--wrap=none"], data).decode("utf-8")
        return _ESCAPED_CITATION.sub(lambda m: "[" + m.group(1).replace("\\@", "@").replace("\\_", "_") + "]", text)
    return decode_bytes(data, name, "article")  # a sentence, not a traceback, for a file that is not UTF-8


def publish(
    store,
    connect,
    markdown: str,
    target: str,
    style_name: str | None,
    notify: Callable[[str], None] = lambda _m: None,
) -> tuple[bytes, PublishResult]:
    """The published article's bytes in ``target`` (docx, html, md, pdf), and what was done (``connect`` gives the
    Crossref client, as in ``cite.refs.resolve_cited``)."""
    if target not in TARGETS:
        raise UsageError(f"Unknown output '{target}'; use one of {', '.join(TARGETS)}.")
    engine = _pdf_engine() if target == "pdf" else ""
    style = csl.resolve_style(style_name or default_style(store))
    works, problems = resolve_cited(store, connect, parse_article(markdown), notify)
    by_doi = {work.doi.lower(): work.key for work in works if work.doi}
    text = _DOI_CITE.sub(lambda m: _library_key(m, by_doi), markdown)
    text, replaced = insert_list(text, _REFS_DIV)
    items = [work_to_csl(work, marked_fields(work)) for work in works]
    if parse_config(store.read_config_text()).mark_retracted:
        withdrawn = retracted_keys(store, works)
        for item in items:
            if item["id"] in withdrawn:
                item["title"] = f"{item.get('title', '')} {RETRACTED_MARK}".strip()
    with tempfile.TemporaryDirectory(prefix="evidence-publish-") as folder:
        bibliography = Path(folder) / "works.json"
        bibliography.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
        args = [
            "--from=markdown",
            f"--to={TARGETS[target] if target != 'pdf' else 'pdf'}",
            "--citeproc",
            f"--csl={style.path}",
            f"--bibliography={bibliography}",
            "--metadata=link-citations:true",
            "--output=-",
        ]
        if target in ("html", "pdf"):
            args.append("--standalone")
        if engine:
            args.append(f"--pdf-engine={engine}")
        if target == "md":
            args += ["--wrap=preserve", f"--lua-filter={_PLAIN_MARKDOWN}"]
        out = pandoc.run(args, text.encode("utf-8"))
    result = PublishResult(
        style=style.name,
        style_title=style.title,
        format=target,
        keys=tuple(work.key for work in works),
        replaced_list=replaced,
        problems=tuple(problems),
    )
    return out, result


def _library_key(match: re.Match, by_doi: dict[str, str]) -> str:
    from evidence.doi import normalize_doi
    from evidence.errors import InvalidDOIError

    try:
        key = by_doi.get(normalize_doi(match.group(2)[4:]).lower())
    except InvalidDOIError:
        key = None
    return f"{match.group(1)}@{{{key}}}" if key else match.group(0)


def _pdf_engine() -> str:
    for engine in PDF_ENGINES:
        if shutil.which(engine):
            return engine
    raise UsageError(
        "A PDF needs a PDF engine, and none is installed (pandoc uses one of: "
        f"{', '.join(PDF_ENGINES)}); publish to docx or html instead, or install one (Debian: texlive-latex-base)."
    )
