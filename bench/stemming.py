"""Stemming's cost and value for claim retrieval: a Whoosh index of SciFact's abstracts (one `body` field, as
evidence's index has) built with and without the Porter stemmer; build time and nDCG@10 / Recall@100 of the
BM25 candidates on SciFact's training claims.

Usage: python bench/stemming.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from scifact import load_claims, load_corpus, ndcg_at, recall_at  # noqa: E402
from whoosh import index as windex  # noqa: E402
from whoosh import query as wquery  # noqa: E402
from whoosh.fields import ID, Schema  # noqa: E402

from evidence.index._whoosh.schema import STOP, EvidenceAnalyzer, FastText  # noqa: E402


def main() -> None:
    docs, claims = load_corpus(), load_claims("train")
    for stem in (True, False):
        analyzer = EvidenceAnalyzer(stem=stem)
        folder = tempfile.mkdtemp()
        index = windex.create_in(folder, Schema(key=ID(stored=True), body=FastText(analyzer=analyzer)))
        started = time.perf_counter()
        writer = index.writer(limitmb=256)
        for key, doc in docs.items():
            writer.add_document(key=key, body=doc["title"] + "\n" + " ".join(doc["sentences"]))
        writer.commit()
        build = time.perf_counter() - started
        ndcg, recall = [], []
        with index.searcher() as searcher:
            for text, relevant in claims.values():
                terms = [token.text for token in analyzer(text)]
                terms = [t for t in terms if len(t) > 1 and t not in STOP]
                query = wquery.Or([wquery.Term("body", t) for t in dict.fromkeys(terms)])
                ranked = [hit["key"] for hit in searcher.search(query, limit=100)]
                ndcg.append(ndcg_at(ranked, relevant))
                recall.append(recall_at(ranked, relevant, 100))
        print(
            f"stemming {'on ' if stem else 'off'}: build {build:.1f} s, nDCG@10 {statistics.mean(ndcg):.3f}, "
            f"Recall@100 {statistics.mean(recall):.3f}"
        )


if __name__ == "__main__":
    main()
