"""OpenAlex's works API, asked for up to 100 DOIs at once (``filter=doi:a|b|...``).

OpenAlex asks callers to give an email (``mailto``) and, since 2025, accepts an API key for higher limits; it allows
about 10 requests a second (https://docs.openalex.org/how-to-use-the-api/rate-limits-and-authentication).
"""

from __future__ import annotations

from evidence.errors import RemoteDataError
from evidence.sources import openalex_json
from evidence.sources.endpoints import DEFAULT_OPENALEX_URL
from evidence.sources.found import Found
from evidence.sources.http import Pacer, PoliteClient

FILTER_IDS = 50  # DOIs in one filter: OpenAlex takes 100, the URL stays under 4,000 characters with 50


class OpenAlexClient(PoliteClient):
    service = "OpenAlex"

    def __init__(
        self, base_url: str = DEFAULT_OPENALEX_URL, mailto: str | None = None, api_key: str | None = None, **options
    ):
        super().__init__(base_url, mailto, **options)
        self.api_key = api_key
        self.pacer = Pacer(10.0)

    def by_dois(self, dois: list[str]) -> list[Found]:
        found: list[Found] = []
        for start in range(0, len(dois), FILTER_IDS):
            chunk = dois[start : start + FILTER_IDS]
            params = {"filter": "doi:" + "|".join(chunk), "per-page": str(len(chunk))}
            if self.mailto:
                params["mailto"] = self.mailto
            if self.api_key:
                params["api_key"] = self.api_key
            response = self._get(f"{self.base_url}/works", params, self.pacer)
            if response.status_code != 200:
                raise RemoteDataError(f"OpenAlex answered a works request with HTTP {response.status_code}.")
            found += openalex_json.works(self._json(response, "a works request"))
        return found
