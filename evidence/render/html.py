"""The report as one self-contained HTML page: no external assets, no scripts, printable.

Every value from the library or the article is escaped here; the reference entries come from citeproc already
escaped (refs formats them as HTML fragments with DOI links).
"""

from __future__ import annotations

from html import escape

from evidence.links import doi_link
from evidence.render.text import passage_text

_CSS = """
body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
h1{font-size:1.6rem}h2{margin-top:2rem;border-bottom:1px solid #ccc}
.verdict{padding:.6rem 1rem;border-radius:.4rem;font-weight:600}
.ok{background:#e3f4e6;color:#14532d}.bad{background:#fde8e8;color:#7f1d1d}.warn{color:#92400e}
.warn-box{background:#fef3c7;color:#92400e}
.card{border:1px solid #ddd;border-radius:.5rem;padding:.8rem 1rem;margin:1rem 0;break-inside:avoid}
.card h3{margin:.2rem 0 .6rem;font-size:1.05rem}.support{margin:.4rem 0 .4rem 1rem}
.stance{display:inline-block;min-width:6.5rem;font-weight:600}.supports{color:#166534}
.contradicts{color:#991b1b}.background{color:#6b7280}.passage{font-style:italic;margin-left:7rem}
table{border-collapse:collapse;width:100%;table-layout:fixed}
td,th{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;overflow-wrap:anywhere;font-size:.9rem}
.status-ok{color:#166534}.status-mismatch,.status-retracted{color:#991b1b;font-weight:600}
.status-not-checked,.status-unreachable{color:#92400e}.csl-entry{margin:.5rem 0;padding-left:2rem;text-indent:-2rem}
.csl-entry:has(.csl-left-margin){padding-left:0;text-indent:0;display:flex}.csl-left-margin{flex:0 0 2.4rem}
@media print{body{margin:0;max-width:none}.card{border-color:#999}}
"""


def report_page(result, entries_html: list[str]) -> str:
    problems = result.problems
    # The banner says what the terminal says, in the same colours: green only for ready.
    tone = {"ready": "ok", "not checked": "warn-box", "weak evidence": "warn-box"}.get(result.verdict, "bad")
    line = result.verdict_line
    verdict = f'<p class="verdict {tone}">{escape(result.article)}: {escape(line)}</p>'
    parts = [
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Evidence report: {escape(result.article)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Evidence report: {escape(result.article)}</h1>",
        verdict,
    ]
    if problems:
        parts.append(
            "<ul>"
            + "".join(
                f"<li>{escape(p.file or result.article)}{':' + str(p.line) if p.line else ''}: {escape(p.message)}</li>"
                for p in problems
            )
            + "</ul>"
        )
    parts.append("<h2>Claims</h2>")
    keys: list[str] = []
    for claim in result.claims.claims:
        parts.append(
            f'<section class="card" id="claim-{escape(claim.id)}"><h3>#{escape(claim.id)}: {escape(claim.text)}</h3>'
        )
        for view in claim.supports:
            if view.key not in keys:
                keys.append(view.key)
            who = escape(f"{view.first_author} {view.year}".strip())
            flag = f' <strong class="status-retracted">{escape(view.retracted)}</strong>' if view.retracted else ""
            parts.append(
                f'<div class="support"><span class="stance {escape(view.stance)}">{escape(view.stance)}'
                f"</span> <strong>{escape(view.key)}</strong> {who}, {escape(view.design)}{flag}"
            )
            if view.passage:
                parts.append(f'<div class="passage">{escape(passage_text(view))}</div>')
            parts.append("</div>")
        for warning in claim.warnings:
            parts.append(f'<p class="warn">Warning: {escape(warning)}</p>')
        parts.append("</section>")
    parts.append(
        "<h2>Evidence table</h2><table><tr><th>Claim</th>" + "".join(f"<th>{escape(k)}</th>" for k in keys) + "</tr>"
    )
    for claim in result.claims.claims:
        stances = {v.key: v.stance for v in claim.supports}
        parts.append(
            f"<tr><th>#{escape(claim.id)}</th>"
            + "".join(f'<td class="{escape(stances.get(k, ""))}">{escape(stances.get(k, ""))}</td>' for k in keys)
            + "</tr>"
        )
    parts.append(
        "</table><h2>Reference checks</h2><table><tr><th>Work</th><th>DOI</th><th>Status</th><th>Details</th></tr>"
    )
    for check in result.checks:
        href = doi_link(check.doi)
        link = f'<a href="{escape(href)}">{escape(check.doi)}</a>' if href else escape(check.doi)
        label = check.key or (f"line {check.line}" if check.line else "")
        parts.append(
            f'<tr><td>{escape(label)}</td><td>{link}</td><td class="status-{escape(check.status)}">'
            f"{escape(check.status)}</td><td>{escape('; '.join(check.details))}</td></tr>"
        )
    parts.append(f"</table><h2>References ({escape(result.references.style_title)})</h2>")
    parts.append(
        '<div class="csl-bib-body">'
        + "".join(f'<div class="csl-entry">{e}</div>' for e in entries_html)
        + "</div></body></html>\n"
    )
    return "\n".join(parts)
