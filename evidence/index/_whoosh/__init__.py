"""What touches Whoosh's internals, pinned to whoosh-reloaded 2.7 and tested against Whoosh itself."""
