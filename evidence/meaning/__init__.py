"""The optional meaning-based ranking: the embedding model and the works' vectors."""
