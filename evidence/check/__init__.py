"""Checking references: reading written references, comparing them with records, the checker."""
