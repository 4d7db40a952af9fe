"""PubMed through NCBI's E-utilities (esearch, efetch) and the PMC ID Converter.

NCBI asks every caller to name its ``tool`` and an ``email`` and allows 3 requests a second without an API key,
10 with one (https://www.ncbi.nlm.nih.gov/books/NBK25497/); efetch takes up to 200 ids in a GET and more by POST.
"""

from __future__ import annotations

from evidence.errors import RemoteDataError
from evidence.sources import pubmed_xml
from evidence.sources.endpoints import DEFAULT_IDCONV_URL, DEFAULT_PUBMED_URL
from evidence.sources.found import Found
from evidence.sources.http import Pacer, PoliteClient

GET_IDS = 200  # efetch ids in one GET; beyond, one POST
POST_IDS = 1000
IDCONV_IDS = 200
SEARCH_DOIS = 40  # DOIs OR-ed into one esearch term: the URL stays well under 4,000 characters


class PubmedClient(PoliteClient):
    service = "PubMed"

    def __init__(
        self,
        base_url: str = DEFAULT_PUBMED_URL,
        idconv_url: str = DEFAULT_IDCONV_URL,
        mailto: str | None = None,
        api_key: str | None = None,
        **options,
    ):
        super().__init__(base_url, mailto, accept="application/xml, application/json", **options)
        self.idconv_url = idconv_url.rstrip("/")
        self.api_key = api_key
        self.pacer = Pacer(10.0 if api_key else 3.0)  # one budget for every E-utility and the converter

    def _params(self, params: dict) -> dict:
        params = {**params, "tool": "evidence"}
        if self.mailto:
            params["email"] = self.mailto
        if self.api_key:
            params["api_key"] = self.api_key
        return params

    def _ok(self, response, what: str):
        if response.status_code != 200:
            raise RemoteDataError(f"PubMed answered {what} with HTTP {response.status_code}.")
        return response

    def convert_pmcids(self, pmcids: list[str]) -> dict[str, str]:
        """{pmcid: pmid} from the PMC ID Converter, for the PMCIDs it knows."""
        found: dict[str, str] = {}
        for start in range(0, len(pmcids), IDCONV_IDS):
            chunk = pmcids[start : start + IDCONV_IDS]
            params = self._params({"ids": ",".join(chunk), "format": "json"})
            response = self._ok(self._get(self.idconv_url + "/", params, self.pacer), "an ID Converter request")
            for pmcid, pmid, _doi in pubmed_xml.converted_ids(self._json(response, "an ID Converter request")):
                if pmcid and pmid:
                    found[pmcid] = pmid
        return found

    def search_dois(self, dois: list[str]) -> list[str]:
        """The PMIDs PubMed files under any of ``dois`` (the order says nothing: efetch's records say which)."""
        pmids: list[str] = []
        for start in range(0, len(dois), SEARCH_DOIS):
            chunk = dois[start : start + SEARCH_DOIS]
            term = " OR ".join(f'"{doi}"[doi]' for doi in chunk)
            params = self._params({"db": "pubmed", "term": term, "retmax": str(len(chunk) * 2)})
            response = self._ok(self._get(f"{self.base_url}/esearch.fcgi", params, self.pacer), "a search")
            pmids += pubmed_xml.search_ids(response.content)
        return list(dict.fromkeys(pmids))

    def fetch(self, pmids: list[str]) -> list[Found]:
        """The PubMed records of ``pmids``; unknown PMIDs are absent."""
        found: list[Found] = []
        start = 0
        while start < len(pmids):
            size = GET_IDS if len(pmids) - start <= GET_IDS else POST_IDS
            chunk = pmids[start : start + size]
            start += size
            ids = {"db": "pubmed", "retmode": "xml", "id": ",".join(chunk)}
            url = f"{self.base_url}/efetch.fcgi"
            if len(chunk) <= GET_IDS:
                response = self._get(url, self._params(ids), self.pacer)
            else:
                response = self._get(url, None, self.pacer, data=self._params(ids))
            found += pubmed_xml.articles(self._ok(response, "a fetch").content)
        return found
