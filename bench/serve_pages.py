"""What the pages of `evidence serve` cost as the library grows, beside a cold `evidence search` in the same run.

Builds a library of SciFact's abstracts (copied until it holds ``--works`` works) with the embedded article and its
claims, starts `evidence serve` on it (offline, words only), and fetches each page in turn, round after round:
the home page, a search, the list of works, one work, the claims, the article's report. Medians of the rounds and
their ratio to a cold search command (a fresh process, started between the rounds), as a Markdown table for
bench/RESULTS.md; and the server's resident memory at the end.

Usage: python bench/serve_pages.py [--works 10000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from commands import print_table, timed  # noqa: E402
from scifact import load_corpus  # noqa: E402

PAGES = {
    "home": "/",
    "search": "/search?q=vagal+tone",
    "works (first page)": "/works",
    "one work": "/works/hamvas2023acupuncture",
    "claims": "/claims",
    "article report": "/articles/nerve-pain.md",
}


def build(library: Path, works: int, env: dict[str, str]) -> None:
    docs = list(load_corpus().items())
    items = []
    while len(items) < works:
        copy = len(items) // len(docs)
        for doc_id, doc in docs[: works - len(items)]:
            text = " ".join(doc["sentences"])
            items.append(
                {"id": f"w{copy}x{doc_id}", "type": "article-journal", "title": doc["title"], "abstract": text}
            )
    shutil.copytree(ROOT / "library", library, ignore=shutil.ignore_patterns(".index", ".lock"))
    source = library.parent / "all.json"
    source.write_text(json.dumps(items), encoding="utf-8")
    evidence = [sys.executable, "-m", "evidence", "--library", str(library)]
    subprocess.run([*evidence, "import", str(source)], env=env, check=True, capture_output=True)
    subprocess.run([*evidence, "search", "warmup"], env=env, check=True, capture_output=True)


def fetch(url: str) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=600) as answer:
        answer.read()
        if answer.status != 200:
            raise SystemExit(f"{url}: {answer.status}")
    return time.perf_counter() - started


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--works", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    env = {**os.environ, "EVIDENCE_SEMANTIC": "off", "EVIDENCE_OFFLINE": "1"}
    with tempfile.TemporaryDirectory() as scratch:
        library = Path(scratch) / "lib"
        started = time.perf_counter()
        build(library, args.works, env)
        built = time.perf_counter() - started
        command = [sys.executable, "-m", "evidence", "--library", str(library)]
        server = subprocess.Popen(
            [*command, "serve", "--no-browser", "--port", "0", "--json"], env=env, stdout=subprocess.PIPE, text=True
        )
        try:
            base = json.loads(server.stdout.readline())["url"].rstrip("/")
            times: dict[str, list[float]] = {"cold search (command)": []}
            first: dict[str, float] = {}
            for name, path in PAGES.items():
                first[name] = fetch(base + path)  # the first visit, before anything is warm
                times[name] = []
            for _ in range(args.rounds):
                times["cold search (command)"].append(timed([*command, "search", "vagal tone"], env))
                for name, path in PAGES.items():
                    times[name].append(fetch(base + path))
            peak = resident_mb(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=60)
    print_table(
        times,
        "cold search (command)",
        f"{args.works:,} works (built in {built:.0f} s), {args.rounds} rounds; the server peaked at {peak:.0f} MB",
        "page (GET, server warm)",
    )
    print("\nFirst visits: " + ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in first.items()))


if __name__ == "__main__":
    main()
