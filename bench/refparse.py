"""Reference-string parsing accuracy of evidence.check.refparse, on labelled strings from other projects.

1. GROBID's evaluation set (../shared/test-corpora/reference-strings/grobid/.../citation/evaluation/*.tei.xml):
   each <bibl> is a reference string with its fields labelled. Per field, the share of references whose labelled
   value evidence's parser gets right: first author's family name, year, title (same words), journal, volume, first
   page. Only references where the label exists count for that field.
2. AnyStyle's curated gold set (../shared/test-corpora/reference-strings/anystyle/res/parser/gold.xml): 1,669
   strings from many disciplines and styles, each a <sequence> of labelled parts; the string is the parts joined.
   Same fields and scoring (journal: <journal>, else <container-title>). The rules were tuned looking at gold.xml's
   failures; AnyStyle's core.xml (1,514 strings) is reported as a held-out check.
3. DOI extraction recall on publisher-deposited reference strings that contain their DOI
   (crossref-deposited-references.jsonl.gz, strings from Crossref records): does find_dois() return the true DOI?

Usage: python bench/refparse.py
"""

from __future__ import annotations

import gzip
import json
import os
import platform
import re
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STRINGS = ROOT.parent / "shared" / "test-corpora" / "reference-strings"
GROBID = STRINGS / "grobid" / "grobid-trainer" / "resources" / "dataset" / "citation" / "evaluation"
sys.path.insert(0, str(ROOT))

from evidence.check.compare import _plain, journals_agree, titles_agree  # noqa: E402
from evidence.check.refparse import parse_reference  # noqa: E402
from evidence.doi import find_dois  # noqa: E402

TEI = "{http://www.tei-c.org/ns/1.0}"


def labelled():
    for path in sorted(GROBID.glob("*.xml")):
        root = ET.parse(path).getroot()
        for bibl in root.iter(f"{TEI}bibl"):
            text = " ".join("".join(bibl.itertext()).split())
            labels = {}
            author = bibl.find(f"{TEI}author")
            if author is not None and author.text:
                first = re.split(r",| and |&|;", " ".join("".join(author.itertext()).split()))[0]
                words = [w for w in re.findall(r"[\w'’-]+", first) if len(w) > 1 and not w.isupper()]
                if words:
                    labels["first author"] = words
            for title in bibl.findall(f"{TEI}title"):
                value = " ".join("".join(title.itertext()).split())
                labels["title" if title.get("level") == "a" else "journal" if title.get("level") == "j" else "x"] = (
                    value
                )
            date = bibl.find(f"{TEI}date")
            if date is not None:
                year = re.search(r"(19|20)\d{2}", "".join(date.itertext()))
                if year:
                    labels["year"] = year.group(0)
            for scope in bibl.findall(f"{TEI}biblScope"):
                value = "".join(scope.itertext()).strip()
                if scope.get("unit") == "volume":
                    labels["volume"] = value
                elif scope.get("unit") == "page":
                    labels["first page"] = re.split(r"[-–]", value)[0].strip()
            yield text, labels


ANYSTYLE = STRINGS / "anystyle" / "res" / "parser"


def first_author_words(value: str) -> list[str]:
    first = re.split(r",| and |&|;", " ".join(value.split()))[0]
    return [w for w in re.findall(r"[\w'’-]+", first) if len(w) > 1 and not w.isupper()]


def anystyle_labelled(name: str = "gold.xml"):
    for sequence in ET.parse(ANYSTYLE / name).getroot().iter("sequence"):
        parts = [(child.tag, " ".join("".join(child.itertext()).split())) for child in sequence]
        text = " ".join(value for _tag, value in parts)
        found = dict(reversed(parts))  # the first of each tag
        labels = {}
        if found.get("author") and first_author_words(found["author"]):
            labels["first author"] = first_author_words(found["author"])
        if found.get("title"):
            labels["title"] = found["title"].strip(" .,")
        journal = found.get("journal") or found.get("container-title")
        if journal:
            labels["journal"] = re.sub(r"^In:?\s+", "", journal).strip(" .,:;")
        year = re.search(r"(1[5-9]|20)\d{2}", found.get("date", ""))
        if year:
            labels["year"] = year.group(0)
        volume = re.search(r"\d+", found.get("volume", ""))
        if volume:
            labels["volume"] = volume.group(0)
        page = re.search(r"\d+", found.get("pages", ""))
        if page:
            labels["first page"] = page.group(0)
        yield text, labels


def score(strings) -> tuple[int, Counter, Counter]:
    right, total = Counter(), Counter()
    count = 0
    for text, labels in strings:
        count += 1
        parsed = parse_reference(text)
        for name, value in labels.items():
            if name == "x":
                continue
            total[name] += 1
            if name == "first author":
                ok = _plain(parsed.first_author) in {_plain(w) for w in value}
            elif name == "title":
                ok = bool(parsed.title) and titles_agree(parsed.title, value) and titles_agree(value, parsed.title)
            elif name == "journal":
                ok = bool(parsed.journal) and journals_agree(parsed.journal, value)
            elif name == "year":
                ok = parsed.year == value
            elif name == "volume":
                ok = _plain(parsed.volume) == _plain(value)
            else:
                ok = parsed.first_page.lower() == value.lower()
            right[name] += ok
    return count, right, total


def main() -> None:
    sets = [
        ("GROBID evaluation set", score(labelled())),
        ("AnyStyle gold set (the parser's rules were tuned looking at its failures)", score(anystyle_labelled())),
        ("AnyStyle core set (held out: never looked at while tuning)", score(anystyle_labelled("core.xml"))),
    ]
    found = present = 0
    with gzip.open(STRINGS / "crossref-deposited-references.jsonl.gz", "rt", encoding="utf-8") as lines:
        for line in lines:
            ref = json.loads(line)["ref"]
            text, doi = ref.get("unstructured", ""), str(ref.get("DOI", "")).lower()
            if text and doi and doi in text.lower():
                present += 1
                found += doi in find_dois(text)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}\n"
    )
    for label, (count, right, total) in sets:
        print(f"{label}: {count} labelled reference strings\n")
        print("| field | right | labelled | accuracy |")
        print("|---|---:|---:|---:|")
        for name in ("first author", "year", "title", "journal", "volume", "first page"):
            print(f"| {name} | {right[name]} | {total[name]} | {right[name] / max(1, total[name]):.1%} |")
        print()
    print(
        f"\nDOI extraction recall (deposited strings that contain their DOI): {found}/{present} = "
        f"{found / max(1, present):.1%}"
    )


if __name__ == "__main__":
    main()
