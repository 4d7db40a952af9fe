"""Reading an article: its Pandoc citations, bare DOIs, claim spans and reference-list section, with line numbers.

Pure text in, dataclasses out. Follows Pandoc's citation syntax (``[@key]``, ``[see @a, p. 4; @b]``, ``@key`` in
running text, ``[-@key]``) and adds ``@doi:10.x/y`` for works not yet in the library. Fenced code blocks, inline
code and YAML front matter are skipped, and so is the list evidence generated itself (between its markers), so a
regenerated list never feeds on the previous one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from evidence.doi import find_dois, normalize_doi
from evidence.errors import InvalidDOIError

BEGIN_MARK = "<!-- evidence:references -->"
END_MARK = "<!-- /evidence:references -->"

# A Pandoc key starts with a letter, digit or _, and may hold internal punctuation. @doi: keys may also hold
# brackets and slashes (DOIs do), so they get their own pattern.
DOI_KEY = r"doi:10\.\d{4,9}(?:\.\d+)*/[^\s;\]\[,]+(?:\[[^\s\]]*\][^\s;\]\[,]*)*"
_PLAIN_KEY = r"[\w][\w:.#$%&\-+?<>~/]*"
# A braced key ('@{Smith 2020}') holds no brace or '@': otherwise '@{@{@{...' is rescanned from every '@'.
_CITE = re.compile(rf"(?<![\w@])(-?)@(?:\{{([^{{}}@\n]+)\}}|({DOI_KEY})|({_PLAIN_KEY}))")
_BRACKETED = re.compile(r"\[([^\[\]]*@[^\[\]]*)\](?!\()")
# Attributes hold no brace or bracket, so an unclosed '{' is not rescanned from every later '[x]{'.
_CLAIM = re.compile(r"\[((?:[^\[\]]|\[[^\[\]]*\])+)\]\{([^{}\[\]]*\.claim[^{}\[\]]*)\}")
_CLAIM_ID = re.compile(r"#([\w:.\-]+)")
# The one rule for a References heading, for reading citations and for reading the written list: a Markdown heading
# or a line of its own, with an optional colon.
_REFERENCES_HEADING = re.compile(
    r"\s*(?:#{1,6}\s*)?(?:references|bibliography|works cited|reference list|literature cited|literature|sources)"
    r"\s*:?\s*#*\s*",
    re.I,
)


def is_references_heading(line: str) -> bool:
    return bool(_REFERENCES_HEADING.fullmatch(line))


_INLINE_CODE = re.compile(r"`[^`]*`")
_EMAIL_LIKE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


@dataclass(frozen=True)
class Cite:
    """One citation of one work: the key as written (``doi:10.x/y`` for a DOI), where, and its locator."""

    key: str
    line: int
    locator: str = ""
    in_text: bool = False

    @property
    def doi(self) -> str:
        """The normalised DOI of a ``@doi:`` citation, or ''."""
        if not self.key.lower().startswith("doi:"):
            return ""
        try:
            return normalize_doi(self.key[4:])
        except InvalidDOIError:
            return ""


@dataclass(frozen=True)
class ClaimSpan:
    """A claim marked in the article, with the citations inside it or right after it."""

    id: str
    text: str
    line: int
    cites: tuple[Cite, ...] = ()


@dataclass(frozen=True)
class Article:
    text: str
    cites: tuple[Cite, ...]
    bare_dois: tuple[tuple[str, int], ...]  # (doi, line) for DOIs written outside citations
    claims: tuple[ClaimSpan, ...]
    references_heading: int | None = None  # line of the References heading, if there is one
    generated: tuple[int, int] | None = None  # first and last line of the list evidence generated, if any

    def cited_in_order(self) -> list[str]:
        """Keys (and doi: keys) in order of first citation, each once; bare DOIs follow as doi: keys."""
        seen: dict[str, None] = {}
        for cite in self.cites:
            seen.setdefault(cite.key, None)
        for doi, _line in self.bare_dois:
            seen.setdefault(f"doi:{doi}", None)
        return list(seen)


def _skipped_lines(lines: list[str]) -> set[int]:
    """0-based lines to ignore: YAML front matter, fenced code, HTML comments over several lines, and the previously
    generated reference list."""
    skip: set[int] = set()
    if lines and lines[0].strip() == "---":
        for number in range(1, len(lines)):
            if lines[number].strip() in ("---", "..."):
                skip.update(range(0, number + 1))
                break
    fence = None
    inside_generated = False
    inside_comment = False
    for number, line in enumerate(lines):
        stripped = line.strip()
        if inside_comment:  # an HTML comment (a list refs --insert replaced, a note to self) is never read
            skip.add(number)
            inside_comment = "-->" not in stripped
            continue
        if fence is None and stripped.startswith("<!--") and "-->" not in stripped:
            skip.add(number)
            inside_comment = True
            continue
        if fence is None and (stripped.startswith("```") or stripped.startswith("~~~")):
            fence = stripped[:3]
            skip.add(number)
            continue
        if fence is not None:
            skip.add(number)
            if stripped.startswith(fence):
                fence = None
            continue
        if stripped == BEGIN_MARK:
            inside_generated = True
        if inside_generated:
            skip.add(number)
        if stripped == END_MARK:
            inside_generated = False
    return skip


def _cites_in(fragment: str, line: int) -> list[Cite]:
    """Citations in a piece of one line, in order: bracketed groups, and in-text @keys outside them."""
    found: list[tuple[int, Cite]] = []
    taken: list[tuple[int, int]] = []
    for group in _BRACKETED.finditer(fragment):
        offset = group.start(1)
        for part in group.group(1).split(";"):
            match = _CITE.search(part)
            if match:
                locator = part[match.end() :].strip().lstrip(",").strip()
                found.append((offset + match.start(), Cite(key=_key_of(match), line=line, locator=locator)))
            offset += len(part) + 1
        taken.append(group.span())
    for match in _CITE.finditer(fragment):
        if any(start <= match.start() < end for start, end in taken) or _inside_email(fragment, match.start()):
            continue
        found.append((match.start(), Cite(key=_key_of(match), line=line, in_text=True)))
    return [cite for _position, cite in sorted(found, key=lambda pair: pair[0])]


def _inside_email(text: str, at: int) -> bool:
    return any(m.start() < at < m.end() for m in _EMAIL_LIKE.finditer(text))


def _key_of(match: re.Match) -> str:
    key = match.group(2) or match.group(3) or match.group(4) or ""
    if key.lower().startswith("doi:"):
        return "doi:" + key[4:].rstrip(".,;:")
    return key.rstrip(".,;:?")


def parse_article(text: str) -> Article:
    """Everything evidence needs from an article, in order of appearance."""
    lines = text.splitlines()
    skip = _skipped_lines(lines)
    cites: list[Cite] = []
    bare: dict[str, int] = {}
    references_heading = None
    generated_start = generated_end = None
    for number, line in enumerate(lines):
        if line.strip() == BEGIN_MARK:
            generated_start = number + 1
        if line.strip() == END_MARK:
            generated_end = number + 1
        if number in skip:
            continue
        if is_references_heading(line):
            references_heading = number + 1
        visible = _INLINE_CODE.sub(lambda m: " " * len(m.group(0)), line)
        line_cites = _cites_in(visible, number + 1)
        cites.extend(line_cites)
        without_cites = _CITE.sub(" ", visible)
        for doi in find_dois(without_cites):
            bare.setdefault(doi, number + 1)
    claims = _claims(lines, skip)
    cited_dois = {cite.doi for cite in cites if cite.doi}
    generated = (generated_start, generated_end) if generated_start and generated_end else None
    return Article(
        text=text,
        cites=tuple(cites),
        bare_dois=tuple((doi, line) for doi, line in bare.items() if doi not in cited_dois),
        claims=tuple(claims),
        references_heading=references_heading,
        generated=generated,
    )


def _claims(lines: list[str], skip: set[int]) -> list[ClaimSpan]:
    """Claim spans (which may wrap over lines) and the citations inside them or directly after the closing brace."""
    kept = [("" if number in skip else line) for number, line in enumerate(lines)]
    text = "\n".join(kept)
    starts = [0]
    for line in kept:
        starts.append(starts[-1] + len(line) + 1)

    def line_of(offset: int) -> int:
        low, high = 0, len(starts) - 1
        while low < high:
            middle = (low + high + 1) // 2
            if starts[middle] <= offset:
                low = middle
            else:
                high = middle - 1
        return low + 1

    claims = []
    for match in _CLAIM.finditer(text):
        attributes = match.group(2)
        found = _CLAIM_ID.search(attributes)
        claim_id = found.group(1) if found else ""
        inner = match.group(1)
        cites = []
        first_line = line_of(match.start(1))
        for offset, piece in enumerate(inner.split("\n")):
            cites.extend(_cites_in(piece, first_line + offset))
        trailing = re.match(r"[ \t]*\n?[ \t]*(\[[^\[\]]*@[^\[\]]*\])", text[match.end() : match.end() + 400])
        if trailing:
            cites.extend(_cites_in(trailing.group(1), line_of(match.end() + trailing.start(1))))
        words = " ".join(re.sub(r"\[[^\[\]]*@[^\[\]]*\]", "", inner).split())
        claims.append(ClaimSpan(id=claim_id, text=words, line=line_of(match.start()), cites=tuple(cites)))
    return claims
