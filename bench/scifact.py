"""Claim-to-evidence retrieval on SciFact: `evidence suggest` against a plain BM25 baseline, in the same run.

Imports SciFact's 5,183 abstracts (../shared/test-corpora/scifact/) into a fresh library, ranks the library for
every claim with evidence's suggest (BM25F candidates re-ranked by their best sentences, blended with the
meaning of each abstract unless the model is missing), and with SQLite FTS5's
bm25 over title and abstract (porter tokenizer, the claim's words OR-ed) as the baseline. Scores follow BEIR's
convention: a claim's relevant documents are its evidence documents, or, for a claim without evidence, the
documents it cites; binary relevance; nDCG@10, Recall@10, Recall@100; the median suggest time (warm, in-process).

With the model (installed with the package) the library's abstracts are embedded too (minutes: the
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
    folder.mkdir(parents=True, exist_ok=True)
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


def load_pairs(split: str) -> list[dict]:
    """SciFact's labelled (claim, evidence abstract) pairs: SUPPORT or CONTRADICT, with the rationale sentences."""
    pairs: dict[tuple[str, str], dict] = {}
    with open(SCIFACT / f"claims_{split}.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["evidence_doc_id"]:
                first = {"claim": row["claim"], "doc": row["evidence_doc_id"], "label": row["evidence_label"]}
                pair = pairs.setdefault((row["id"], row["evidence_doc_id"]), {**first, "why": set()})
                pair["why"].update(int(n) for n in re.findall(r"\d+", row["evidence_sentences"] or ""))
    return list(pairs.values())


def passages_and_stance(library, vectors, docs, pairs, weights) -> tuple[dict[str, float], list[dict]]:
    """For each labelled pair, the passage suggest would show (by words alone; by words and meaning, for each
    passage weight) and the stance hint on the shipped passage: how often the passage and its lead sentence are
    rationale sentences, and the hint's precision and recall for CONTRADICT."""
    from evidence.claims.stance import contradiction_cue
    from evidence.index.rank import PASSAGE_MEANING_WEIGHT, analysed, choose_passage, scored_sentences

    index = library.index
    works = {work.key: work for work in library.works()}
    counts = defaultdict(int)
    rows = []
    for pair in pairs:
        work = works[f"scifact{pair['doc']}"]
        text = analysed(index.analyse, work.get("abstract"), work.get("annotation"))
        if not text.sentences:
            continue
        _hits, terms, idf = index.candidates(pair["claim"], limit=1)
        word_scores = [0.0] * len(text.sentences)
        for score, number in scored_sentences(text, terms, idf):
            word_scores[number] = score
        rationale = [docs[pair["doc"]]["sentences"][n].strip() for n in pair["why"]]

        def holds(numbers, rationale=rationale, text=text):
            return any(r and (r in text.sentences[n] or text.sentences[n] in r) for n in numbers for r in rationale)

        def lead(numbers, scores):
            return [max(numbers, key=scores.__getitem__)] if numbers else []

        counts["pairs"] += 1
        chosen, _how = choose_passage(word_scores)
        counts["words only: passage holds a rationale"] += holds(chosen)
        counts["words only: lead sentence is a rationale"] += holds(lead(chosen, word_scores))
        if vectors is not None:
            cosines = (vectors.sentences.vectors(list(text.sentences)) @ vectors.vector(pair["claim"])).tolist()
            for weight in weights:
                picked, _how = choose_passage(word_scores, cosines, weight)
                blended = [(1 - weight) * w + weight * c for w, c in zip(word_scores, cosines, strict=True)]
                counts[f"passage weight {weight}: passage holds a rationale"] += holds(picked)
                counts[f"passage weight {weight}: lead sentence is a rationale"] += holds(lead(picked, blended))
            chosen, _how = choose_passage(word_scores, cosines, PASSAGE_MEANING_WEIGHT)
        passage = " ".join(text.sentences[n] for n in chosen)
        hinted = bool(contradiction_cue(pair["claim"], passage))
        contradicts = pair["label"] == "CONTRADICT"
        counts["contradict"] += contradicts
        counts["hinted"] += hinted
        counts["hinted and contradict"] += hinted and contradicts
        rows.append({"claim": pair["claim"], "passage": passage, "label": pair["label"]})
    total = counts["pairs"] or 1
    figures = {name: counts[name] / total for name in counts if "rationale" in name}
    figures["pairs"] = counts["pairs"]
    figures["contradicts precision"] = counts["hinted and contradict"] / (counts["hinted"] or 1)
    figures["contradicts recall"] = counts["hinted and contradict"] / (counts["contradict"] or 1)
    figures["hinted"] = counts["hinted"]
    figures["contradict pairs"] = counts["contradict"]
    return figures, rows


def without_one_spelling(docs, folder: Path):
    """A second library whose index stems words as they are spelled (no British-to-American step), for the
    side-by-side row; the step is put back before returning."""
    from evidence.index._whoosh import schema

    kept = schema.american
    schema.american = lambda word: word
    schema.stemmed.cache_clear()
    library, _seconds = build_library(docs, folder)
    library.index.sync(library.works())
    return library, lambda: (setattr(schema, "american", kept), schema.stemmed.cache_clear())


def print_tables(tables, stance) -> None:
    for split, table in tables.items():
        print(f"\n| {split} claims | nDCG@10 | Recall@10 | Recall@100 |")
        print("|---|---:|---:|---:|")
        for name, score in table.items():
            print(f"| {name} | {score['ndcg10']:.4f} | {score['r10']:.3f} | {score['r100']:.3f} |")
    for split, figures in stance.items():
        print(f"\npassages and the stance hint, {split} labelled pairs:")
        for name, value in figures.items():
            print(f"  {name}: {value:.3f}" if isinstance(value, float) else f"  {name}: {value}")


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
    parser.add_argument("--passage-weights", default="0.3,0.5,0.7,1", help="meaning's share in choosing passages")
    parser.add_argument("--sample", type=int, default=0, help="a smoke run: N claims a split, their abstracts + 200")
    parser.add_argument("--dump", default="", help="write each labelled pair's claim, passage and label to this JSON")
    args = parser.parse_args()

    from evidence.index.rank import MEANING_WEIGHT, SENTENCE_WEIGHT
    from evidence.jobs import suggest
    from evidence.meaning import embeddings as meaning

    docs = load_corpus()
    splits = [name.strip() for name in args.claims.split(",") if name.strip()]
    claims_of = {split: load_claims(split) for split in splits}
    if args.sample:  # a quick run of every step, for checking the script itself: its figures mean nothing
        claims_of = {split: dict(list(claims.items())[: args.sample]) for split, claims in claims_of.items()}
        wanted = {doc for claims in claims_of.values() for _text, relevant in claims.values() for doc in relevant}
        wanted |= {pair["doc"] for split in splits for pair in load_pairs(split)}
        docs = {doc_id: doc for n, (doc_id, doc) in enumerate(docs.items()) if doc_id in wanted or n < 200}
    print(f"{len(docs)} abstracts; claims: " + ", ".join(f"{len(c)} {s}" for s, c in claims_of.items()))
    weights = [float(w) for w in args.weights.split(",")] if args.weights else [SENTENCE_WEIGHT]
    meaning_weights = [float(w) for w in args.meaning_weights.split(",")] if args.meaning_weights else [MEANING_WEIGHT]
    passage_weights = [float(w) for w in args.passage_weights.split(",") if w]
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
            print("the embedding model is not installed (a broken install): words-only ranking only")
        baseline = fts5_baseline(docs)

        def words(weight, limit=10):  # the command's call: the top works with their passages
            return lambda text: suggest.suggest(library.store, index, text, limit=limit, works=works, weight=weight)

        def blended(weight, limit=10):
            return lambda text: suggest.suggest(
                library.store, index, text, limit=limit, works=works, embeddings=vectors, meaning_weight=weight
            )

        def ranked(target, **options):  # the ranking alone, 100 deep, for the figures
            return lambda text: [
                item.key.removeprefix("scifact")
                for item in suggest.rank(target.store, target.index, text, **options).ranked[:100]
            ]

        def meaning_alone(text):
            found = vectors.nearest(vectors.vector(text), 100)
            return [key.removeprefix("scifact") for key in sorted(found, key=lambda k: -found[k])]

        for split, claims in claims_of.items():
            table = tables.setdefault(split, {})
            for weight in weights:
                table[f"evidence suggest, words only (BM25F + best sentences, weight {weight})"] = evaluate(
                    ranked(library, works=works, weight=weight), claims
                )
            if vectors is not None:
                table["all-MiniLM-L6-v2 alone (cosine)"] = evaluate(meaning_alone, claims)
                for weight in meaning_weights:
                    table[f"evidence suggest, words + meaning (meaning weight {weight})"] = evaluate(
                        ranked(library, works=works, embeddings=vectors, meaning_weight=weight), claims
                    )
            table["SQLite FTS5 bm25 baseline"] = evaluate(baseline, claims)
        # One spelling (British and American forms as one term), measured side by side: the same claims against
        # a library indexed without that step, then the step put back.
        plain, restore = without_one_spelling(docs, Path(scratch) / "plain")
        plain_works = plain.works()
        try:
            for split, claims in claims_of.items():
                table = tables[split]
                table["words only, spellings as written (no British/American step)"] = evaluate(
                    ranked(plain, works=plain_works), claims
                )
                if vectors is not None:
                    table["words + meaning, spellings as written"] = evaluate(
                        ranked(plain, works=plain_works, embeddings=vectors), claims
                    )
        finally:
            restore()
        stance: dict[str, dict] = {}
        dumped = []
        for split in splits:
            stance[split], rows = passages_and_stance(library, vectors, docs, load_pairs(split), passage_weights)
            dumped.extend({**row, "split": split} for row in rows)
        if args.dump:
            Path(args.dump).write_text(json.dumps(dumped, indent=1), encoding="utf-8")
        print_tables(tables, stance)
        # Timing: the call as the command makes it (top 10, with passages). The first pass over the claims embeds
        # the shown works' sentences (most of them new to the cache); the second finds them cached, as a library's
        # works come back claim after claim. Then the 100-deep ranking alone, which the figures above come from.
        claims = claims_of[splits[0]]
        times["words only, top 10"] = f"{median_ms(words(weights[0]), claims):.0f} ms"
        if vectors is not None:
            first = median_ms(blended(meaning_weights[0]), claims)
            times["words + meaning, top 10, first time (sentences embedded)"] = f"{first:.0f} ms"
            times["words + meaning, top 10, again"] = f"{median_ms(blended(meaning_weights[0]), claims):.0f} ms"
            deep = ranked(library, works=works, embeddings=vectors)
            times["words + meaning, ranking 100 deep"] = f"{median_ms(deep, claims):.0f} ms"
        times["FTS5 baseline query"] = f"{median_ms(baseline, claims):.1f} ms"

    print(
        f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}; library imported and indexed in {build_seconds:.0f} s"
        + (f"; {len(works)} abstracts embedded in {embed_seconds:.0f} s" if vectors is not None else "")
    )
    print(f"\nmedian time per claim (warm, {splits[0]} claims): " + "; ".join(f"{k}: {v}" for k, v in times.items()))


if __name__ == "__main__":
    main()
