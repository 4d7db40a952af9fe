"""evidence: a reference library that links an article's claims to the works that support them.

The Python API (``from evidence import Library``) returns the same dataclasses the command line renders.
"""

from evidence.version import __version__

__all__ = ["Library", "__version__"]


def __getattr__(name):
    # Imported lazily so that 'import evidence' stays cheap for commands that never open a library.
    if name == "Library":
        from evidence.api import Library

        return Library
    raise AttributeError(name)
