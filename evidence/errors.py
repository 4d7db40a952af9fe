"""One error hierarchy for the whole tool.

Every failure a user can meet is an ``EvidenceError`` whose message is one readable sentence and whose
``exit_code`` follows the documented contract (DESIGN.md): 2 usage, 3 bad input or library, 4 network.
Adapters translate their dependencies' exceptions into these so no foreign exception leaks upward.
"""

from __future__ import annotations


class EvidenceError(Exception):
    """Base class: a problem explained in one sentence, with the exit code the CLI should use."""

    exit_code = 3

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(EvidenceError):
    """The command was called with arguments that cannot work."""

    exit_code = 2


class BadInputError(EvidenceError):
    """A file, DOI, query or server answer the tool was given cannot be used."""

    exit_code = 3


class InvalidDOIError(BadInputError):
    """A string that looks like it was meant as a DOI but is not one."""


class NotInLibraryError(BadInputError):
    """A work, article or claim asked for by its name is not in the library (the web app answers 404)."""


class QuerySyntaxError(BadInputError):
    """A search query that cannot be parsed as the user wrote it."""


class LibraryError(EvidenceError):
    """The library folder is missing, unreadable, unwritable or damaged."""

    exit_code = 3


class NetworkError(EvidenceError):
    """The remote service could not be reached at all (exit 4), as opposed to answering 'not found'."""

    exit_code = 4


class RemoteDataError(BadInputError):
    """The remote service answered, but with something that is not the record we asked for."""
