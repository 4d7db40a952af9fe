"""Citing: reading an article's citations, CSL-JSON, the CSL engine, reference lists."""
