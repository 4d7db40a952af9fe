"""`evidence claims`: every claim with its evidence, and everything that leaves a claim standing on too little.

Application layer. Problems (exit 1): a claim with no supporting work; a claim whose supports are all retracted or
outweighed by contradicting works; a claim span whose id is not in the ledger, and ledger claims no article makes;
citations inside a claim that the ledger does not link to it; cited works that back no claim; ledger keys missing
from the library. Warnings (shown, exit 0): a claim resting on one work, or only on narrative reviews, position
papers or experimental work.
"""

from __future__ import annotations

from evidence.cite.article import parse_article
from evidence.claims.design import WEAK_DESIGNS, design_of
from evidence.claims.ledger import Claim, find_passage, parse_ledger, passage_field
from evidence.claims.stance import contradiction_cue
from evidence.doi import normalize_doi
from evidence.errors import InvalidDOIError
from evidence.jobs.common import withdrawal_of
from evidence.model import Work
from evidence.results.claims import ClaimsReport, ClaimView, SupportView
from evidence.results.problems import Problem

LEDGER = "claims.toml"
_PLURAL = {
    "editorial or comment": "editorials or comments",
    "narrative review": "narrative reviews",
    "position paper or guideline": "position papers or guidelines",
    "experimental or animal work": "experimental or animal work",
}


def _key_for(cite_key: str, bib_by_key: dict[str, Work], doi_map: dict[str, Work]) -> str:
    """The library key a citation points at (``doi:`` citations resolved through the DOI), or the key as written."""
    if cite_key.lower().startswith("doi:"):
        try:
            work = doi_map.get(normalize_doi(cite_key[4:]))
        except InvalidDOIError:
            work = None
        return work.key if work else cite_key
    work = bib_by_key.get(cite_key.lower())
    return work.key if work else cite_key


def _works_named(store, ledger, article, bib) -> tuple[dict[str, Work], dict[str, Work]]:
    """The works the claims and the article's citations name, by lower-cased key, and the works by DOI. Without a
    library read already (``bib``), the named works are read from where the entry map says they sit, so the claims
    of a large library are shown without parsing all of it; a DOI citation, an alias or a key the rows do not know
    (or rows that no longer describe the file) mean the whole library is loaded instead."""
    if bib is None and store.has_entry_map():
        named = {support.key for claim in ledger.values() for support in claim.supports}
        if article is not None:
            named |= {cite.key for cite in article.cites}
            named |= {cite.key for span in article.claims for cite in span.cites}
        if not any(key.lower().startswith("doi:") for key in named):
            found = store.works_by_key(sorted(named)) if named else {}
            if found is not None:
                return {key.lower(): work for key, work in found.items()}, {}
    bib = bib if bib is not None else store.load_bib()
    return bib.key_map(), bib.doi_map()


def support_view(store, support, work: Work | None) -> SupportView:
    if work is None:
        return SupportView(
            support.key,
            support.stance,
            support.passage,
            support.locator,
            support.note,
            support.design or "unknown",
            in_library=False,
        )
    design = support.design or design_of(work).name
    retracted = withdrawal_of(store, work)
    return SupportView(
        support.key,
        support.stance,
        support.passage,
        support.locator,
        support.note,
        design,
        work.title,
        work.first_author,
        work.year,
        work.doi,
        retracted,
        passage_found=_passage_found(support.passage, support.locator, work),
    )


def _passage_found(passage: str, locator: str, work: Work) -> str:
    if not passage:
        return ""
    located = passage_field(locator)
    if located is None:
        return "unverifiable"
    return find_passage(passage, work.get(located[0])) or "not found"


def judge(claim: Claim, views: list[SupportView], where: int | None, file: str) -> tuple[list[Problem], list[str]]:
    """Problems and warnings about one claim's evidence."""
    problems, warnings = [], []
    supporting = [v for v in views if v.stance == "supports" and v.in_library]
    standing = [v for v in supporting if not v.retracted]
    against = [v for v in views if v.stance == "contradicts" and v.in_library and not v.retracted]
    for view in views:
        if not view.in_library:
            problems.append(
                Problem(
                    f"claim #{claim.id} lists '{view.key}', which is not in references.bib",
                    claim.line,
                    view.key,
                    file=LEDGER,
                )
            )
    if not supporting:
        problems.append(Problem(f"claim #{claim.id} has no supporting work", where, claim.id, file=file))
    elif not standing:
        problems.append(
            Problem(
                f"claim #{claim.id} rests only on retracted work "
                f"({', '.join(v.key + ' ' + v.retracted for v in supporting)})",
                where,
                claim.id,
                file=file,
            )
        )
    if against and len(against) >= len(standing):
        problems.append(
            Problem(
                f"claim #{claim.id} is contradicted by {', '.join(v.key for v in against)} "
                f"and not outweighed by supporting work",
                where,
                claim.id,
                file=file,
            )
        )
    for view in views:
        if view.passage_found == "not found":
            where = (passage_field(view.locator) or ("", "work"))[1]
            warnings.append(f"the passage given for {view.key} is not found in its {where}; shown as a paraphrase")
    for view in supporting:
        cue = contradiction_cue(claim.text, view.passage) if view.passage else ""
        if cue:
            warnings.append(
                f"the passage given for {view.key} appears to contradict the claim ({cue}); it is recorded as supports"
            )
    for view in supporting:
        if view.retracted and standing:
            warnings.append(f"{view.key} is {view.retracted}; the claim still has other support")
    if len(standing) == 1:
        warnings.append(f"rests on a single work ({standing[0].key}, {standing[0].design})")
    if standing and all(v.design in WEAK_DESIGNS for v in standing):
        kinds = sorted({_PLURAL.get(v.design, v.design) for v in standing})
        warnings.append("rests only on " + " and ".join(kinds) + "; no trial or systematic review backs it")
    return problems, warnings


def claims_report(
    store, article_text: str | None = None, article_name: str = "", bib=None, article=None
) -> ClaimsReport:
    """The claim map of one article (or of the whole ledger), with its problems. ``bib`` and ``article``: the
    library and the article as a caller (``report``) has already read them."""
    ledger = parse_ledger(store.read_claims_text(), LEDGER)
    problems: list[Problem] = []
    if article is None and article_text is not None:
        article = parse_article(article_text)
    by_key, doi_map = _works_named(store, ledger, article, bib)

    made_anywhere: set[str] = set()
    for name, text in store.article_texts().items():
        if name != article_name:
            made_anywhere.update(span.id for span in parse_article(text).claims)
    shown: list[tuple[Claim, int | None]] = []
    if article is not None:
        made_anywhere.update(span.id for span in article.claims)
        for span in article.claims:
            if not span.id:
                problems.append(Problem("a claim span has no #id, so it cannot be linked to evidence", span.line))
                continue
            claim = ledger.get(span.id)
            if claim is None:
                problems.append(Problem(f"the claim #{span.id} is not in claims.toml", span.line, span.id))
                continue
            shown.append((claim, span.line))
            linked = {s.key.lower() for s in claim.supports}
            for cite in span.cites:
                key = _key_for(cite.key, by_key, doi_map)
                if key.lower() not in linked:
                    problems.append(
                        Problem(
                            f"claim #{span.id} cites {key}, but claims.toml does not link it to that claim",
                            cite.line,
                            key,
                        )
                    )
        backing = {s.key.lower() for claim in ledger.values() for s in claim.supports}
        reported: set[str] = set()
        for cite in article.cites:
            key = _key_for(cite.key, by_key, doi_map)
            if key.lower() not in backing and key.lower() not in reported:
                reported.add(key.lower())
                problems.append(Problem(f"{key} is cited but backs no claim in claims.toml", cite.line, key))
    else:
        shown = [(claim, None) for claim in ledger.values()]
    for claim in ledger.values():
        if claim.id not in made_anywhere:
            problems.append(
                Problem(
                    f"claims.toml has the claim #{claim.id}, which no article makes", claim.line, claim.id, file=LEDGER
                )
            )

    views = []
    for claim, line in shown:
        supports = [support_view(store, s, by_key.get(s.key.lower())) for s in claim.supports]
        claim_problems, warnings = judge(claim, supports, line if line else claim.line, "" if line else LEDGER)
        problems.extend(claim_problems)
        views.append(ClaimView(claim.id, claim.text, line, tuple(supports), tuple(warnings)))
    return ClaimsReport(article_name, tuple(views), tuple(problems))
