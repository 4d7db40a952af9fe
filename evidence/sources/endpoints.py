"""Where the remote services live unless the environment says otherwise.

A module of its own so that naming the defaults does not import the HTTP stack (requests costs 0.15 s at start-up,
which every offline command would otherwise pay).
"""

DEFAULT_CROSSREF_URL = "https://api.crossref.org"
DEFAULT_DOI_URL = "https://doi.org"
