"""Where the remote services live unless the environment says otherwise.

A module of its own so that naming the defaults does not import the HTTP stack (requests costs 0.15 s at start-up,
which every offline command would otherwise pay).
"""

from dataclasses import dataclass

DEFAULT_CROSSREF_URL = "https://api.crossref.org"
DEFAULT_DOI_URL = "https://doi.org"
DEFAULT_PUBMED_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
DEFAULT_IDCONV_URL = "https://pmc.ncbi.nlm.nih.gov/tools/idconv/api/v1/articles"
DEFAULT_EUROPEPMC_URL = "https://www.ebi.ac.uk/europepmc/webservices/rest"
DEFAULT_OPENALEX_URL = "https://api.openalex.org"


@dataclass(frozen=True)
class EnrichEndpoints:
    """Where the abstract and identifier services live, and the keys that raise their limits (tests change only the
    addresses)."""

    pubmed_url: str = DEFAULT_PUBMED_URL
    idconv_url: str = DEFAULT_IDCONV_URL
    europepmc_url: str = DEFAULT_EUROPEPMC_URL
    openalex_url: str = DEFAULT_OPENALEX_URL
    ncbi_api_key: str | None = None
    openalex_api_key: str | None = None
