"""Crash safety: SIGKILL `evidence add --from` at random moments of a 200-DOI run, 50 times, rerunning each time;
then SIGKILL `evidence import` of 6,000 works (written in batches) 50 times.

Five rounds of ten kills, each round on a fresh library (so kills land while fetching, not only in reruns).

After every kill: references.bib parses (bibtexparser and pybtex agree), no key appears twice, every record file is
valid JSON. At the end: all 200 works present once, one record each, and the index rebuilds and finds them.

Then the import: each kill lands at a random moment of an import of 6,000 works into that library (three batches
written, stored and indexed before it ends). After every kill, the library must be all or nothing: references.bib
byte for byte as before, or (when the kill came after the import had written all) with all 6,000 once; and a
search, the next command, finds none of them or all. At the end, the import run to completion: 6,200 works, each
once, all found.
Too slow for the test suite (tests/test_fetch.py kills three times, tests/test_import.py once); run by hand.

Usage: python bench/crash.py [--kills 50] [--import-kills 50] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
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
    parser.add_argument("--import-kills", type=int, default=50)
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
        ok = finished.returncode == 0 and dois == sorted(records) and found == 200
        print(
            f"\n{args.kills} kills ({complete_before_kill} runs had already finished), final run exit "
            f"{finished.returncode}; {len(dois)} of {len(records)} works, each once; search finds {found}; "
            f"{time.perf_counter() - started:.0f} s. {'PASS' if ok else 'FAIL'}\n",
            flush=True,
        )
        started = time.perf_counter()
        ok = import_kills(library, Path(scratch), env, rng, args.import_kills) and ok
        print(f"{time.perf_counter() - started:.0f} s. {'PASS' if ok else 'FAIL'}")
    server.stop()
    sys.exit(0 if ok else 1)


IMPORTED = 6000


def _found(library: Path, env: dict) -> int:
    command = [sys.executable, "-m", "evidence", "--library", str(library), "search", "quokkabench"]
    result = subprocess.run([*command, "-n", str(IMPORTED + 10), "--json"], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return len(json.loads(result.stdout)["hits"])


def import_kills(library: Path, scratch: Path, env: dict, rng: random.Random, kills: int) -> bool:
    """The import part (see the module): True when every kill left all or nothing and the last run added all."""
    source = scratch / "many.json"
    items = [
        {"id": f"bulk{n}", "type": "article-journal", "title": f"Quokkabench trial {n}", "DOI": f"10.5555/qb.{n}"}
        for n in range(IMPORTED)
    ]
    source.write_text(json.dumps(items))
    snapshot = scratch / "before-import"
    shutil.copytree(library, snapshot)
    before = (library / "references.bib").read_bytes()
    command = [sys.executable, "-m", "evidence", "--library", str(library), "import", str(source)]
    whole = nothing = 0
    for number in range(kills):
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, 4.5))
        process.send_signal(signal.SIGKILL)
        process.wait()
        found = _found(library, env)  # the next command: a search, which only reads
        entries = read_both(library / "references.bib")
        if (library / "references.bib").read_bytes() == before and found == 0:
            nothing += 1
            state = "nothing"
        elif len(entries) == 200 + IMPORTED and found == IMPORTED:  # killed after it had written all
            whole += 1
            state = "all"
            shutil.rmtree(library)
            shutil.copytree(snapshot, library)  # so that the next kills land in an import again
        else:
            print(f"import kill {number + 1:>2}: {len(entries)} works, search finds {found}: neither all nor none")
            return False
        print(f"import kill {number + 1:>2}: {state}", flush=True)
    finished = subprocess.run(command, env=env, capture_output=True, text=True)
    entries = read_both(library / "references.bib")
    found = _found(library, env)
    blocks = len(re.findall(r"(?m)^@\w+\{", (library / "references.bib").read_text()))
    ok = finished.returncode == 0 and len(entries) == blocks == 200 + IMPORTED and found == IMPORTED
    print(
        f"\n{kills} kills during an import of {IMPORTED} works: {nothing} left nothing, {whole} came after it had "
        f"written all (all there), none anything else; final run exit {finished.returncode}, {len(entries)} works "
        f"in {blocks} entries, search finds {found}."
    )
    return ok


if __name__ == "__main__":
    main()
