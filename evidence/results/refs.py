"""What formatting a reference list and publishing an article return."""

from __future__ import annotations

from dataclasses import dataclass

from evidence.results.problems import Problem, no_problem


@dataclass(frozen=True)
class PublishResult:
    style: str
    style_title: str
    format: str  # docx, html, md or pdf
    keys: tuple[str, ...]  # the works cited, in order of first citation
    replaced_list: bool  # a hand-typed list stood under the References heading (kept in a comment)
    problems: tuple[Problem, ...] = ()
    output: str = ""  # the file written

    @property
    def ok(self) -> bool:
        return no_problem(self.problems)


@dataclass(frozen=True)
class RefsResult:
    style: str
    style_title: str
    format: str
    keys: tuple[str, ...]  # the works listed, in the list's order
    entries: tuple[str, ...]  # one formatted entry per work (text, html or markdown fragment)
    output: str  # the whole list as it would be written
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return no_problem(self.problems)
