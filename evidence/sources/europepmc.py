"""Europe PMC's REST search, asked for works by DOI or PMID (``resultType=core`` carries abstracts and types).

Europe PMC asks for no more than 10 requests a second and names no key
(https://europepmc.org/RestfulWebService); several DOIs go into one query joined by OR.
"""

from __future__ import annotations

from evidence.errors import RemoteDataError
from evidence.sources import europepmc_json
from evidence.sources.endpoints import DEFAULT_EUROPEPMC_URL
from evidence.sources.found import Found
from evidence.sources.http import Pacer, PoliteClient

QUERY_IDS = 25  # DOIs in one query: the URL stays under 4,000 characters


class EuropePmcClient(PoliteClient):
    service = "Europe PMC"

    def __init__(self, base_url: str = DEFAULT_EUROPEPMC_URL, mailto: str | None = None, **options):
        super().__init__(base_url, mailto, **options)
        self.pacer = Pacer(10.0)

    def _search(self, query: str, rows: int) -> list[Found]:
        params = {"query": query, "resultType": "core", "format": "json", "pageSize": str(max(rows, 1))}
        if self.mailto:
            params["email"] = self.mailto
        response = self._get(f"{self.base_url}/search", params, self.pacer)
        if response.status_code != 200:
            raise RemoteDataError(f"Europe PMC answered a search with HTTP {response.status_code}.")
        return europepmc_json.results(self._json(response, "a search"))

    def by_dois(self, dois: list[str]) -> list[Found]:
        found: list[Found] = []
        for start in range(0, len(dois), QUERY_IDS):
            chunk = dois[start : start + QUERY_IDS]
            found += self._search(" OR ".join(f'DOI:"{doi}"' for doi in chunk), len(chunk) * 2)
        return found

    def by_pmids(self, pmids: list[str]) -> list[Found]:
        found: list[Found] = []
        for start in range(0, len(pmids), QUERY_IDS):
            chunk = pmids[start : start + QUERY_IDS]
            found += self._search(" OR ".join(f"EXT_ID:{pmid} AND SRC:MED" for pmid in chunk), len(chunk))
        return found
