"""Pictures of every page of `evidence serve`, for a person to look at: starts the command on a copy of the
embedded library (offline), drives Debian's Chromium through Playwright, and writes bench/screens/*.png (the home
page also as bench/screens/home.png, which the README shows).

Usage: python bench/serve_screens.py   (needs the test extra for Playwright, and Debian's chromium)
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "screens"


def main() -> None:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise SystemExit("Chromium is not installed (Debian: apt-get install chromium).")
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        library = Path(scratch) / "library"
        shutil.copytree(ROOT / "library", library, ignore=shutil.ignore_patterns(".index", ".lock"))
        command = [sys.executable, "-m", "evidence", "--library", str(library), "--offline", "serve"]
        server = subprocess.Popen(
            [*command, "--no-browser", "--port", "0", "--json"], stdout=subprocess.PIPE, text=True
        )
        try:
            base = json.loads(server.stdout.readline())["url"].rstrip("/")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1200, "height": 900})

                def shot(name: str, path: str) -> None:
                    page.goto(base + path)
                    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
                    print(f"bench/screens/{name}.png  {path}")

                shot("home", "/")
                shot("works", "/works")
                shot("search", "/search?q=parasympathetic+tone")
                shot("work", "/works/hamvas2023acupuncture")
                shot("claims", "/claims")
                shot("claims-suggest", "/claims?suggest=autonomic-balance#claim-autonomic-balance")
                shot("article", "/articles/nerve-pain.md?style=vancouver")
                shot("add", "/add")
                page.fill("#ids", "Hamvas et al. 2023. https://doi.org/10.1016/j.ctim.2022.102905")
                page.click("form.add button")
                page.wait_for_selector("#outcomes")
                page.screenshot(path=str(OUT / "add-result.png"), full_page=True)
                print("bench/screens/add-result.png  /add (a DOI already in the library)")
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
