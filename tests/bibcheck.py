"""Read a references.bib with two independent parsers and check that they agree on every entry and field."""

from __future__ import annotations

import re
from pathlib import Path

import bibtexparser
from pybtex.database import Person, parse_string


def _flat(value: str) -> str:
    """Compare values the way both parsers can agree on: no braces, single spaces."""
    return re.sub(r"\s+", " ", value.replace("{", "").replace("}", "")).strip()


def read_both(path: Path) -> dict[str, dict[str, str]]:
    """Entries by key with flattened field values, after asserting bibtexparser and pybtex read the same thing."""
    text = Path(path).read_text(encoding="utf-8")
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks, f"bibtexparser could not read {len(library.failed_blocks)} block(s) of {path}"
    ours = {}
    for entry in library.entries:
        ours[entry.key] = {f.key.lower(): _flat(str(f.value)) for f in entry.fields}
    theirs = parse_string(text, "bibtex")
    assert set(theirs.entries) == set(ours), "the two parsers found different keys"
    for key, entry in theirs.entries.items():
        fields = {name.lower(): _flat(value) for name, value in entry.fields.items()}
        for role, people in entry.persons.items():
            fields[role.lower()] = _flat(" and ".join(str(p) for p in people))
        mine = ours[key]
        for name, value in fields.items():
            if name in ("author", "editor"):
                assert _names(mine[name]) == _names(value), f"{key}.{name} differs between the parsers"
            elif name == "month":
                continue  # pybtex expands month macros to names; bibtexparser keeps the macro
            else:
                assert mine[name] == value, f"{key}.{name} differs: {mine[name]!r} vs {value!r}"
    return ours


def _names(value: str) -> list[str]:
    """Each name in pybtex's canonical 'Last, First' form, whichever order it was written in."""
    return [str(Person(part)) for part in re.split(r"\s+and\s+", value)]
