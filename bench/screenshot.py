"""A picture of the HTML report, for a person to look at: renders the embedded article's report in headless
Chromium (Debian's chromium package) and writes bench/report.png.

Usage: python bench/screenshot.py   (offline; uses the embedded library)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise SystemExit("Chromium is not installed (Debian: apt-get install chromium).")
    with tempfile.TemporaryDirectory() as scratch:
        library = Path(scratch) / "library"
        shutil.copytree(ROOT / "library", library, ignore=shutil.ignore_patterns(".index", ".lock"))
        page = Path(scratch) / "report.html"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "evidence",
                "--library",
                str(library),
                "--offline",
                "report",
                str(library / "articles" / "nerve-pain.md"),
                "--html",
                str(page),
            ],
            check=True,
            capture_output=True,
        )
        target = ROOT / "bench" / "report.png"
        subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--user-data-dir={scratch}/profile",
                "--window-size=1100,3200",
                f"--screenshot={target}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
