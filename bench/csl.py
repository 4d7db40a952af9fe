"""Reference lists against pandoc 3's citeproc: identical entries and time, on 300 real Crossref works.

The works: the Crossref records of ../shared/test-corpora/crossref-works (habanero's and rcrossref's recordings),
one per DOI, sorted by DOI, the first 201 journal articles, 88 book chapters and 11 books that have a title (the mix
issue 20 measured). They are imported into a fresh library through `evidence import`, exported with `evidence export
--format csl-json`, and cited once each, in DOI order, by one Markdown article.

For each style, in one run, side by side:
- `evidence refs ARTICLE --style S` as a whole command in a fresh process (start-up, library, pandoc), through the
  `evidence` script installed beside this Python (run it with the venv's python after `pip install .`),
- the engine alone (``cite.csl.format_list`` in this process: the CSL-JSON handed to pandoc and read back), and
- `pandoc ARTICLE --citeproc --bibliography export.json --csl S.csl --to plain` (the same .csl file);
the share of the 300 entries that are identical after whitespace, Unicode-form and dash normalisation (and
byte-identical without it), and the median of seven timings of each (the two commands taking turns), with their
ratio.

Then the same list from `evidence export --format bibtex` read by pandoc's BibTeX reader against the CSL-JSON one
(entries identical), and the CSL test suite's bibliography fixtures through evidence's engine (tests/csl_suite.py).

Usage: python bench/csl.py [--styles apa,vancouver,ieee,chicago] [--suite/--no-suite]
"""

from __future__ import annotations

import argparse
import compileall
import gzip
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from evidence.cite import csl, pandoc  # noqa: E402

CORPUS = ROOT.parent / "shared" / "test-corpora" / "crossref-works"
SOURCES = [CORPUS / "habanero" / "habanero_works.jsonl.gz", CORPUS / "rcrossref" / "rcrossref_works.jsonl.gz"]
WANTED = {"journal-article": 201, "book-chapter": 88, "book": 11}
BOOKS = {"book", "monograph", "edited-book", "reference-book"}
ROUNDS = 7
# The command as a user runs it: the console script pip installed beside this interpreter (else python -m evidence).
_SCRIPT = Path(sys.executable).with_name("evidence")
EVIDENCE = [str(_SCRIPT)] if _SCRIPT.is_file() else [sys.executable, "-m", "evidence"]
STYLES = {"apa": "apa", "vancouver": "vancouver", "ieee": "ieee", "chicago": "chicago"}


def works() -> list[dict]:
    seen: dict[str, dict] = {}
    for source in SOURCES:
        with gzip.open(source, "rt", encoding="utf-8") as lines:
            for line in lines:
                work = json.loads(line)["work"]
                doi = (work.get("DOI") or "").lower()
                if doi and doi not in seen and work.get("title"):
                    seen[doi] = work
    chosen: list[dict] = []
    taken = dict.fromkeys(WANTED, 0)
    for doi in sorted(seen):
        kind = "book" if seen[doi].get("type") in BOOKS else seen[doi].get("type")
        if kind in WANTED and taken[kind] < WANTED[kind]:
            taken[kind] += 1
            chosen.append(seen[doi])
    return chosen


def evidence(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "evidence", *args], capture_output=True, text=True, check=False)


def run_checked(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1) or not done.stdout:  # 1: refs printed the list and reported gaps
        raise SystemExit(f"{command[:4]} failed: {done.stderr[-500:]}")
    return done.stdout


def side_by_side(commands: list[list[str]], rounds: int = ROUNDS) -> list[tuple[float, str]]:
    """(median seconds, output) of each command, run in turn round after round, so a busy spell of this noisy
    machine falls on every command alike rather than on whichever ran during it."""
    times: list[list[float]] = [[] for _ in commands]
    outputs = [""] * len(commands)
    for _ in range(rounds):
        for index, command in enumerate(commands):
            start = time.perf_counter()
            outputs[index] = run_checked(command)
            times[index].append(time.perf_counter() - start)
    return [(statistics.median(t), out) for t, out in zip(times, outputs, strict=True)]


def normal(entry: str) -> str:
    text = unicodedata.normalize("NFC", " ".join(entry.split()))
    return text.replace("\u2013", "-").replace("\u2014", "-").replace("\u2010", "-")


def last_paragraphs(text: str, count: int) -> list[str]:
    return text.strip().split("\n\n")[-count:]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--styles", default=",".join(STYLES))
    parser.add_argument("--no-suite", action="store_true")
    options = parser.parse_args()
    # As an installed package runs: compiled once (this machine sets PYTHONDONTWRITEBYTECODE, so an editable
    # checkout would otherwise compile every module on every command).
    compileall.compile_dir(str(ROOT / "evidence"), quiet=1)
    chosen = works()
    kinds = {k: sum(1 for w in chosen if ("book" if w.get("type") in BOOKS else w.get("type")) == k) for k in WANTED}
    with tempfile.TemporaryDirectory(prefix="evidence-csl-bench-") as folder:
        root = Path(folder)
        lines = root / "works.jsonl"
        lines.write_text("\n".join(json.dumps(w) for w in chosen), encoding="utf-8")
        library = root / "lib"
        for args in (["init", str(library)], ["--library", str(library), "--offline", "import", str(lines)]):
            done = evidence(*args)
            assert done.returncode == 0, done.stderr
        exported = root / "export.json"
        exported.write_text(evidence("--library", str(library), "export", "--format", "csl-json").stdout)
        items = json.loads(exported.read_text())
        bib = root / "export.bib"
        bib.write_text(evidence("--library", str(library), "export", "--format", "bibtex").stdout)
        article = root / "article.md"
        article.write_text("# Works\n\n" + "\n\n".join(f"Cited [@{item['id']}]." for item in items) + "\n")
        count = len(items)
        print(f"# bench/csl.py, {time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores")
        print(f"works: {count} ({', '.join(f'{n} {k}' for k, n in kinds.items())}); pandoc {pandoc_version()}\n")
        print(
            "| style | identical (normalised) | byte-identical | evidence refs s | pandoc s | ratio | engine s "
            "| ratio |"
        )
        print("|---|---|---|---|---|---|---|---|")
        bib_rows = []
        for alias in options.styles.split(","):
            style = csl.resolve_style(STYLES.get(alias, alias))
            base = [pandoc.executable(), "--citeproc", f"--csl={style.path}", "--to=plain", "--wrap=none"]
            (ours_time, ours), (theirs_time, theirs) = side_by_side(
                [
                    [*EVIDENCE, "--library", str(library), "--offline", "refs", str(article), "--style", style.name],
                    [*base, f"--bibliography={exported}", str(article)],
                ]
            )
            engine_times = []
            for _ in range(3):
                start = time.perf_counter()
                csl.format_list(style, items, [item["id"] for item in items], ("text",))
                engine_times.append(time.perf_counter() - start)
            engine_time = statistics.median(engine_times)
            ours_entries = ours.strip().split("\n\n")
            their_entries = last_paragraphs(theirs, count)
            same = sum(normal(a) == normal(b) for a, b in zip(ours_entries, their_entries, strict=False))
            exact = sum(a == b for a, b in zip(ours_entries, their_entries, strict=False))
            if len(ours_entries) != count:
                print(f"<!-- {alias}: evidence printed {len(ours_entries)} entries for {count} -->")
            print(
                f"| {style.name} | {same}/{count} ({100 * same / count:.1f}%) | {exact}/{count} | {ours_time:.2f} | "
                f"{theirs_time:.2f} | {ours_time / theirs_time:.2f} | {engine_time:.2f} | "
                f"{engine_time / theirs_time:.2f} |"
            )
            from_bib = last_paragraphs(
                subprocess.run([*base, f"--bibliography={bib}", str(article)], capture_output=True, text=True).stdout,
                count,
            )
            differ = [(a, b) for a, b in zip(their_entries, from_bib, strict=False) if normal(a) != normal(b)]
            bib_rows.append((style.name, count - len(differ), differ[:3]))
        print("\npandoc reading `evidence export --format bibtex` against reading the CSL-JSON export:\n")
        for name, same, examples in bib_rows:
            print(f"- {name}: {same}/{count} entries identical")
            for a, b in examples:
                print(f"  - CSL-JSON: {a[:160]}\n    BibTeX:   {b[:160]}")
        biber(bib, library / "references.bib")
    if not options.no_suite:
        suite()


def biber(exported: Path, stored: Path) -> None:
    """biber --validate-datamodel on the export and on the library's own file, warnings counted by kind."""
    import re
    import shutil
    from collections import Counter

    if not shutil.which("biber"):
        print("\nbiber is not installed: no data-model check (Debian: apt-get install biber).")
        return
    print("\nbiber --tool --validate-datamodel, warnings by kind:\n")
    for label, path in (("export", exported), ("library file as stored", stored)):
        done = subprocess.run(
            ["biber", "--tool", "--validate-datamodel", "--output-file", str(path.with_suffix(".out")), str(path)],
            capture_output=True,
            text=True,
            cwd=path.parent,
        )
        kinds = Counter(
            re.sub(r"Entry '[^']*' \([^)]*\): |'[^']*' in entry '[^']*'", "", line.split("WARN - ", 1)[1])
            for line in (done.stdout + done.stderr).splitlines()
            if "WARN - " in line
        )
        print(f"- {label}: {sum(kinds.values())} warnings")
        for kind, n in kinds.most_common():
            print(f"  - {n} {kind}")


def pandoc_version() -> str:
    return subprocess.run([pandoc.executable(), "--version"], capture_output=True, text=True).stdout.split("\n")[0]


def suite() -> None:
    import csl_suite

    names = csl_suite.bibliography_fixtures()
    passed = [name for name in names if (lambda pair: pair[0] == pair[1])(csl_suite.run_fixture(name))]
    print(
        f"\nCSL test suite, bibliography fixtures: {len(passed)}/{len(names)} pass "
        f"({100 * len(passed) / len(names):.1f}%)"
    )


if __name__ == "__main__":
    main()
