"""Output: terminal text and JSON, and the HTML report."""
