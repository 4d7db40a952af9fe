"""What the group options and the environment decide, and the remarks made to the person at the terminal."""

from __future__ import annotations

import os
from pathlib import Path

import click

from evidence.controls import terminal_safe
from evidence.sources.endpoints import DEFAULT_CROSSREF_URL, DEFAULT_DOI_URL, EnrichEndpoints

ENV_LIBRARY = "EVIDENCE_LIBRARY"
ENV_CROSSREF = "EVIDENCE_CROSSREF_URL"
ENV_DOI = "EVIDENCE_DOI_URL"
ENV_MAILTO = "EVIDENCE_MAILTO"
ENV_OFFLINE = "EVIDENCE_OFFLINE"
ENV_SEMANTIC = "EVIDENCE_SEMANTIC"
# The abstract and identifier services: (environment variable, EnrichEndpoints field).
ENV_ENRICH = (
    ("EVIDENCE_PUBMED_URL", "pubmed_url"),
    ("EVIDENCE_IDCONV_URL", "idconv_url"),
    ("EVIDENCE_EUROPEPMC_URL", "europepmc_url"),
    ("EVIDENCE_OPENALEX_URL", "openalex_url"),
    ("EVIDENCE_NCBI_API_KEY", "ncbi_api_key"),
    ("EVIDENCE_OPENALEX_API_KEY", "openalex_api_key"),
)
_ON, _OFF = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


class Settings:
    """What the group options and the environment decided, handed to every command."""

    def __init__(self, library: str | None, offline: bool, mailto: str | None, debug: bool):
        self.library_path = Path(library or os.environ.get(ENV_LIBRARY) or "library")
        self.offline = offline or os.environ.get(ENV_OFFLINE, "").strip().lower() in ("1", "true", "yes", "on")
        self.mailto = mailto or os.environ.get(ENV_MAILTO) or None
        self.debug = debug
        self.crossref_url = os.environ.get(ENV_CROSSREF) or DEFAULT_CROSSREF_URL
        self.doi_url = os.environ.get(ENV_DOI) or DEFAULT_DOI_URL
        self.enrich_endpoints = EnrichEndpoints(
            **{name: os.environ[variable] for variable, name in ENV_ENRICH if os.environ.get(variable)}
        )
        semantic = os.environ.get(ENV_SEMANTIC, "").strip().lower()
        self.semantic = True if semantic in _ON else False if semantic in _OFF else None

    def options(self) -> dict:
        return {
            "crossref_url": self.crossref_url,
            "doi_url": self.doi_url,
            "mailto": self.mailto,
            "offline": self.offline,
            "notify": note,
            "semantic": self.semantic,
            "enrich_endpoints": self.enrich_endpoints,
        }

    def open(self):
        from evidence.api import Library

        return Library.open(self.library_path, **self.options())


def note(message: str) -> None:
    """A remark for the person at the terminal; stderr, so --json output stays clean."""
    click.echo(terminal_safe(message), err=True)


json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of text.")
