"""Claim-to-evidence retrieval on SciFact: `evidence suggest` against a plain BM25 baseline, in the same run.

Imports SciFact's 5,183 abstracts (../shared/test-corpora/scifact/) into a fresh library, ranks the library for
every claim with evidence's suggest (BM25F candidates re-ranked by their best sentences, blended with the
meaning of each abstract when the optional model is installed), and with SQLite FTS5's
bm25 over title and abstract (porter tokenizer, the claim's words OR-ed) as the baseline. Scores follow BEIR's
convention: a claim's relevant documents are its evidence documents, or, for a claim without evidence, the
documents it cites; binary relevance; nDCG@10, Recall@10, Recall@100; the median suggest time (warm, in-process).

With the optional model installed (evidence[semantic]) the library's abstracts are embedded too (minutes: the
time is reported) and the blended ranking is measured beside the words-only one and the model alone.

Usage: python bench/scifact.py [--claims train|validation|train,validation] [--weights 0,0.5]
       [--meaning-weights 0.6,0.7]
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


def evaluate(rank, claims) -> dict[str, float]:
    scores = defaultdict(list)
    for text, relevant in claims.values():
        ranked = rank(text)
        scores["ndcg10"].append(ndcg_at(ranked, relevant))
        scores["r10"].append(recall_at(ranked, relevant, 10))
        scores["r100"].append(recall_at(ranked, relevant, 100))
    return {k: statistics.mean(v) for k, v in scores.items()}


def median_ms(call, claims) -> float:
    timings = []
    for text, _relevant in claims.values():
        started = time.perf_counter()
        call(text)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", default="train", help="train, validation, or both: train,validation")
    parser.add_argument("--weights", default="", help="comma-separated sentence weights to compare (tuning)")
    parser.add_argument("--meaning-weights", default="", help="comma-separated meaning weights to compare (tuning)")
    args = parser.parse_args()

    from evidence.index.rank import MEANING_WEIGHT, SENTENCE_WEIGHT
    from evidence.jobs import suggest
    from evidence.meaning import embeddings as meaning

    docs = load_corpus()
    splits = [name.strip() for name in args.claims.split(",") if name.strip()]
    claims_of = {split: load_claims(split) for split in splits}
    print(f"{len(docs)} abstracts; claims: " + ", ".join(f"{len(c)} {s}" for s, c in claims_of.items()))
    weights = [float(w) for w in args.weights.split(",")] if args.weights else [SENTENCE_WEIGHT]
    meaning_weights = [float(w) for w in args.meaning_weights.split(",")] if args.meaning_weights else [MEANING_WEIGHT]
    tables: dict[str, dict[str, dict[str, float]]] = {}
    times: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as scratch:
        library, build_seconds = build_library(docs, Path(scratch))
        works = library.works()
        index = library.index
        index.sync(works)
        vectors, embed_seconds = None, 0.0
        if meaning.available():
            vectors = library.embeddings
            started = time.perf_counter()
            vectors.sync(works, library.store.bib_signature(), lambda done, total: print(f"  embedded {done}/{total}"))
            embed_seconds = time.perf_counter() - started
        else:
            print("the optional embedding model is not installed: words-only ranking only")
        baseline = fts5_baseline(docs)

        def words(weight, limit=100):
            return lambda text: suggest.suggest(library.store, index, text, limit=limit, works=works, weight=weight)

        def blended(weight, limit=100):
            return lambda text: suggest.suggest(
                library.store, index, text, limit=limit, works=works, embeddings=vectors, meaning_weight=weight
            )

        def keys(call):
            return lambda text: [hit.key.removeprefix("scifact") for hit in call(text)]

        def meaning_alone(text):
            found = vectors.nearest(vectors.vector(text), 100)
            return [key.removeprefix("scifact") for key in sorted(found, key=lambda k: -found[k])]

        for split, claims in claims_of.items():
            table = tables.setdefault(split, {})
            for weight in weights:
                table[f"evidence suggest, words only (BM25F + best sentences, weight {weight})"] = evaluate(
                    keys(words(weight)), claims
                )
            if vectors is not None:
                table["all-MiniLM-L6-v2 alone (cosine)"] = evaluate(meaning_alone, claims)
                for weight in meaning_weights:
                    table[f"evidence suggest, words + meaning (meaning weight {weight})"] = evaluate(
                        keys(blended(weight)), claims
                    )
            table["SQLite FTS5 bm25 baseline"] = evaluate(baseline, claims)
        # Timing, warm (every claim above already ran once): the call as the command makes it (top 10) and the
        # 100-deep ranking the figures above come from.
        claims = claims_of[splits[0]]
        times["words only, top 10"] = f"{median_ms(words(weights[0], 10), claims):.0f} ms"
        times["words only, top 100"] = f"{median_ms(words(weights[0], 100), claims):.0f} ms"
        if vectors is not None:
            times["words + meaning, top 10"] = f"{median_ms(blended(meaning_weights[0], 10), claims):.0f} ms"
            times["words + meaning, top 100"] = f"{median_ms(blended(meaning_weights[0], 100), claims):.0f} ms"
        times["FTS5 baseline query"] = f"{median_ms(baseline, claims):.1f} ms"

    print(
        f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}; library imported and indexed in {build_seconds:.0f} s"
        + (f"; {len(works)} abstracts embedded in {embed_seconds:.0f} s" if vectors is not None else "")
    )
    for split, table in tables.items():
        print(f"\n| {split} claims | nDCG@10 | Recall@10 | Recall@100 |")
        print("|---|---:|---:|---:|")
        for name, score in table.items():
            print(f"| {name} | {score['ndcg10']:.3f} | {score['r10']:.3f} | {score['r100']:.3f} |")
    print(f"\nmedian time per claim (warm, {splits[0]} claims): " + "; ".join(f"{k}: {v}" for k, v in times.items()))


if __name__ == "__main__":
    main()
