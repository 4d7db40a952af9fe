"""Meaning-based ranking: the embedding model, the works' vectors and the shown sentences' vectors."""
