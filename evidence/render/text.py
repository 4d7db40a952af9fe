"""Turn service results into terminal text (rich) or JSON. Decides nothing: every choice was made upstream.

Terminal output goes through one rich Console so colours switch off by themselves when stdout is not a terminal
(pipes, CI logs) or NO_COLOR is set. JSON output is plain ``json.dumps`` of the same dataclasses, sorted keys, UTF-8.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import sys
from typing import TYPE_CHECKING

from evidence.controls import TERMINAL_UNSAFE, terminal_safe

if TYPE_CHECKING:  # rich and the results are imported where used: a command that prints none starts faster
    from rich.console import Console

    from evidence.results.works import AddReport, EnrichReport, ImportReport, SearchHit, WorkView

_STATUS_STYLE = {
    "added": "green",
    "present": "cyan",
    "not-found": "red",
    "invalid": "red",
    "unreachable": "yellow",
    "other-agency": "yellow",
    "bad-answer": "red",
    "updated": "magenta",
}
_MARK = re.compile(r"\*\*(.+?)\*\*")
_JSON_ESCAPES = {code: f"\\u{code:04x}" for code in TERMINAL_UNSAFE}


def escape(text) -> str:
    """Metadata as rich markup that prints exactly as written: no markup, no control characters."""
    from rich.markup import escape as escape_markup

    return escape_markup(terminal_safe(str(text)))


def console(stderr: bool = False) -> Console:
    return _console_class()(file=sys.stderr if stderr else sys.stdout, highlight=False, soft_wrap=True)


@functools.cache
def _console_class() -> type:
    """rich's console, leaving a closed pipe (``evidence report ... | head``) to the CLI, which ends quietly with
    exit 0, instead of rich's own exit 1."""
    from rich.console import Console

    class QuietOnBrokenPipe(Console):
        def on_broken_pipe(self) -> None:
            raise BrokenPipeError

    return QuietOnBrokenPipe


def to_jsonable(value):  # noqa: D103 - dataclasses, tuples and dicts become plain JSON types
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    return value


def print_json(value) -> None:
    """JSON in UTF-8; characters a terminal would obey are written as \\u escapes (the value is unchanged)."""
    text = json.dumps(to_jsonable(value), ensure_ascii=False, indent=2, sort_keys=True)
    sys.stdout.write(text.translate(_JSON_ESCAPES) + "\n")


def passage_text(view) -> str:
    """A support's passage as a quote only when the work says it; otherwise as what it is, a paraphrase."""
    where = view.locator or "unlocated"
    if view.passage_found == "exact":
        return f"“{view.passage}” ({where})"
    if view.passage_found == "close":
        return f"“{view.passage}” ({where}, close to the wording)"
    return f"paraphrase: {view.passage} ({where})"


def _highlight(passage: str, out: Console) -> str:
    """``**term**`` marks become bold colour in a terminal and stay as asterisks in pipes and logs."""
    if not out.is_terminal or out.no_color:
        return escape(passage)
    parts, last = [], 0
    for match in _MARK.finditer(passage):
        parts.append(escape(passage[last : match.start()]))
        parts.append(f"[bold yellow]{escape(match.group(1))}[/]")
        last = match.end()
    parts.append(escape(passage[last:]))
    return "".join(parts)


# ---------------------------------------------------------------------------------------------------------------------


def init_result(path: str, created: bool, out: Console) -> None:
    verb = "Created" if created else "Checked"
    out.print(f"{verb} the library at {escape(path)}.")


def add_report(report: AddReport, out: Console) -> None:
    for outcome in report.outcomes:
        style = _STATUS_STYLE.get(outcome.status, "")
        label = f"[{style}]{outcome.status:<12}[/]" if style else f"{outcome.status:<12}"
        line = f"{label} {escape(outcome.doi)}"
        if outcome.key:
            line += f"  [bold]{escape(outcome.key)}[/]"
        if outcome.status == "added" and outcome.title:
            line += f"  {escape(_shorten(outcome.title, 70))}"
            if outcome.message:
                line += f"  ({escape(outcome.message)})"
        elif outcome.message and (outcome.status != "present" or "record" in outcome.message):
            line += f"  ({escape(outcome.message)})"
        out.print(line)
    out.print(escape(add_summary(report)))
    enrich_lines(report.enriched, out)


def add_summary(report: AddReport) -> str:
    """The line ``add`` ends with (the web app's add page ends with it too): each outcome counted, and the cost."""
    counts = [f"{report.count(s)} {s}" for s in _STATUS_STYLE if report.count(s)]
    summary = ", ".join(counts) or "nothing to do"
    extra = f"; {report.requests} requests to Crossref" if report.requests else ""
    if report.rate_limited:
        extra += f", {report.rate_limited} slowed down by rate limits"
    return f"{summary}{extra}."


def enrich_lines(outcomes, out: Console) -> None:
    for outcome in outcomes:
        if outcome.filled:
            said = ", ".join(f"{name} from {source}" for name, source in outcome.filled)
            out.print(f"[green]{'enriched':<12}[/] [bold]{escape(outcome.key)}[/]  {escape(said)}")


def enrich_report(report: EnrichReport, out: Console) -> None:
    enrich_lines(report.outcomes, out)
    out.print(escape(enrich_summary(report)))


def enrich_summary(report: EnrichReport) -> str:
    """The line ``enrich`` ends with (the web app's page of an enrich ends with it too)."""
    asked = f"; {report.requests} requests" if report.requests else "; nothing asked"
    return f"{report.filled} of {len(report.outcomes)} works enriched{asked}."


def import_report(report: ImportReport, source: str, out: Console) -> None:
    out.print(
        f"Imported {len(report.added)} works from {escape(source)}"
        + (f"; {len(report.present)} were already in the library" if report.present else "")
        + "."
    )
    for key in report.added:
        out.print(f"  [green]added[/]   {escape(key)}")
    for key in report.present:
        out.print(f"  [cyan]present[/] {escape(key)}")


def search_hits(hits: list[SearchHit], query: str, out: Console) -> None:
    if not hits:
        out.print(f"No work in the library matches {escape(query)!r}.")
        return
    for rank, hit in enumerate(hits, 1):
        who = f"{hit.first_author} {hit.year}".strip() or "anonymous"
        out.print(f"[bold]{rank}. {escape(hit.key)}[/]  {escape(who)}  [dim]score {hit.score:.2f}[/]")
        out.print(f"   {escape(hit.title)}")
        if hit.snippet:
            out.print(f"   [italic]{_highlight(hit.snippet, out)}[/]")
        if hit.doi:
            out.print(f"   [dim]https://doi.org/{escape(hit.doi)}[/]")


def work_detail(view: WorkView, out: Console) -> None:
    out.print(f"[bold]{escape(view.key)}[/]  ({escape(view.type)})")
    width = max((len(name) for name in view.fields), default=0)
    for name, value in view.fields.items():
        shown = value if name in ("abstract", "annotation") else " ".join(value.split())
        out.print(f"  [cyan]{name:<{width}}[/]  {escape(shown)}")
    out.print(f"  [cyan]{'design':<{width}}[/]  {escape(view.design)} (from the {escape(view.design_source)})")


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


_STANCE_STYLE = {"supports": "green", "contradicts": "red", "background": "dim"}


def problem_lines(problems, article_name: str, out: Console) -> None:
    """Each problem as 'file:line: message.', the way compilers and linters print them."""
    for problem in problems:
        where = problem.file or article_name or "library"
        prefix = f"{where}:{problem.line}" if problem.line else where
        style = "yellow" if problem.severity == "note" else "red"
        label = "note" if problem.severity == "note" else "problem"
        out.print(f"[{style}]{label}[/] {escape(prefix)}: {escape(problem.message)}.")


def claims_report(report, out: Console) -> None:
    for claim in report.claims:
        where = f"  [dim](line {claim.line})[/]" if claim.line else ""
        out.print(f"[bold]#{escape(claim.id)}[/]{where}  {escape(claim.text)}")
        for view in claim.supports:
            style = _STANCE_STYLE.get(view.stance, "")
            who = f"{view.first_author} {view.year}".strip()
            flag = f" [bold red]{view.retracted.upper()}[/]" if view.retracted else ""
            out.print(
                f"  [{style}]{view.stance:<11}[/] [bold]{escape(view.key)}[/]  {escape(who)} · "
                f"{escape(view.design)}{flag}"
            )
            if view.passage:
                out.print(f"              {escape(passage_text(view))}")
            if view.note:
                out.print(f"              [italic]note: {escape(view.note)}[/]")
        for warning in claim.warnings:
            out.print(f"  [yellow]warning[/] {escape(warning)}")
        out.print()
    problem_lines(report.problems, report.article, out)
    count = sum(1 for p in report.problems if p.severity == "problem")
    warnings = sum(len(c.warnings) for c in report.claims)
    verdict = "[green]every claim is linked to evidence[/]" if not count else f"[red]{count} problems[/]"
    out.print(f"{len(report.claims)} claims: {verdict}, {warnings} warnings on the strength of the evidence.")


def suggestions(hits, claim: str, out: Console) -> None:
    if not hits:
        out.print(f"No work in the library shares words with {escape(claim)!r}.")
        return
    for rank, hit in enumerate(hits, 1):
        who = f"{hit.first_author} {hit.year}".strip() or "anonymous"
        out.print(f"[bold]{rank}. {escape(hit.key)}[/]  {escape(who)} · {escape(hit.design)}  [dim]{hit.score:.2f}[/]")
        out.print(f"   {escape(hit.title)}")
        if hit.passage:
            how = ", closest in meaning" if hit.passage_by == "meaning" else ""
            where = f"  [dim]({escape(hit.passage_source)}{how})[/]" if hit.passage_source else ""
            out.print(f"   [italic]{_highlight(hit.passage, out)}[/]{where}")
        if hit.stance_hint == "contradicts":
            out.print(f"   [yellow]may contradict the claim[/] [dim]({escape(hit.stance_cue)})[/]")


_CHECK_STYLE = {
    "ok": "green",
    "mismatch": "red",
    "retracted": "bold red",
    "not-found": "red",
    "invalid": "red",
    "bad-answer": "red",
    "unreachable": "yellow",
    "not-checked": "yellow",
    "other-agency": "cyan",
}
VERDICT_STYLE = {"ready": "bold green", "not checked": "bold yellow", "weak evidence": "bold yellow"}


def _age_line(oldest: str, offline: bool) -> str:
    """How old the stored records behind the checks are: offline, nothing fresher could be had."""
    if not oldest:
        return ""
    from datetime import UTC, date, datetime

    try:
        days = (datetime.now(UTC).date() - date.fromisoformat(oldest)).days
    except ValueError:
        return ""
    where = "offline: " if offline else ""
    return f"{where}checked against stored records; the oldest was fetched {oldest} ({days} days ago)."


def report(result, out: Console) -> None:
    style = VERDICT_STYLE.get(result.verdict, "bold red")
    out.print(f"[{style}]{escape(result.article)}: {escape(result.verdict_line)}[/]")
    out.print()
    out.print("[bold underline]Claims and their evidence[/]")
    claims_report(result.claims, out)
    out.print()
    out.print("[bold underline]References[/]")
    for check in result.checks:
        colour = _CHECK_STYLE.get(check.status, "")
        detail = f"  {escape('; '.join(check.details))}" if check.details else ""
        label = check.key or (f"line {check.line}" if check.line else "")
        out.print(f"  [{colour}]{check.status:<12}[/] {escape(label)}  {escape(check.doi)}{detail}")
    unchecked = result.unchecked
    if unchecked:
        why = "offline" if result.offline else "no record could be had"
        out.print(
            f"  [yellow]{len(unchecked)} not checked against Crossref ({why}): DOI resolution, metadata and "
            "retraction checks need a record; run 'evidence add' online to fetch them.[/]"
        )
    age = _age_line(result.oldest_record, result.offline)
    if age:
        out.print(f"  {escape(age)}")
    out.print()
    out.print(f"[bold underline]Reference list[/] ({escape(result.references.style_title)})")
    problem_lines(result.references.problems, result.article, out)
    out.print(escape(result.references.output.rstrip()))


def check_report(result, out: Console) -> None:
    for item in result.references:
        where = f"{result.source}:{item.line}  " if item.line else (f"{item.key}  " if item.key else "")
        colour = _CHECK_STYLE.get(item.status, "")
        out.print(f"[{colour}]{item.status:<12}[/] {escape(where)}{escape(item.doi)}")
        for detail in item.details:
            out.print(f"             {escape(detail)}")
        if item.suggested_doi and item.status != "ok":
            out.print(
                f"             [bold]did you mean {escape(item.suggested_doi)}?[/] "
                f"(agrees on {escape(', '.join(item.suggestion_agrees))})"
            )
    counts = ", ".join(f"{n} {status}" for status, n in result.summary.items())
    out.print(counts + "." if counts else "No reference or DOI to check.")
    age = _age_line(result.oldest_record, result.offline)
    if age:
        out.print(escape(age))
