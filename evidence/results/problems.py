"""What is wrong in an article or a reference, said with where it is: every result that lists problems uses these."""

from __future__ import annotations

from dataclasses import dataclass


def no_problem(problems) -> bool:
    """Whether none of ``problems`` is a problem (notes do not count): the ``ok`` of every result that lists them."""
    return not any(p.severity == "problem" for p in problems)


@dataclass(frozen=True)
class Problem:
    """Something wrong in an article or a reference, with where it is; ``severity`` 'problem' makes the exit code 1."""

    message: str
    line: int | None = None
    key: str = ""
    severity: str = "problem"  # problem | note
    file: str = ""  # which file ``line`` is in, when it is not the article itself
