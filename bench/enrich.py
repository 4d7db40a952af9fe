"""Enrichment from PubMed, Europe PMC and OpenAlex, on the shared recordings, through the real command.

The recordings in ../shared/test-corpora/abstract-sources/ are served by the tests' loopback fake
(tests/fakebiblio.py). No Crossref record in the shared corpora shares a DOI with them (checked by this script), so
the library is what `import` of a reference manager's .bib gives: each recorded work's DOI, title, first author and
year, no abstract. Measured, in one run:

- the share of works with an abstract, a PMID and publication types before and after `evidence enrich`, and which
  service filled each abstract;
- requests per work, and the rerun's requests (should be 0);
- the wording heuristic's study design against the design PubMed's publication types give, on every recorded
  PubMed article whose types name a design (accuracy, and the confusions).

Usage: python bench/enrich.py  (writes a table to stdout; copy it to bench/RESULTS.md with the machine and date)
"""

from __future__ import annotations

import glob
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from fakebiblio import CORPUS, FakeBiblio  # noqa: E402

from evidence.claims.design import classify_design, design_from_types  # noqa: E402
from evidence.sources import europepmc_json, openalex_json, pubmed_xml  # noqa: E402
from evidence.store.bibtex import encode_fields, format_entry  # noqa: E402


def recorded_works() -> dict[str, dict]:
    """{doi: bibliographic fields} for every recorded work with a DOI (PubMed first, then Europe PMC, OpenAlex)."""
    works: dict[str, dict] = {}
    for path in sorted(glob.glob(str(CORPUS / "pubmed" / "*" / "*.xml"))):
        data = Path(path).read_bytes()
        if b"eSearchResult" in data[:500]:
            continue
        for found in pubmed_xml.articles(data):
            if found.doi:
                works.setdefault(found.doi, {k: found.fields.get(k, "") for k in ("title", "author", "year")})
    for path in sorted(glob.glob(str(CORPUS / "europepmc" / "*" / "*.json"))):
        try:
            results = europepmc_json.results(json.loads(Path(path).read_text()))
        except Exception:  # noqa: BLE001 - a recording of another answer shape (idlist): not works
            continue
        for found in results:
            if found.doi:
                works.setdefault(found.doi, {k: found.fields.get(k, "") for k in ("title", "year")})
    for path in sorted(glob.glob(str(CORPUS / "openalex" / "*" / "*.json"))):
        data = json.loads(Path(path).read_text())
        for item in data["results"] if isinstance(data, dict) and "results" in data else [data]:
            (found,) = openalex_json.works({"results": [item]}) or [None]
            if found is not None and found.doi:
                title = str(item.get("title") or item.get("display_name") or "")
                works.setdefault(found.doi, {"title": title, "year": str(item.get("publication_year") or "")})
    return works


def crossref_overlap(dois: set[str]) -> int:
    count = 0
    for path in glob.glob(str(CORPUS.parent / "crossref-*" / "**" / "*.json"), recursive=True):
        text = Path(path).read_text(errors="ignore").lower()
        count += sum(1 for doi in dois if f'"{doi}"' in text)
    return count


def design_accuracy() -> tuple[int, int, Counter]:
    right, total, confusions = 0, 0, Counter()
    for path in sorted(glob.glob(str(CORPUS / "pubmed" / "*" / "*.xml"))):
        data = Path(path).read_bytes()
        if b"eSearchResult" in data[:500]:
            continue
        for found in pubmed_xml.articles(data):
            typed = design_from_types(list(found.publication_types))
            if typed is None:
                continue
            guessed = classify_design(found.fields.get("title", ""), found.abstract)
            total += 1
            right += guessed == typed
            if guessed != typed:
                confusions[(typed, guessed)] += 1
    return right, total, confusions


def share(bib: str, field: str, works: int) -> float:
    return sum(1 for line in bib.splitlines() if line.strip().startswith(f"{field} =")) / works


def main() -> None:
    works = recorded_works()
    fake = FakeBiblio().start()
    env = dict(
        os.environ,
        EVIDENCE_PUBMED_URL=fake.url + "/eutils",
        EVIDENCE_IDCONV_URL=fake.url + "/idconv",
        EVIDENCE_EUROPEPMC_URL=fake.url + "/europepmc",
        EVIDENCE_OPENALEX_URL=fake.url + "/openalex",
        EVIDENCE_CROSSREF_URL="http://127.0.0.1:9",
    )
    folder = Path(tempfile.mkdtemp(prefix="enrich-bench-"))
    library = folder / "lib"
    run = [sys.executable, "-m", "evidence", "-L", str(library)]
    subprocess.run([sys.executable, "-m", "evidence", "init", str(library)], env=env, check=True, capture_output=True)
    entries = []
    for number, (doi, fields) in enumerate(sorted(works.items())):
        plain = {name: value for name, value in {**fields, "doi": doi}.items() if value}
        entries.append(format_entry("article", f"w{number}", encode_fields(plain)))
    (folder / "import.bib").write_text("\n\n".join(entries) + "\n")
    subprocess.run([*run, "--offline", "import", str(folder / "import.bib")], env=env, check=True, capture_output=True)
    before = (library / "references.bib").read_text()
    started = time.perf_counter()
    first = subprocess.run([*run, "enrich", "--json"], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    report = json.loads(first.stdout)
    again = json.loads(subprocess.run([*run, "enrich", "--json"], env=env, capture_output=True, text=True).stdout)
    after = (library / "references.bib").read_text()
    count = len(works)
    by_service = Counter(
        source.split(":")[0]
        for outcome in report["outcomes"]
        for name, source in outcome["filled"]
        if name == "abstract"
    )
    per_service = Counter(entry[0] for entry in fake.log)
    right, total, confusions = design_accuracy()
    fake.stop()
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"machine: {machine}, {time.strftime('%Y-%m-%d')}")
    print(
        f"recorded works with a DOI: {count}; Crossref records in the shared corpora with one of these DOIs: "
        f"{crossref_overlap(set(works))}"
    )
    print()
    print("| | before | after enrich |")
    print("|---|---:|---:|")
    for field in ("abstract", "pmid", "pmcid", "publication-types"):
        print(f"| works with {field} | {share(before, field, count):.1%} | {share(after, field, count):.1%} |")
    print()
    print(f"abstracts filled by service: {dict(by_service)}")
    print(
        f"requests: {report['requests']} for {count} works ({report['requests'] / count:.2f} a work; "
        f"by service {dict(per_service)}), {seconds:.1f} s; rerun: {again['requests']} requests"
    )
    print(f"design heuristic against PubMed's publication types: {right} of {total} ({right / total:.1%})")
    for (typed, guessed), times in confusions.most_common():
        print(f"  types say {typed!r}, wording says {guessed!r}: {times}")


if __name__ == "__main__":
    main()
