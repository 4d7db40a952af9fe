"""Claim-to-evidence retrieval on SciFact: `evidence suggest` against a plain BM25 baseline, in the same run.

Imports SciFact's 5,183 abstracts (../shared/test-corpora/scifact/) into a fresh library, ranks the library for
every claim with evidence's suggest (BM25F candidates re-ranked by their best sentences), and with SQLite FTS5's
bm25 over title and abstract (porter tokenizer, the claim's words OR-ed) as the baseline. Scores follow BEIR's
convention: a claim's relevant documents are its evidence documents, or, for a claim without evidence, the
documents it cites; binary relevance; nDCG@10, Recall@10, Recall@100; the median suggest time (warm, in-process).

Usage: python bench/scifact.py [--claims train|validation] [--weights 0,0.3,0.5,0.7]
Tune on train only; run validation once the method is fixed.
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import math
import os
import platform
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCIFACT = ROOT.parent / "shared" / "test-corpora" / "scifact"
sys.path.insert(0, str(ROOT))
csv.field_size_limit(1 << 30)
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


def sentences_of(literal: str) -> list[str]:
    """The abstract column is a numpy-style list literal: quoted sentences separated by newlines, not commas."""
    return [ast.literal_eval(token) for token in _QUOTED.findall(literal)]


def load_corpus() -> dict[str, dict]:
    docs = {}
    with open(SCIFACT / "corpus.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            docs[row["doc_id"]] = {"title": row["title"], "sentences": sentences_of(row["abstract"])}
    return docs


def load_claims(split: str) -> dict[str, tuple[str, set[str]]]:
    evidence, cited, text = defaultdict(set), defaultdict(set), {}
    with open(SCIFACT / f"claims_{split}.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            text[row["id"]] = row["claim"]
            if row["evidence_doc_id"]:
                evidence[row["id"]].add(row["evidence_doc_id"])
            cited[row["id"]].update(re.findall(r"\d+", row["cited_doc_ids"] or ""))
    return {cid: (text[cid], evidence[cid] or cited[cid]) for cid in text}


def ndcg_at(ranked: list[str], relevant: set[str], k: int = 10) -> float:
    gain = sum(1 / math.log2(i + 2) for i, doc in enumerate(ranked[:k]) if doc in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return gain / ideal if ideal else 0.0


def recall_at(ranked: list[str], relevant: set[str], k: int) -> float:
    return len(set(ranked[:k]) & relevant) / len(relevant) if relevant else 0.0


def build_library(docs: dict[str, dict], folder: Path):
    from evidence import Library

    items = [
        {
            "id": f"scifact{doc_id}",
            "type": "article-journal",
            "title": doc["title"],
            "abstract": " ".join(doc["sentences"]),
        }
        for doc_id, doc in docs.items()
    ]
    source = folder / "scifact.json"
    source.write_text(json.dumps(items))
    started = time.perf_counter()
    library = Library.create(folder / "lib")
    library.import_file(source)
    return library, time.perf_counter() - started


def fts5_baseline(docs: dict[str, dict]):
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(doc_id UNINDEXED, title, abstract, tokenize='porter')")
    db.executemany(
        "INSERT INTO docs VALUES (?, ?, ?)", [(d, doc["title"], " ".join(doc["sentences"])) for d, doc in docs.items()]
    )

    def search(claim: str, limit: int = 100) -> list[str]:
        words = [w for w in re.findall(r"\w+", claim.lower()) if w]
        if not words:
            return []
        query = " OR ".join(f'"{w}"' for w in words)
        rows = db.execute("SELECT doc_id FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ?", (query, limit))
        return [row[0] for row in rows]

    return search


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", choices=("train", "validation"), default="train")
    parser.add_argument("--weights", default="", help="comma-separated sentence weights to compare (tuning)")
    args = parser.parse_args()

    from evidence import services
    from evidence.rank import SENTENCE_WEIGHT

    docs = load_corpus()
    claims = load_claims(args.claims)
    print(f"{len(docs)} abstracts, {len(claims)} {args.claims} claims")
    with tempfile.TemporaryDirectory() as scratch:
        library, build_seconds = build_library(docs, Path(scratch))
        works = library.works()
        index = library.index
        index.sync(works)
        baseline = fts5_baseline(docs)
        weights = [float(w) for w in args.weights.split(",")] if args.weights else [SENTENCE_WEIGHT]
        results = {}
        timings = []
        for weight in weights:
            scores = defaultdict(list)
            for text, relevant in claims.values():
                started = time.perf_counter()
                hits = services.suggest(library.store, index, text, limit=100, works=works, weight=weight)
                timings.append(time.perf_counter() - started)
                ranked = [hit.key.removeprefix("scifact") for hit in hits]
                scores["ndcg10"].append(ndcg_at(ranked, relevant))
                scores["r10"].append(recall_at(ranked, relevant, 10))
                scores["r100"].append(recall_at(ranked, relevant, 100))
            results[f"evidence suggest (sentence weight {weight})"] = {k: statistics.mean(v) for k, v in scores.items()}
        scores = defaultdict(list)
        base_times = []
        for text, relevant in claims.values():
            started = time.perf_counter()
            ranked = baseline(text)
            base_times.append(time.perf_counter() - started)
            scores["ndcg10"].append(ndcg_at(ranked, relevant))
            scores["r10"].append(recall_at(ranked, relevant, 10))
            scores["r100"].append(recall_at(ranked, relevant, 100))
        results["SQLite FTS5 bm25 baseline"] = {k: statistics.mean(v) for k, v in scores.items()}

    print(
        f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}; library built in {build_seconds:.0f} s\n"
    )
    print(f"| {args.claims} claims | nDCG@10 | Recall@10 | Recall@100 |")
    print("|---|---:|---:|---:|")
    for name, score in results.items():
        print(f"| {name} | {score['ndcg10']:.3f} | {score['r10']:.3f} | {score['r100']:.3f} |")
    print(
        f"\nmedian suggest time (warm, top 100): {statistics.median(timings) * 1000:.0f} ms; "
        f"FTS5 median query: {statistics.median(base_times) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
