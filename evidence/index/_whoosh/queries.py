"""evidence's own query classes, where Whoosh's give a wrong answer; Whoosh's classes are left as installed.

Whoosh's ``DisjunctionMaxMatcher`` scores a document with the best *current* score of its two sides, even when one
side stands on a later document: through ``search``'s max over six fields, a work that matched a word only in its
abstract took the title-boosted score of the next work with that word in its title. ``DisjunctionMax`` here builds
matchers that count only a side on the current document (as Whoosh's UnionMatcher already does); a test checks
that each hit's score is the best of its own fields' scores, and that Whoosh's classes are unchanged.
"""

from __future__ import annotations

from whoosh import query as wquery
from whoosh.matching.binary import DisjunctionMaxMatcher as WhooshDisjunctionMaxMatcher
from whoosh.qparser import syntax


class DisjunctionMaxMatcher(WhooshDisjunctionMaxMatcher):
    def score(self):
        a, b = self.a, self.b
        if not a.is_active():
            return b.score()
        if not b.is_active():
            return a.score()
        a_id, b_id = a.id(), b.id()
        if a_id != b_id:
            return a.score() if a_id < b_id else b.score()
        return max(a.score(), b.score())


class DisjunctionMax(wquery.DisjunctionMax):
    """Whoosh's disjunction-max query, scored from the current document only."""

    def _matcher(self, subs, searcher, context):
        reader = searcher.reader()
        return self._tree_matcher(
            subs,
            DisjunctionMaxMatcher,
            searcher,
            context,
            lambda q: q.estimate_size(reader),
            tiebreak=self.tiebreak,
        )


class DisMaxGroup(syntax.DisMaxGroup):
    """The query parser's disjunction-max group, making evidence's ``DisjunctionMax``."""

    qclass = DisjunctionMax
