"""Search at scale: evidence's Whoosh index against SQLite FTS5 and tantivy on the same generated libraries.

Builds libraries of 1,000, 10,000 and 100,000 works by recombining real titles and abstract sentences (SciFact's
5,183 abstracts) with real author names and journal titles (the habanero and rcrossref Crossref recordings), seeded
and deterministic, and measures on each, in one run:

- full index build: documents per second, size on disk, peak memory above the process's start (each build runs in
  its own forked process so the figures do not mix);
- adding one work to the existing index (evidence: ``SearchIndex.sync`` with one new entry, i.e. what ``add`` and
  ``import`` do after the .bib is written);
- warm query latency, median and p95, top 10, for two-term AND, phrase, fielded and common-term queries;
- the whole ``evidence search`` command from a cold process (evidence only; the others are libraries).

Usage: python bench/search.py [--sizes 1000,10000,100000] [--engines whoosh,fts5,tantivy] [--out FILE.json]
Needs the ``bench`` extra (tantivy). Figures go to bench/RESULTS.md by hand, with the machine and date printed here.
"""

from __future__ import annotations

import argparse
import ast
import csv
import gzip
import json
import multiprocessing
import os
import platform
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT.parent / "shared" / "test-corpora"
sys.path.insert(0, str(ROOT))
csv.field_size_limit(1 << 30)

QUERIES_PER_CLASS = 25
REPEATS = 3
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_WORD = re.compile(r"[a-z]{4,}")
STOP = frozenset(
    "with from that this were have been which their there these than into more most also between after during "
    "among about other such both when only over using used study studies results".split()
)


# ---------------------------------------------------------------------------------------------------------------------
# The corpus


def real_parts() -> tuple[list[str], list[str], list[tuple[str, str]], list[str]]:
    """Titles, abstract sentences, (family, given) names and journal titles from the shared corpora."""
    titles, sentences = [], []
    with open(CORPORA / "scifact" / "corpus.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            titles.append(row["title"])
            sentences.extend(ast.literal_eval(token) for token in _QUOTED.findall(row["abstract"]))
    names, journals = set(), set()
    for name in ("habanero/habanero_works.jsonl.gz", "rcrossref/rcrossref_works.jsonl.gz"):
        with gzip.open(CORPORA / "crossref-works" / name, "rt", encoding="utf-8") as lines:
            for line in lines:
                work = json.loads(line)["work"]
                for person in work.get("author") or []:
                    if person.get("family") and person.get("given"):
                        names.add((person["family"], person["given"]))
                for journal in work.get("container-title") or []:
                    journals.add(journal)
    return titles, [s for s in sentences if len(s) > 20], sorted(names), sorted(journals)


def generate(count: int, parts, seed: int = 20261128) -> list[dict]:
    """``count`` works: real titles first, then titles spliced from two real ones; abstracts of 3-12 real sentences."""
    titles, sentences, names, journals = parts
    rng = random.Random(seed)
    works = []
    for number in range(count):
        if number < len(titles):
            title = titles[number]
        else:
            left, right = rng.choice(titles).split(), rng.choice(titles).split()
            title = " ".join(left[: max(1, len(left) // 2)] + right[len(right) // 2 :])
        works.append(
            {
                "key": f"w{number:06d}",
                "doi": f"10.5555/bench.{number}",
                "title": title,
                "abstract": " ".join(rng.sample(sentences, rng.randint(3, 12))),
                "authors": rng.sample(names, rng.randint(1, 8)),
                "journal": rng.choice(journals),
                "year": str(rng.randint(1980, 2026)),
            }
        )
    return works


def bib_entry(work: dict) -> str:
    from evidence.store import bibtex

    fields = {
        "author": " and ".join(f"{family}, {given}" for family, given in work["authors"]),
        "title": work["title"],
        "journal": work["journal"],
        "year": work["year"],
        "doi": work["doi"],
        "abstract": work["abstract"],
    }
    return bibtex.format_entry("article", work["key"], bibtex.encode_fields(fields))


def write_library(works: list[dict], folder: Path) -> None:
    from evidence.store.folder import Store

    Store.init(folder)
    text = "\n".join(bib_entry(work) for work in works) + "\n"
    (folder / "references.bib").write_text(text, encoding="utf-8")


def make_queries(works: list[dict], seed: int = 7) -> dict[str, list[str]]:
    """Queries drawn from the data: word pairs of one title (AND), adjacent words of an abstract (phrase),
    a title word (fielded), and the words in the most documents (common-term)."""
    rng = random.Random(seed)
    frequency = Counter()
    for work in works:
        frequency.update(set(_WORD.findall((work["title"] + " " + work["abstract"]).lower())) - STOP)
    common = [word for word, _ in frequency.most_common(QUERIES_PER_CLASS)]
    two, phrase, fielded = [], [], []
    while len(two) < QUERIES_PER_CLASS:
        words = [w for w in _WORD.findall(rng.choice(works)["title"].lower()) if w not in STOP]
        if len(words) >= 2:
            first, second = rng.sample(words, 2)
            two.append(f"{first} AND {second}")
    while len(phrase) < QUERIES_PER_CLASS:
        tokens = rng.choice(works)["abstract"].lower().split()
        start = rng.randrange(max(1, len(tokens) - 1))
        pair = tokens[start : start + 2]
        if len(pair) == 2 and all(_WORD.fullmatch(token) and token not in STOP for token in pair):
            phrase.append(f'"{pair[0]} {pair[1]}"')
    while len(fielded) < QUERIES_PER_CLASS:
        words = [w for w in _WORD.findall(rng.choice(works)["title"].lower()) if w not in STOP]
        if words:
            fielded.append(f"title:{rng.choice(words)}")
    return {"two-term AND": two, "phrase": phrase, "fielded": fielded, "common-term": common}


# ---------------------------------------------------------------------------------------------------------------------
# Measuring in a forked process


def _rss_kib(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def in_child(function, *args):
    """Run ``function(*args)`` in a forked process; its result (a dict) plus its peak memory above its start."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)

    def target():
        _reset_peak()
        before = _rss_kib("VmRSS")
        result = function(*args)
        result["peak_mb"] = max(0, _rss_kib("VmHWM") - before) / 1024
        sender.send(result)

    process = context.Process(target=target)
    process.start()
    result = receiver.recv()
    process.join()
    return result


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file()) / 1e6


def latencies(run, queries: dict[str, list[str]]) -> dict[str, dict]:
    out = {}
    for name, texts in queries.items():
        for text in texts:  # warm-up: the first query of each text pays for reading its postings
            run(text)
        times = []
        for _ in range(REPEATS):
            for text in texts:
                started = time.perf_counter()
                run(text)
                times.append((time.perf_counter() - started) * 1000)
        times.sort()
        out[name] = {"median_ms": statistics.median(times), "p95_ms": times[int(0.95 * (len(times) - 1))]}
    return out


# ---------------------------------------------------------------------------------------------------------------------
# Engines


def whoosh_build(library: Path) -> dict:
    from evidence.index.search_index import SearchIndex
    from evidence.store.derived import DERIVED_DB
    from evidence.store.folder import Store

    started = time.perf_counter()
    works = Store(library).load_bib().works
    parse_seconds = time.perf_counter() - started
    index = SearchIndex(library / ".index")
    started = time.perf_counter()
    index.sync(works)
    seconds = time.perf_counter() - started
    saved_parse = library / ".index" / DERIVED_DB  # the store's, not the index's: reported apart
    saved_mb = saved_parse.stat().st_size / 1e6 if saved_parse.is_file() else 0.0
    return {
        "seconds": seconds,
        "parse_seconds": parse_seconds,
        "mb": folder_mb(library / ".index") - saved_mb,
        "saved_parse_mb": saved_mb,
    }


def whoosh_add_and_query(library: Path, extra: dict, queries) -> dict:
    from evidence.index.search_index import SearchIndex
    from evidence.store.bibfile import make_work, parse_bibtex
    from evidence.store.folder import Store

    started = time.perf_counter()
    works = Store(library).load_bib().works  # the build's load saved the parse: this one reads it back
    load_seconds = time.perf_counter() - started
    index = SearchIndex(library / ".index")
    new = parse_bibtex(bib_entry(extra)).works[0]
    new = make_work(new.key, new.entry_type, new.fields)
    started = time.perf_counter()
    index.sync(works)  # nothing to do, but the first sync of a process also imports Whoosh
    first_sync_seconds = time.perf_counter() - started
    started = time.perf_counter()
    index.sync([*works, new])
    add_seconds = time.perf_counter() - started
    started = time.perf_counter()
    index.sync([*works, new])
    unchanged_seconds = time.perf_counter() - started
    started = time.perf_counter()
    index.search("warm up the searcher")
    open_seconds = time.perf_counter() - started
    result = latencies(lambda text: index.search(text, limit=10), queries)
    return {
        "load_seconds": load_seconds,
        "first_sync_seconds": first_sync_seconds,
        "add_seconds": add_seconds,
        "unchanged_sync_seconds": unchanged_seconds,
        "open_seconds": open_seconds,
        "queries": result,
    }


def fts5_build(library: Path, works: list[dict]) -> dict:
    path = library / "fts5.db"
    started = time.perf_counter()
    connection = sqlite3.connect(path)
    connection.execute(
        "CREATE VIRTUAL TABLE works USING fts5(key UNINDEXED, title, abstract, authors, journal, "
        "tokenize='porter unicode61')"
    )
    with connection:
        connection.executemany(
            "INSERT INTO works VALUES (?, ?, ?, ?, ?)",
            (
                (w["key"], w["title"], w["abstract"], " ".join(" ".join(n) for n in w["authors"]), w["journal"])
                for w in works
            ),
        )
    connection.execute("INSERT INTO works(works) VALUES ('optimize')")
    connection.commit()
    connection.close()
    return {"seconds": time.perf_counter() - started, "mb": path.stat().st_size / 1e6}


def fts5_add_and_query(library: Path, extra: dict, queries) -> dict:
    connection = sqlite3.connect(library / "fts5.db")
    started = time.perf_counter()
    with connection:
        connection.execute(
            "INSERT INTO works VALUES (?, ?, ?, ?, ?)",
            (extra["key"], extra["title"], extra["abstract"], "", extra["journal"]),
        )
    add_seconds = time.perf_counter() - started

    def run(text: str):
        fts = text.replace("title:", "title : ")
        return connection.execute(
            "SELECT key FROM works WHERE works MATCH ? ORDER BY bm25(works, 0, 3.0, 1.0, 1.0, 0.5) LIMIT 10", (fts,)
        ).fetchall()

    return {"add_seconds": add_seconds, "queries": latencies(run, queries)}


def _tantivy_index(path: Path):
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("key", stored=True, tokenizer_name="raw")
    for name in ("title", "abstract", "authors", "journal"):
        builder.add_text_field(name, tokenizer_name="en_stem")
    path.mkdir(exist_ok=True)
    return tantivy, tantivy.Index(builder.build(), path=str(path))


def tantivy_build(library: Path, works: list[dict]) -> dict:
    started = time.perf_counter()
    tantivy, index = _tantivy_index(library / "tantivy")
    writer = index.writer(heap_size=256_000_000, num_threads=2)
    for w in works:
        writer.add_document(
            tantivy.Document(
                key=w["key"],
                title=w["title"],
                abstract=w["abstract"],
                authors=" ".join(" ".join(n) for n in w["authors"]),
                journal=w["journal"],
            )
        )
    writer.commit()
    writer.wait_merging_threads()
    return {"seconds": time.perf_counter() - started, "mb": folder_mb(library / "tantivy")}


def tantivy_add_and_query(library: Path, extra: dict, queries) -> dict:
    tantivy, index = _tantivy_index(library / "tantivy")
    started = time.perf_counter()
    writer = index.writer(heap_size=50_000_000, num_threads=1)
    writer.add_document(tantivy.Document(key=extra["key"], title=extra["title"], abstract=extra["abstract"]))
    writer.commit()
    writer.wait_merging_threads()
    add_seconds = time.perf_counter() - started
    index.reload()
    searcher = index.searcher()
    fields = ["title", "abstract", "authors", "journal"]
    boosts = {"title": 3.0, "journal": 0.5}

    def run(text: str):
        return searcher.search(index.parse_query(text, fields, field_boosts=boosts), 10).hits

    return {"add_seconds": add_seconds, "queries": latencies(run, queries)}


def cold_search(library: Path, queries: dict[str, list[str]]) -> dict:
    """Wall time of ``evidence search`` in a fresh process (after one unmeasured run that syncs the index)."""
    command = [sys.executable, "-m", "evidence", "--library", str(library), "--offline", "search"]
    env = dict(os.environ, EVIDENCE_OFFLINE="1")
    texts = [queries["two-term AND"][i].replace(" AND ", " ") for i in range(5)]
    subprocess.run([*command, texts[0]], env=env, capture_output=True, check=True)
    times = []
    for text in texts:
        started = time.perf_counter()
        subprocess.run([*command, text], env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return {"median_s": statistics.median(times), "max_s": max(times)}


# ---------------------------------------------------------------------------------------------------------------------


def measure(size: int, parts, engines: list[str], scratch: Path) -> dict:
    works = generate(size + 1, parts)
    extra, works = works[-1], works[:-1]
    library = scratch / f"lib{size}"
    write_library(works, library)
    queries = make_queries(works)
    result = {"size": size, "bib_mb": (library / "references.bib").stat().st_size / 1e6}
    print(f"\n== {size} works ({result['bib_mb']:.0f} MB of BibTeX)", flush=True)
    if "whoosh" in engines:
        build = in_child(whoosh_build, library)
        print(f"whoosh build {build['seconds']:.1f} s (parse and save {build['parse_seconds']:.1f} s)", flush=True)
        rest = in_child(whoosh_add_and_query, library, extra, queries)
        rest["cold_search"] = cold_search(library, queries)
        result["whoosh"] = {"build": build, **rest}
        print(json.dumps(result["whoosh"], indent=1), flush=True)
    for name, build_fn, query_fn in (
        ("fts5", fts5_build, fts5_add_and_query),
        ("tantivy", tantivy_build, tantivy_add_and_query),
    ):
        if name in engines:
            build = in_child(build_fn, library, works)
            result[name] = {"build": build, **in_child(query_fn, library, extra, queries)}
            print(name, json.dumps(result[name]), flush=True)
    return result


def table(results: list[dict]) -> str:
    rows = [
        "| works | engine | build s | docs/s | MB | peak MB | add one s | AND med/p95 ms | phrase med/p95 | "
        "fielded med/p95 | common med/p95 | cold search s |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        for engine in ("whoosh", "fts5", "tantivy"):
            data = result.get(engine)
            if not data:
                continue
            build, q = data["build"], data["queries"]
            cells = [
                f"{q[c]['median_ms']:.1f} / {q[c]['p95_ms']:.1f}"
                for c in ("two-term AND", "phrase", "fielded", "common-term")
            ]
            cold = data.get("cold_search")
            rate = result["size"] / build["seconds"]
            rows.append(
                f"| {result['size']:,} | {engine} | {build['seconds']:.1f} | {rate:,.0f} | "
                f"{build['mb']:.0f} | {build['peak_mb']:.0f} | {data['add_seconds']:.3f} | "
                + " | ".join(cells)
                + (f" | {cold['median_s']:.2f} |" if cold else " | |")
            )
    return "\n".join(rows)


def cpu_model() -> str:
    """The processor's name: hosts of one machine kind differ in speed, so figures from two days compare only as
    ratios to the reference engines unless the processor is the same."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown processor"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--engines", default="whoosh,fts5,tantivy")
    parser.add_argument("--out", default="")
    parser.add_argument("--keep", default="", help="build the libraries in this folder and keep them")
    args, _ = parser.parse_known_args()
    parts = real_parts()
    engines = args.engines.split(",")
    scratch = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="evidence-bench-"))
    scratch.mkdir(parents=True, exist_ok=True)
    print(
        f"machine: {platform.machine()} ({cpu_model()}), {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}"
    )
    try:
        results = [measure(int(size), parts, engines, scratch) for size in args.sizes.split(",")]
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    print("\n" + table(results))
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
