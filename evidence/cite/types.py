"""Every table of work types in one place: Crossref's, CSL's and BibTeX's names for the same kinds of work, and the
one rule for writing page ranges."""

from __future__ import annotations

# Crossref type -> BibTeX entry type (classic BibTeX types, which biber and Pandoc also read).
CROSSREF_TO_BIBTEX = {
    "journal-article": "article",
    "book-chapter": "incollection",
    "book-section": "incollection",
    "book-part": "incollection",
    "reference-entry": "incollection",
    "proceedings-article": "inproceedings",
    "book": "book",
    "monograph": "book",
    "edited-book": "book",
    "reference-book": "book",
    "book-set": "book",
    "book-series": "book",
    "report": "techreport",
    "report-component": "techreport",
    "dissertation": "phdthesis",
    "proceedings": "proceedings",
    "standard": "misc",
    "dataset": "misc",
    "posted-content": "misc",
    "peer-review": "misc",
    "component": "misc",
    "journal-issue": "misc",
    "journal": "misc",
    "other": "misc",
}

# CSL type -> BibTeX type.
CSL_TO_BIBTEX = {
    "article-journal": "article",
    "article-magazine": "article",
    "article-newspaper": "article",
    "article": "article",
    "chapter": "incollection",
    "entry-encyclopedia": "incollection",
    "entry-dictionary": "incollection",
    "paper-conference": "inproceedings",
    "book": "book",
    "report": "techreport",
    "thesis": "phdthesis",
    "dataset": "misc",
    "webpage": "misc",
    "post": "misc",
    "manuscript": "unpublished",
    # Crossref's own type names, which its CSL output (content negotiation) keeps instead of CSL's.
    **CROSSREF_TO_BIBTEX,
}

BIBTEX_TO_CSL = {
    "article": "article-journal",
    "incollection": "chapter",
    "inbook": "chapter",
    "inproceedings": "paper-conference",
    "conference": "paper-conference",
    "book": "book",
    "proceedings": "book",
    "techreport": "report",
    "phdthesis": "thesis",
    "mastersthesis": "thesis",
    "unpublished": "manuscript",
    "online": "webpage",
    "misc": "document",
}


def bibtex_pages(pages: str) -> str:
    """A page range as BibTeX writes it: '75--81', whatever dash it came with ('75-81', '75–81', '75--81')."""
    return pages.replace("\u2013", "-").replace("--", "-").replace("-", "--")


def csl_pages(pages: str) -> str:
    """A page range as CSL-JSON writes it: '75-81'."""
    return pages.replace("\u2013", "-").replace("--", "-")
