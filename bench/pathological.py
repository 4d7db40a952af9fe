"""Time per KB of reading hostile input: articles, reference lists and Crossref markup built to trip regexes.

Each input is one short unit repeated ('10.1010' makes '10.1010.1010...', '<!--' an endless run of unclosed
comments). Each reader (parse_article, the reference-section parser behind `check`, jats_to_text for abstracts,
html_to_text for titles) is timed at 10 KB and 100 KB; linear code costs the same per KB at both sizes. With
``--before COMMIT`` the same readers at that commit (extracted with git archive) are timed side by side in the same
run, on inputs cut to 20 KB where they are quadratic (100 KB took them minutes).

Usage: python bench/pathological.py [--before fe6a084]
"""

from __future__ import annotations

import argparse
import importlib
import io
import platform
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNITS = {
    "10.1010 (DOI-like digits and dots)": "10.1010",
    "@{ (unclosed braced citation keys)": "@{",
    "A. (a run of initials)": "A. ",
    "< (80,000 of them in a title)": "<",
    "<!-- (unclosed comments)": "<!--",
    "[x]{ (unclosed claim attributes)": "[x]{",
    "<!DOCTYPE [ (unclosed internal subsets)": "<!DOCTYPE [",
    "<![CDATA[": "<![CDATA[",
    "<title>": "<title>",
    "[@ (unclosed citation brackets)": "[@",
}


def _module(package: str, *names: str):
    """The first of ``names`` that ``package`` has (the package tree moved modules into subpackages)."""
    for name in names:
        try:
            return importlib.import_module(f"{package}.{name}")
        except ModuleNotFoundError:
            continue
    raise ModuleNotFoundError(names[0])


def readers(package: str) -> dict:
    article = _module(package, "cite.article", "article")
    jats = _module(package, "sources.jats", "jats")
    refparse = _module(package, "check.refparse", "refparse")

    def references(text: str):
        return [refparse.parse_reference(entry, line) for line, entry in refparse.reference_section(text)]

    return {
        "article": article.parse_article,
        "reference list": lambda text: references("# References\n\n" + text),
        "abstract (JATS)": jats.jats_to_text,
        "title (HTML)": jats.html_to_text,
    }


def ms_per_kb(reader, unit: str, kb: int) -> float:
    text = unit * (kb * 1000 // len(unit))
    best = float("inf")
    for _ in range(3 if kb <= 20 else 1):
        started = time.perf_counter()
        reader(text)
        best = min(best, time.perf_counter() - started)
    return best * 1000 / kb


def extract(commit: str) -> str:
    """The package at ``commit`` as an importable package named evidence_before."""
    folder = Path(tempfile.mkdtemp(prefix="evidence-before-"))
    archive = subprocess.run(["git", "archive", commit, "evidence"], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    (folder / "evidence").rename(folder / "evidence_before")
    sys.path.insert(0, str(folder))
    return "evidence_before"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", metavar="COMMIT", help="also time the readers at this commit, side by side")
    options = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    now = readers("evidence")
    before = readers(extract(options.before)) if options.before else None
    print(f"machine: {platform.machine()}, {platform.processor() or 'unknown CPU'}, Python {platform.python_version()}")
    print(f"date: {date.today()}\n")
    head = "| input | reader | now, 10 KB | now, 100 KB |"
    rule = "|---|---|---:|---:|"
    if before:
        head += f" {options.before}, 10 KB | {options.before}, 20 KB |"
        rule += "---:|---:|"
    print("ms per KB of input (best of three at 10 and 20 KB, one run at 100 KB)\n")
    print(head)
    print(rule)
    worst = 0.0
    for label, unit in UNITS.items():
        for name, reader in now.items():
            small, large = ms_per_kb(reader, unit, 10), ms_per_kb(reader, unit, 100)
            worst = max(worst, large / max(small, 0.001))
            row = f"| {label} | {name} | {small:.2f} | {large:.2f} |"
            if before:
                old = before[name]
                row += f" {ms_per_kb(old, unit, 10):.2f} | {ms_per_kb(old, unit, 20):.2f} |"
            print(row, flush=True)
    print(f"\nlargest growth of the cost per KB from 10 to 100 KB, now: {worst:.2f}x (linear: about 1)")


if __name__ == "__main__":
    main()
