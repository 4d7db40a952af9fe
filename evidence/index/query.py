"""From what a user types to a Whoosh query: our own syntax checks, field aliases, plain words built directly,
NOT read as 'without', and the analysis that turns text into the index's terms."""

from __future__ import annotations

import functools
import re

from evidence.errors import QuerySyntaxError
from evidence.index.fields import FIELD_ALIASES, FIELD_BOOSTS, KNOWN_FIELDS, SEARCH_FIELDS, USER_FIELDS, schema


@functools.cache
def _parser(default_and: bool):
    """Each word is looked for in every search field and scores by its best field (a disjunction-max: title x2, or
    all the prose, or the authors...), and the words' scores add up. Summing the fields instead scored the same
    word twice (a title word is also in ``body``) and was 3-4 times slower: a max lets Whoosh skip whole blocks
    of postings that cannot reach the top 10 (bench/RESULTS.md, issue 8)."""
    from whoosh import qparser
    from whoosh.qparser import plugins

    from evidence.index._whoosh.queries import DisMaxGroup

    parser = qparser.QueryParser(None, schema(), group=qparser.AndGroup if default_and else qparser.OrGroup)
    parser.add_plugin(plugins.MultifieldPlugin(list(SEARCH_FIELDS), fieldboosts=FIELD_BOOSTS, group=DisMaxGroup))
    return parser


def _free_text_query(terms: list[str]):
    """The claim's words OR-ed over all the prose: what ``_best_by_term`` computes, as a Whoosh query (tests compare
    the two). One BM25 over all the prose: on SciFact's training claims a title boost of 3 (right for `search`) cost
    0.1 nDCG@10, and summing separate title and abstract scores 0.02, against this."""
    from whoosh import query as wquery

    return wquery.Or([wquery.Term("body", term) for term in terms])


_PLAIN_WORD = re.compile(r"[^\W_]+")


_OPERATORS = frozenset({"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"})


def _plain_words_query(text: str, default_and: bool):
    """The query Whoosh's parser makes of plain words, built directly (None for anything else): the parser's
    taggers and plugins were a fifth of a two-word search at 100,000 works (bench/RESULTS.md, issue 8). Each word
    is looked for in every search field as that field's analyzer reads it, and Whoosh's own ``normalize`` tidies
    the tree as the parser's does (a test compares the two on generated queries)."""
    words = text.split()
    joiners = set(words[1::2]) & _OPERATORS
    if joiners:  # "a AND b AND c" or "a OR b": operators exactly between words, and all the same
        if len(joiners) > 1 or not joiners <= {"AND", "OR"} or len(words) % 2 == 0:
            return None
        if any(word not in joiners for word in words[1::2]):
            return None
        default_and, words = joiners == {"AND"}, words[::2]
    if not all(_PLAIN_WORD.fullmatch(word) and word not in _OPERATORS for word in words):
        return None
    from whoosh import query as wquery

    from evidence.index._whoosh.queries import DisjunctionMax
    from evidence.index._whoosh.schema import terms

    per_word = []
    for word in words:
        stemmed, lowered = terms(word), word.lower()
        if len(stemmed) > 1:  # not a word the analyzers read as one term
            return None
        fields = []
        for field in SEARCH_FIELDS:
            term = lowered if field == "authors" else (stemmed[0] if stemmed else None)
            if term is not None:
                fields.append(wquery.Term(field, term, boost=FIELD_BOOSTS.get(field, 1.0)))
        per_word.append(DisjunctionMax(fields))
    group = wquery.And if default_and else wquery.Or
    return group(per_word).normalize()


def _not_means_without(parsed):
    """``a b NOT c`` means works matching a or b that lack c, not 'a, or b, or anything without c'.

    Whoosh's OR grouping puts the negation beside the other terms, which would match nearly the whole library.
    """
    from whoosh import query as wquery

    if not isinstance(parsed, wquery.Or):
        return parsed
    negated = [sub.query for sub in parsed.subqueries if isinstance(sub, wquery.Not)]
    positive = [sub for sub in parsed.subqueries if not isinstance(sub, wquery.Not)]
    if not negated or not positive:
        return parsed
    wanted = positive[0] if len(positive) == 1 else wquery.Or(positive, scale=parsed.scale)
    unwanted = negated[0] if len(negated) == 1 else wquery.Or(negated)
    return wquery.AndNot(wanted, unwanted)


def analyse(text: str) -> list[str]:
    """The index's own terms for a text, in order (the analyzer's steps without Whoosh's token objects: reranking
    analyses thousands of sentences per claim)."""
    from evidence.index._whoosh.schema import terms

    return terms(text)


def _apply_field_aliases(text: str) -> str:
    for alias, name in FIELD_ALIASES.items():
        text = _replace_field(text, alias, name)
    return text


def _replace_field(text: str, alias: str, name: str) -> str:

    return re.sub(rf"(?<![\w:]){alias}:", f"{name}:", text)


def check_query_syntax(text: str) -> None:
    """Reject what Whoosh would accept but misread: unbalanced quotes or brackets, unknown fields, lone operators."""

    if not text.strip():
        raise QuerySyntaxError("The search query is empty.")
    if text.count('"') % 2:
        raise QuerySyntaxError(f"The query '{text}' has an unmatched double quote.")
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            raise QuerySyntaxError(f"The query '{text}' closes a bracket that was never opened.")
    if depth:
        raise QuerySyntaxError(f"The query '{text}' opens a bracket that is never closed.")
    outside_quotes = re.sub(r'"[^"]*"', " _phrase_ ", text)
    for field_name in re.findall(r"(?<![\w:/])([A-Za-z_]+):(?!//)", outside_quotes):
        if field_name.lower() not in KNOWN_FIELDS:
            known = ", ".join(sorted(USER_FIELDS))
            raise QuerySyntaxError(f"The query names an unknown field '{field_name}'; known fields: {known}.")
    words = outside_quotes.split()
    if words and (words[0] in ("AND", "OR") or words[-1] in ("AND", "OR", "NOT")):
        raise QuerySyntaxError(f"The query '{text}' starts or ends with an operator that joins nothing.")


def stem(word: str) -> str:
    """The stemmer the index's analyzer uses, for marking matches outside Whoosh."""
    from evidence.index._whoosh.schema import stemmed

    return stemmed(word)
