"""Fetch throughput: `evidence add --from` against habanero, on one fake Crossref with the polite pool's limits.

The fake server (tests/fakeserver.py) enforces Crossref's polite-pool limits from December 2025 (10 single-record
requests/s, 3 list requests/s, 3 at a time; beyond them it answers 429 with Retry-After) and adds 100 ms latency to
every answer. It serves 1,000 real Crossref work records from ../shared/test-corpora/crossref-works/. In the same
run this script times:

  (a) `evidence add --from dois.txt` into an empty library, in a fresh process (fetching, storing the records and
      references.bib, and indexing all count);
  (b) habanero 2.9.2's `Crossref(base_url=..., mailto=...).works(ids=dois, warn=True)`, as its users call it
      (fetching only: it stores nothing);
  (c) the bound the limits set: list requests per second times the batch size evidence uses;
  (d) a rerun of (a), which must make no requests.

Usage: python bench/fetch.py [--dois 1000] [--latency 0.1]   (writes nothing; paste the table into RESULTS.md)
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "test-corpora" / "crossref-works"
sys.path.insert(0, str(ROOT / "tests"))

from fakeserver import FakeCrossref  # noqa: E402

POLITE = (10.0, 3.0, 3)
MAILTO = "bench@example.org"


def real_records(count: int) -> dict[str, dict]:
    """The first ``count`` distinct works (by DOI) of the habanero and rcrossref recordings, in file order."""
    records: dict[str, dict] = {}
    for name in ("habanero/habanero_works.jsonl.gz", "rcrossref/rcrossref_works.jsonl.gz"):
        with gzip.open(SHARED / name, "rt", encoding="utf-8") as lines:
            for line in lines:
                work = json.loads(line)["work"]
                doi = str(work.get("DOI", "")).lower()
                if doi and doi not in records and "/" in doi:
                    records[doi] = work
                if len(records) >= count:
                    return records
    return records


def run_evidence(server: FakeCrossref, library: Path, listing: Path) -> tuple[float, dict]:
    env = dict(os.environ, EVIDENCE_CROSSREF_URL=server.url, EVIDENCE_DOI_URL=server.url, EVIDENCE_MAILTO=MAILTO)
    env.pop("EVIDENCE_OFFLINE", None)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "evidence", "--library", str(library), "add", "--from", str(listing), "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"evidence add failed ({done.returncode}): {done.stderr.strip()}")
    return elapsed, json.loads(done.stdout)


def run_habanero(server: FakeCrossref, dois: list[str]) -> tuple[float, int]:
    from habanero import Crossref

    client = Crossref(base_url=server.url, mailto=MAILTO)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        answers = client.works(ids=dois, warn=True)
    elapsed = time.perf_counter() - started
    return elapsed, sum(1 for answer in answers if answer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dois", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.1)
    args = parser.parse_args()

    records = real_records(args.dois)
    dois = list(records)
    print(f"{len(dois)} DOIs, polite-pool limits {POLITE}, {args.latency * 1000:.0f} ms latency")
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        scratch_path = Path(scratch)
        listing = scratch_path / "dois.txt"
        listing.write_text("\n".join(dois) + "\n")
        library = scratch_path / "lib"
        subprocess.run([sys.executable, "-m", "evidence", "init", str(library)], check=True, capture_output=True)
        # Crossref fetching is what is measured: PubMed, Europe PMC and OpenAlex are not asked (bench/enrich.py).
        (library / "evidence.toml").write_text("[sources]\nenrich = []\n")

        server = FakeCrossref(records=records, limits=POLITE, latency=args.latency).start()
        try:
            before = len(server.log)
            seconds, report = run_evidence(server, library, listing)
            stored = sum(1 for o in report["outcomes"] if o["status"] in ("added", "present"))
            requests = len(server.log) - before
            rows.append(("evidence add --from (fetch+store+index)", seconds, stored, requests, server.rejected))
            from evidence.sources.crossref import CrossrefClient

            batch = CrossrefClient(server.url, mailto=MAILTO).batch_size_for(dois)

            rerun_before = len(server.log)
            rerun_seconds, _ = run_evidence(server, library, listing)
            rerun_requests = len(server.log) - rerun_before

            rejected_before, log_before = server.rejected, len(server.log)
            hab_seconds, hab_ok = run_habanero(server, dois)
            rows.append(
                (
                    "habanero works(ids=...) (fetch only)",
                    hab_seconds,
                    hab_ok,
                    len(server.log) - log_before,
                    server.rejected - rejected_before,
                )
            )
        finally:
            server.stop()

    bound_rate = POLITE[1] * batch
    print()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}"
    )
    print()
    print("| run | seconds | DOIs/s | DOIs stored or returned | requests | 429s |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, seconds, ok, requests, rejected in rows:
        print(f"| {name} | {seconds:.1f} | {ok / seconds:.1f} | {ok} | {requests} | {rejected} |")
    print(
        f"| bound: {POLITE[1]:.0f} list requests/s x {batch} DOIs | {len(dois) / bound_rate:.1f} | {bound_rate:.0f} "
        "| | | |"
    )
    print(f"| rerun of evidence add --from | {rerun_seconds:.1f} | | | {rerun_requests} | |")
    ratio = (rows[0][2] / rows[0][1]) / (rows[1][2] / rows[1][1]) if rows[1][2] else float("inf")
    print()
    print(f"evidence / habanero throughput: {ratio:.1f}x")


if __name__ == "__main__":
    main()
