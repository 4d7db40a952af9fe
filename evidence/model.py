"""The data every layer passes around: frozen dataclasses, no behaviour that touches disk or network."""

from __future__ import annotations

from dataclasses import dataclass

STANCES = ("supports", "contradicts", "background")  # what a work can say of a claim
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


@dataclass(frozen=True)
class Person:
    """One author or editor. Organisations have only ``literal``."""

    family: str = ""
    given: str = ""
    suffix: str = ""
    literal: str = ""

    @property
    def display(self) -> str:
        if self.literal:
            return self.literal
        name = f"{self.family}, {self.given}" if self.given else self.family
        return f"{name}, {self.suffix}" if self.suffix else name


@dataclass(frozen=True)
class Work:
    """One entry of references.bib.

    ``fields`` holds each value exactly as it stands after ``=`` in the file (delimiters included), so a rewrite never
    changes what the user wrote; ``text`` holds the same values as plain Unicode, for display, search and comparison.
    """

    key: str
    entry_type: str
    fields: dict[str, str]
    text: dict[str, str]

    def get(self, name: str) -> str:
        return self.text.get(name, "")

    @property
    def doi(self) -> str:
        return self.text.get("doi", "").lower()

    @property
    def title(self) -> str:
        return self.get("title")

    @property
    def container(self) -> str:
        return self.get("journal") or self.get("booktitle") or self.get("publisher")

    @property
    def year(self) -> str:
        return self.get("year")

    @property
    def authors(self) -> list[Person]:
        return parse_names(self.get("author"))

    @property
    def aliases(self) -> list[str]:
        """Other keys the work answers to (biblatex's ``ids``): keys of duplicates merged into it on import."""
        return [alias.strip() for alias in self.get("ids").split(",") if alias.strip()]

    @property
    def first_author(self) -> str:
        people = self.authors
        if not people:
            return ""
        first = people[0]
        return first.literal or first.family


def split_names(value: str) -> list[str]:
    """Split a BibTeX name list on ' and ' outside braces."""
    parts, depth, start, i = [], 0, 0, 0
    lowered = value.lower()
    while i < len(value):
        char = value[i]
        if char == "{":
            depth += 1
        elif char == "}":
            depth = max(0, depth - 1)
        elif depth == 0 and lowered.startswith(" and ", i):
            parts.append(value[start:i])
            i += 5
            start = i
            continue
        i += 1
    parts.append(value[start:])
    return [p.strip() for p in parts if p.strip()]


def _split_commas(name: str) -> list[str]:
    parts, depth, current = [], 0, []
    for char in name:
        if char == "{":
            depth += 1
        elif char == "}":
            depth = max(0, depth - 1)
        if char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return parts


def parse_name(name: str) -> Person:
    """Parse one BibTeX name: ``{Org}``, ``Family, Given``, ``Family, Jr, Given`` or ``Given von Family``."""
    name = name.strip()
    if name.startswith("{") and name.endswith("}") and name.count("{") == 1:
        return Person(literal=name[1:-1].strip())
    parts = _split_commas(name)
    strip = lambda s: s.replace("{", "").replace("}", "").strip()  # noqa: E731
    if len(parts) >= 3:
        return Person(family=strip(parts[0]), suffix=strip(parts[1]), given=strip(", ".join(parts[2:])))
    if len(parts) == 2:
        return Person(family=strip(parts[0]), given=strip(parts[1]))
    words = name.split()
    if len(words) == 1:
        return Person(family=strip(words[0]))
    # "Given von Family": the family name starts at the first lower-case word (a particle) or is the last word.
    for index, word in enumerate(words[:-1]):
        if index > 0 and word[:1].islower():
            return Person(family=strip(" ".join(words[index:])), given=strip(" ".join(words[:index])))
    return Person(family=strip(words[-1]), given=strip(" ".join(words[:-1])))


def _name_text(text: str) -> str:
    """Name text on one line, without control characters, braces or backslashes (BibTeX's syntax)."""
    return " ".join("".join(c for c in text if c.isprintable() and c not in "{}\\").split())


def _name_part(text: str) -> str:
    """One part of a name as the name-list convention writes it: one line, no braces or backslashes (BibTeX's
    syntax: a brace inside a name could not be told from the convention's grouping), braced when a comma or
    ' and ' inside it would otherwise split it ('{Smith, Jr}', '{Johnson and Johnson}')."""
    text = _name_text(text)
    return "{" + text + "}" if "," in text or " and " in f" {text.lower()} " else text


def format_name(person: Person) -> str:
    """The inverse of ``parse_name``: ``Family, Given``, ``Family, Suffix, Given`` or ``{Organisation}``."""
    if person.literal and not person.family:
        literal = _name_text(person.literal)
        return "{" + literal + "}" if literal else ""
    family, given, suffix = _name_part(person.family), _name_part(person.given), _name_part(person.suffix)
    if not family:
        return "{" + given.strip("{}") + "}" if given else ""
    if suffix:
        return f"{family}, {suffix}, {given}" if given else f"{family}, {suffix},"
    if given:
        return f"{family}, {given}"
    return f"{family}," if " " in family else family  # 'van Gogh,': without the comma 'van' would be a given name


def format_names(people: list[Person]) -> str:
    """A name list (``A and B``) that ``parse_names`` reads back as the same people, whatever characters they hold."""
    return " and ".join(filter(None, (format_name(person) for person in people)))


def parse_names(value: str) -> list[Person]:
    """All people in a BibTeX name list; ``and others`` becomes a Person with literal 'others'."""
    return [parse_name(part) for part in split_names(value)] if value else []
