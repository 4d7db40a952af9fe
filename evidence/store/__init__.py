"""The library folder: references.bib read and written, records/, the lock, claims.toml edits."""
