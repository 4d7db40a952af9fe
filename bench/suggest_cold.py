"""Cold `evidence suggest` against cold `evidence search` on the embedded library, side by side in one run.

Each round starts new processes, as a user's commands do: `search` (words only, no model), `suggest` with the
library's vectors already made (the model loaded from scratch, the claim and any new sentences embedded), the very
first `suggest` on a fresh copy of the library (its five works embedded too) and `suggest` with
EVIDENCE_SEMANTIC=off. The commands alternate within each round, so a slow spell of this noisy machine hits all of
them alike; the medians and their ratios to search are printed as a Markdown table for bench/RESULTS.md.

Usage: python bench/suggest_cold.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from commands import print_table, timed  # noqa: E402

CLAIM = "acupuncture raises vagal activity"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    evidence = [sys.executable, "-m", "evidence"]
    env = {**os.environ}
    off = {**env, "EVIDENCE_SEMANTIC": "off"}
    times: dict[str, list[float]] = {"search": [], "suggest": [], "first suggest": [], "suggest, words only": []}
    with tempfile.TemporaryDirectory() as scratch:
        library = Path(scratch) / "library"
        shutil.copytree(ROOT / "library", library, ignore=shutil.ignore_patterns(".index", ".embeddings", ".lock"))
        for command in (["search", CLAIM], ["suggest", CLAIM]):  # the index and the vectors made once, untimed
            timed([*evidence, "--library", str(library), *command], env)
        for round_number in range(args.rounds):
            fresh = Path(scratch) / f"fresh{round_number}"
            shutil.copytree(library, fresh, ignore=shutil.ignore_patterns(".embeddings"))
            times["search"].append(timed([*evidence, "--library", str(library), "search", CLAIM], env))
            times["suggest"].append(timed([*evidence, "--library", str(library), "suggest", CLAIM], env))
            times["first suggest"].append(timed([*evidence, "--library", str(fresh), "suggest", CLAIM], env))
            times["suggest, words only"].append(timed([*evidence, "--library", str(library), "suggest", CLAIM], off))
    print_table(times, "search", f"{args.rounds} rounds, claim {CLAIM!r}", "command (new process, embedded library)")


if __name__ == "__main__":
    main()
