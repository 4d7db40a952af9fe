"""An article's report: its claims, checks and list together, and the verdict they add up to."""

from __future__ import annotations

from dataclasses import dataclass

from evidence.results.check import CheckItem
from evidence.results.claims import ClaimsReport, ClaimView
from evidence.results.problems import Problem
from evidence.results.refs import RefsResult

# The check statuses that make a reference a problem of the report (the others: not checked, or it passed).
FAILED_STATUSES = frozenset({"mismatch", "retracted", "not-found", "invalid"})


@dataclass(frozen=True)
class Report:
    article: str
    claims: ClaimsReport
    checks: tuple[CheckItem, ...]
    references: RefsResult
    offline: bool = False
    oldest_record: str = ""
    html_entries: tuple[str, ...] = ()  # the list as HTML fragments, when the report was asked for a page

    @property
    def problems(self) -> tuple[Problem, ...]:
        found = list(self.claims.problems) + list(self.references.problems)
        for check in self.checks:
            if check.status in FAILED_STATUSES:
                what = check.key or check.doi or check.cited[:60]
                found.append(Problem(f"{what}: " + "; ".join(check.details or (check.status,)), check.line, check.key))
        return tuple(p for p in found if p.severity == "problem")

    @property
    def unchecked(self) -> tuple[CheckItem, ...]:
        return tuple(check for check in self.checks if not check.checked)

    @property
    def weak_claims(self) -> tuple[ClaimView, ...]:
        return tuple(
            claim for claim in self.claims.claims if any(w.startswith("rests only on") for w in claim.warnings)
        )

    @property
    def verdict(self) -> str:
        """'problems', 'not checked', 'weak evidence' or 'ready'; ready only when every reference was checked
        against a record and passed, and every claim is backed by more than narrative reviews."""
        if self.problems:
            return "problems"
        if self.unchecked or not self.checks:
            return "not checked"
        if self.weak_claims:
            return "weak evidence"
        return "ready"

    @property
    def verdict_line(self) -> str:
        """The verdict with what it rests on, in the words the terminal and the HTML banner both use."""
        verdict = self.verdict
        if verdict == "problems":
            count = len(self.problems)
            return f"problems ({count} {'problem' if count == 1 else 'problems'})"
        if verdict == "not checked":
            if not self.checks:
                return "not checked (the article cites no references)"
            reasons: dict[str, int] = {}
            for check in self.unchecked:
                reasons[_unchecked_reason(check)] = reasons.get(_unchecked_reason(check), 0) + 1
            why = "; ".join(f"{n} of {len(self.checks)} references {reason}" for reason, n in reasons.items())
            return f"not checked ({why})"
        if verdict == "weak evidence":
            count = len(self.weak_claims)
            return f"weak evidence ({count} {'claim rests' if count == 1 else 'claims rest'} only on weak designs)"
        return f"ready (all {len(self.checks)} references checked, every claim backed)"

    @property
    def ok(self) -> bool:
        return not self.problems


def _unchecked_reason(check: CheckItem) -> str:
    if check.status == "not-checked" and not check.doi:
        return "have no DOI and match no work"
    if check.status == "not-checked":
        return "have no stored record"
    return f"could not be checked ({check.status})"
