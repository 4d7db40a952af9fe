"""Search: the index interface and its Whoosh engine; Whoosh's internals stay in _whoosh."""
