"""Crossref REST API and doi.org client.

On ``http.PoliteClient`` rather than habanero because the tool must tell a 429 from a 404 (habanero turns both into
``None`` or an httpx2 error), read the rate-limit headers and batch many DOIs into one ``filter=doi:`` request.
"""

from __future__ import annotations

from urllib.parse import quote, unquote

from evidence.errors import NetworkError, RemoteDataError
from evidence.sources.endpoints import DEFAULT_CROSSREF_URL, DEFAULT_DOI_URL
from evidence.sources.http import Pacer, PoliteClient

# Crossref's limits from December 2025: (single requests per second, list requests per second, concurrent).
PUBLIC_POOL = (5.0, 1.0, 1)
POLITE_POOL = (10.0, 3.0, 3)
MAX_URL_LENGTH = 4000


class CrossrefClient(PoliteClient):
    """Fetches Crossref work messages. ``base_url`` is the only thing tests change."""

    service = "Crossref"

    def __init__(
        self, base_url: str = DEFAULT_CROSSREF_URL, doi_url: str = DEFAULT_DOI_URL, mailto: str | None = None, **options
    ):
        """``options``: ``PoliteClient``'s (session, timeout, retries, deadline, size limit)."""
        single, listing, concurrency = POLITE_POOL if mailto else PUBLIC_POOL
        super().__init__(base_url, mailto, concurrency=concurrency, **options)
        self.doi_url = doi_url.rstrip("/")
        self.single_pacer = Pacer(single)
        self.list_pacer = Pacer(listing)

    # Low level ----------------------------------------------------------------------------------------------------
    def _params(self, params: dict | None = None) -> dict:
        params = dict(params or {})
        if self.mailto:
            params["mailto"] = self.mailto
        return params

    # Public calls -------------------------------------------------------------------------------------------------
    def work(self, doi: str) -> dict | None:
        """The work message for one DOI; None when Crossref has no such work (404). Follows alias redirects."""
        url = f"{self.base_url}/works/{quote(doi, safe='')}"
        response = self._get(url, self._params(), self.single_pacer)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise RemoteDataError(f"Crossref answered the request for {doi} with HTTP {response.status_code}.")
        data = self._json(response, f"the request for {doi}")
        message = data.get("message")
        if not isinstance(message, dict) or not message.get("DOI"):
            raise RemoteDataError(f"Crossref's answer for {doi} holds no work record.")
        returned = str(message["DOI"])
        # An alias answers with a redirect to its primary DOI, whose record is the right one; any other record is not.
        redirected_to = unquote(response.url).lower().endswith("/works/" + returned.lower())
        if returned.lower() != doi.lower() and not (response.history and redirected_to):
            raise RemoteDataError(f"Crossref answered the request for {doi} with the record of {returned}.")
        return message

    def batch_size_for(self, dois: list[str]) -> int:
        """How many of ``dois`` fit in one filter URL (Crossref answers at most 1000 rows)."""
        length = len(self.base_url) + 60 + (len(self.mailto) + 8 if self.mailto else 0)
        count = 0
        for doi in dois:
            length += len(quote("doi:" + doi, safe="")) + 3
            if length > MAX_URL_LENGTH or count >= 100:
                break
            count += 1
        return max(count, 1)

    def works(self, dois: list[str]) -> dict[str, dict]:
        """Messages for many DOIs in one list request, keyed by lower-case DOI; DOIs Crossref lacks are absent."""
        if not dois:
            return {}
        params = self._params({"filter": ",".join("doi:" + d for d in dois), "rows": str(len(dois))})
        response = self._get(f"{self.base_url}/works", params, self.list_pacer)
        if response.status_code != 200:
            raise RemoteDataError(f"Crossref answered a list request with HTTP {response.status_code}.")
        data = self._json(response, "a list request")
        items = (data.get("message") or {}).get("items")
        if not isinstance(items, list):
            raise RemoteDataError("Crossref's answer to a list request holds no list of works.")
        found = {}
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("DOI"), str):
                found[item["DOI"].lower()] = item
        return found

    def search_bibliographic(self, text: str, rows: int = 5) -> list[dict]:
        """Crossref's best matches for a written reference (``query.bibliographic``), best first."""
        params = self._params({"query.bibliographic": text[:1000], "rows": str(rows)})
        response = self._get(f"{self.base_url}/works", params, self.list_pacer)
        if response.status_code != 200:
            raise RemoteDataError(f"Crossref answered a bibliographic query with HTTP {response.status_code}.")
        items = (self._json(response, "a bibliographic query").get("message") or {}).get("items")
        return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []

    def agency(self, doi: str) -> str | None:
        """The registration agency of a DOI ('crossref', 'datacite', 'medra', ...) or None if it is not registered."""
        url = f"{self.base_url}/works/{quote(doi, safe='')}/agency"
        response = self._get(url, self._params(), self.single_pacer)
        if response.status_code == 200:
            try:
                agency = self._json(response, f"the agency request for {doi}")["message"]["agency"]["id"]
                return str(agency).lower()
            except (KeyError, TypeError):
                pass
        return self.handle_exists(doi)

    def handle_exists(self, doi: str) -> str | None:
        """Ask doi.org's handle API whether the DOI exists at all: 'unknown-agency' if it does, else None."""
        url = f"{self.doi_url}/api/handles/{quote(doi, safe='/')}"
        response = self._get(url, None, self.single_pacer)
        if response.status_code == 200:
            try:
                code = self._json(response, f"the handle request for {doi}").get("responseCode")
            except RemoteDataError:
                return None
            return "unknown-agency" if code == 1 else None
        return None


def raise_if_all_unreachable(total: int, unreachable: int, base_url: str) -> None:
    """Exit 4 territory: nothing at all could be fetched because the service was never reached."""
    if total and unreachable == total:
        raise NetworkError(f"Crossref could not be reached at {base_url}; check the network or use --offline.")
