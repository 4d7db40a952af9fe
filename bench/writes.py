"""What a write costs as the library grows: whole commands in fresh processes, beside a cold search in the same run.

Builds a library of SciFact's abstracts (copied until it holds ``--works`` works), then, in each round and
alternating: a cold `search`; `import` of one new work; `add` of one new DOI (from a fake Crossref on 127.0.0.1, the
tests' own; PubMed, Europe PMC and OpenAlex not asked); `suggest --claim --link` (words only, so the figure is the
write's and not the model's); the first `search` after a hand edit of one entry (a title changed in place, as an
editor would). Medians, and their ratios to the cold search, as a Markdown table for bench/RESULTS.md. Then, once
each, the commands that read every work (exports, a search that rebuilds a deleted index, one that parses the whole
file again), with their peak memory: issue 22 holds every command under 500 MB at 100,000 works.

Usage: python bench/writes.py [--works 10000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from commands import last_peak_mb, print_table, timed  # noqa: E402
from fakeserver import FakeCrossref  # noqa: E402
from scifact import load_corpus  # noqa: E402
from test_fetch import synthetic_records  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--works", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    docs = list(load_corpus().items())
    items = []
    while len(items) < args.works:
        copy = len(items) // len(docs)
        for doc_id, doc in docs[: args.works - len(items)]:
            text = " ".join(doc["sentences"])
            items.append(
                {"id": f"w{copy}x{doc_id}", "type": "article-journal", "title": doc["title"], "abstract": text}
            )
    records = synthetic_records(args.rounds)
    crossref = FakeCrossref(records=records).start()
    env = {
        **os.environ,
        "EVIDENCE_SEMANTIC": "off",
        "EVIDENCE_CROSSREF_URL": crossref.url,
        "EVIDENCE_DOI_URL": crossref.url,
        "EVIDENCE_MAILTO": "bench@example.org",
    }
    evidence = [sys.executable, "-m", "evidence"]
    times: dict[str, list[float]] = {
        "cold search": [],
        "import one work": [],
        "add one DOI": [],
        "suggest --link": [],
        "search after a hand edit": [],
    }
    peaks: dict[str, float] = {}

    def measure(name: str, command: list[str], env: dict[str, str], allowed: tuple[int, ...] = (0,)) -> None:
        times[name].append(timed(command, env, allowed))
        peaks[name] = max(peaks.get(name, 0.0), last_peak_mb())

    with tempfile.TemporaryDirectory() as scratch:
        library = Path(scratch) / "lib"
        source = Path(scratch) / "all.json"
        source.write_text(json.dumps(items), encoding="utf-8")
        started = time.perf_counter()
        subprocess.run([*evidence, "init", str(library)], env=env, check=True, capture_output=True)
        timed([*evidence, "--library", str(library), "import", str(source)], env)
        build_peak = last_peak_mb()
        subprocess.run(
            [*evidence, "--library", str(library), "search", "warmup"], env=env, check=True, capture_output=True
        )
        (library / "evidence.toml").write_text("[sources]\nenrich = []\n")  # only the fake Crossref exists here
        built = time.perf_counter() - started
        first_key = items[0]["id"]
        on = [*evidence, "--library", str(library)]
        for number in range(args.rounds):
            measure("cold search", [*on, "search", "vagal tone"], env)
            one = Path(scratch) / f"one{number}.json"
            one.write_text(
                json.dumps([{"id": f"new{number}", "type": "article-journal", "title": f"New work {number}"}])
            )
            measure("import one work", [*on, "import", str(one)], env)
            measure("add one DOI", [*on, "add", sorted(records)[number]], env)
            link = [
                *on,
                "suggest",
                "nerve growth factor",
                "--claim",
                f"c{number}",
                "--link",
                first_key,
                "--stance",
                "supports",
            ]
            measure("suggest --link", link, env, allowed=(0, 1))
            bib = library / "references.bib"
            text = bib.read_text(encoding="utf-8")
            bib.write_text(text.replace("title = {", f"title = {{Edited {number} ", 1), encoding="utf-8")
            measure("search after a hand edit", [*on, "search", "vagal tone"], env)
        # Then, once each, the commands that read every work, beside one more cold search
        whole: dict[str, list[float]] = {name: [] for name in WHOLE_LIBRARY}
        whole_peaks: dict[str, float] = {}
        for name, (arguments, before) in WHOLE_LIBRARY.items():
            before(library)
            whole[name].append(timed([*on, *(a.replace("SCRATCH", scratch) for a in arguments)], env))
            whole_peaks[name] = last_peak_mb()
    about = (
        f"{args.works} works (built and indexed in {built:.0f} s; the import of all of them peaked at "
        f"{build_peak:.0f} MB), {args.rounds} rounds"
    )
    crossref.stop()
    print_table(times, "cold search", about, "command (new process)", peaks)
    print()
    print_table(whole, "cold search", f"{args.works} works, once each", "command reading every work", whole_peaks)


def _nothing(library: Path) -> None:
    """Run as it is."""


def _index_deleted(library: Path) -> None:
    """The search index removed (as after a schema change or damage): the next search builds it anew."""
    for entry in (library / ".index").iterdir():
        if entry.name.startswith(("MAIN", "_MAIN")) or entry.name == "evidence-manifest.sqlite":
            entry.unlink()


def _parse_deleted(library: Path) -> None:
    """The saved parse removed (as after the parsing code changes): the next command parses the whole file."""
    (library / ".index" / "library.sqlite").unlink()


WHOLE_LIBRARY = {
    "cold search": (["search", "vagal tone"], _nothing),
    "export --format csl-json": (["export", "--format", "csl-json", "-o", "SCRATCH/all.csl.json"], _nothing),
    "export --format bibtex": (["export", "--format", "bibtex", "-o", "SCRATCH/all.bib"], _nothing),
    "search, index deleted (rebuilt)": (["search", "vagal tone"], _index_deleted),
    "search after the rebuild": (["search", "vagal tone"], _nothing),
    "search, saved parse deleted (full parse)": (["search", "vagal tone"], _parse_deleted),
}


if __name__ == "__main__":
    main()
