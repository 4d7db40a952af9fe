"""The index's fields: what a query searches, their weights, what users may type before a colon, the schema."""

from __future__ import annotations

import functools

# The fields a query searches, and their weights: each word scores by its best field, so a title match counts twice
# what the same word in an abstract does.
SEARCH_FIELDS = ("title", "body", "annotation", "keywords", "authors", "journal")
FIELD_BOOSTS = {"title": 2.0, "annotation": 1.5, "keywords": 1.5, "journal": 0.5}
# What users may type before a colon; ``abstract:`` searches all the prose (title, abstract, notes, keywords).
USER_FIELDS = ("title", "abstract", "annotation", "keywords", "authors", "journal", "doi", "pmid", "year")
FIELD_ALIASES = {
    "abstract": "body",
    "text": "body",
    "author": "authors",
    "keyword": "keywords",
    "container": "journal",
    "note": "annotation",
}
KNOWN_FIELDS = frozenset(SEARCH_FIELDS) | frozenset(USER_FIELDS) | {"key", "type"} | frozenset(FIELD_ALIASES)


@functools.cache
def schema():
    """Whoosh's schema of the index, built once (importing Whoosh only when a command searches)."""
    from evidence.index._whoosh.schema import schema as whoosh_schema

    return whoosh_schema()
