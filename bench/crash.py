"""Crash safety: SIGKILL `evidence add --from` at random moments of a 200-DOI run, 50 times, rerunning each time.

Five rounds of ten kills, each round on a fresh library (so kills land while fetching, not only in reruns).

After every kill: references.bib parses (bibtexparser and pybtex agree), no key appears twice, every record file is
valid JSON. At the end: all 200 works present once, one record each, and the index rebuilds and finds them.
Too slow for the test suite (tests/test_fetch.py kills three times); run by hand.

Usage: python bench/crash.py [--kills 50] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from bibcheck import read_both  # noqa: E402
from fakeserver import FakeCrossref  # noqa: E402
from test_fetch import synthetic_records  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    records = synthetic_records(200, suffix_length=140)
    server = FakeCrossref(records=records, latency=0.05).start()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        library = Path(scratch) / "lib"
        listing = Path(scratch) / "dois.txt"
        listing.write_text("\n".join(records))
        env = dict(
            os.environ,
            EVIDENCE_CROSSREF_URL=server.url,
            EVIDENCE_DOI_URL=server.url,
            EVIDENCE_MAILTO="bench@example.org",
            PYTHONPATH=str(ROOT),
        )
        command = [sys.executable, "-m", "evidence", "--library", str(library), "add", "--from", str(listing)]
        complete_before_kill = 0
        for number in range(args.kills):
            if number % 10 == 0:  # a fresh library every ten kills, so that kills keep landing mid-fetch
                if number:
                    subprocess.run(command, env=env, check=True, capture_output=True)
                    assert len(read_both(library / "references.bib")) == 200, "a round lost works"
                    shutil.rmtree(library)
                subprocess.run(
                    [sys.executable, "-m", "evidence", "init", str(library)], check=True, capture_output=True
                )
                # Only the fake Crossref exists here: PubMed, Europe PMC and OpenAlex are not asked.
                (library / "evidence.toml").write_text("[sources]\nenrich = []\n")
            process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.05, 1.2))
            if process.poll() is not None:
                complete_before_kill += 1
            process.send_signal(signal.SIGKILL)
            process.wait()
            entries = read_both(library / "references.bib")
            for record in (library / "records").glob("*.json"):
                json.loads(record.read_text())
            print(
                f"kill {number + 1:>2}: {len(entries):>3} works stored, "
                f"{len(list((library / 'records').glob('*.json'))):>3} records",
                flush=True,
            )
        finished = subprocess.run(command, env=env, capture_output=True, text=True)
        entries = read_both(library / "references.bib")
        dois = sorted(entry["doi"] for entry in entries.values())
        search = subprocess.run(
            [sys.executable, "-m", "evidence", "--library", str(library), "search", "copy", "-n", "500", "--json"],
            env=env,
            capture_output=True,
            text=True,
        )
        found = len(json.loads(search.stdout)["hits"])
    server.stop()
    ok = finished.returncode == 0 and dois == sorted(records) and found == 200
    print(
        f"\n{args.kills} kills ({complete_before_kill} runs had already finished), final run exit "
        f"{finished.returncode}; {len(dois)} of {len(records)} works, each once; search finds {found}; "
        f"{time.perf_counter() - started:.0f} s. {'PASS' if ok else 'FAIL'}"
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
