"""The blocks of a saved parse as one sequence whose members are made from their rows only when asked for.

A library of 100,000 entries read from its rows (``derived.read_saved_parse``) would otherwise make 100,000 block
objects on every command that loads it, most of what writing one work to it cost (bench/writes.py, issue 22). Until
a block is asked for, the columns read with the rows (each block's length in bytes, key, DOI and aliases) answer
what the library-wide lookups need (``BibFile.keys``, ``doi_map``, ``unchanged_prefix``); a block asked for is made
by ``make`` (the rows of a whole range in one query) and kept, so a change made to it stays. Blocks added at the end
are held apart. Any other change to the sequence (a block put in or taken out among the rows) first makes every
block: from then on it is a plain list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableSequence
from itertools import accumulate
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from evidence.store.bibfile import Block

# make(first, spans, rows_of): the blocks of the rows from ``first`` on, one for each (start, length) in ``spans``,
# as the rows recorded for the file whose fingerprint is ``rows_of`` describe them
Make = Callable[[int, list[tuple[int, int]], str], list["Block"]]
# Past this many stretches of blocks to make between made ones, one query makes them all (the made ones kept)
STRETCHES = 16


class RowBlocks(MutableSequence):
    """A file's blocks, made from its rows on demand. ``rows_of``: the fingerprint of the file the rows describe
    (the one read, then each one this command writes), so that a block is never made from rows another command
    has rewritten since."""

    def __init__(
        self,
        source: bytes,
        head_bytes: int,
        lengths: list[int],
        hints: tuple[list, list, list],
        make: Make,
        rows_of: str,
    ):
        self.source = source  # the bytes the blocks not yet made stand in, where their rows say
        self.rows_of = rows_of
        self._starts = list(accumulate(lengths, initial=head_bytes))
        self._lengths = lengths
        self._keys, self._dois, self._aliases = hints  # per row: key, DOI, aliases one a line (None: none)
        self._count = len(lengths)
        self._make = make
        self._made: dict[int, Block] = {}
        self._after: list[Block] = []  # the blocks added after the rows' last
        self._plain: list[Block] | None = None  # every block, once the sequence changed other than at its end

    # The sequence --------------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._plain) if self._plain is not None else self._count + len(self._after)

    def __getitem__(self, where):
        if self._plain is not None:
            return self._plain[where]
        if isinstance(where, slice):
            numbers = range(*where.indices(len(self)))
            if numbers.step == 1 and numbers:
                self._make_range(numbers.start, min(numbers.stop, self._count))
            return [self._block(number) for number in numbers]
        return self._block(self._number(where))

    def __setitem__(self, where, value) -> None:
        if self._plain is None and isinstance(where, slice):
            first, stop, step = where.indices(len(self))
            if step == 1 and first >= self._count:
                self._after[first - self._count : max(stop, first) - self._count] = value
                return
            value = list(value)
            if step == 1 and len(value) == max(stop - first, 0):  # as many in their place: nothing moves
                for number, block in enumerate(value, start=first):
                    self[number] = block
                return
        elif self._plain is None:
            number = self._number(where)
            if number < self._count:
                self._made[number] = value
            else:
                self._after[number - self._count] = value
            return
        self._as_plain()[where] = value

    def __delitem__(self, where) -> None:
        if self._plain is None and isinstance(where, slice):
            first, stop, step = where.indices(len(self))
            if step == 1 and first >= self._count:
                del self._after[first - self._count : max(stop, first) - self._count]
                return
        elif self._plain is None and self._number(where) >= self._count:
            del self._after[self._number(where) - self._count]
            return
        del self._as_plain()[where]

    def insert(self, number: int, value: Block) -> None:
        if self._plain is None and number >= len(self):
            self._after.append(value)
        else:
            self._as_plain().insert(number, value)

    def __iter__(self) -> Iterator[Block]:
        return iter(self[:])  # every block made in one query, not one a block

    def __eq__(self, other) -> bool:
        if not isinstance(other, (list, RowBlocks)):
            return NotImplemented
        return list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]  # a mutable sequence, as a list is

    # What lookups read without making blocks ----------------------------------------------------------------------
    def hints(self) -> tuple[list, list, list] | None:
        """(keys, DOIs, aliases one a line) of every block in order, None where a block has none: the rows' own for
        the blocks not yet made, the blocks' own for the others. None once the sequence is a plain list."""
        if self._plain is not None:
            return None
        keys, dois, aliases = list(self._keys), list(self._dois), list(self._aliases)
        for number, block in self._made.items():
            keys[number], dois[number], aliases[number] = block_hints(block)
        for block in self._after:
            key, doi, joined = block_hints(block)
            keys.append(key)
            dois.append(doi)
            aliases.append(joined)
        return keys, dois, aliases

    def unchanged_from_start(self, source: bytes, position: int) -> tuple[int, int]:
        """(bytes, blocks) of ``source`` from the start that the rows' blocks still hold as it is, counted from
        ``position`` (where the first block starts), as ``BibFile.unchanged_prefix`` counts them: a block not yet
        made stands where its row says, in these very bytes, while every block before it does; a made one is
        asked. (position, 0) where that is not known here (the bytes are others, or the sequence is a plain list)."""
        if self._plain is not None or source is not self.source or position != self._starts[0]:
            return position, 0
        for number in sorted(self._made):
            length = self._made[number].unchanged_at(source, self._starts[number])
            if length is None:
                return self._starts[number], number
            if length != self._lengths[number]:  # the blocks after it no longer stand where their rows say
                return self._starts[number] + length, number + 1
        return self._starts[self._count], self._count

    # Making blocks ------------------------------------------------------------------------------------------------
    def _number(self, where: int) -> int:
        number = where + len(self) if where < 0 else where
        if not 0 <= number < len(self):
            raise IndexError("block index out of range")
        return number

    def _block(self, number: int) -> Block:
        if number >= self._count:
            return self._after[number - self._count]
        block = self._made.get(number)
        if block is None:
            self._make_range(number, number + 1)
            block = self._made[number]
        return block

    def _make_range(self, first: int, stop: int) -> None:
        """Make the blocks of rows ``first`` to ``stop`` not yet made, a query for each stretch of them (or one for
        all, where the made ones break them into more than ``STRETCHES``); made ones are kept as they are."""
        missing = [number for number in range(first, stop) if number not in self._made]
        if not missing:
            return
        stretches = [[missing[0], missing[0] + 1]]
        for number in missing[1:]:
            if number == stretches[-1][1]:
                stretches[-1][1] += 1
            else:
                stretches.append([number, number + 1])
        if len(stretches) > STRETCHES:
            stretches = [[missing[0], missing[-1] + 1]]
        for low, high in stretches:
            spans = [(self._starts[number], self._lengths[number]) for number in range(low, high)]
            for number, block in zip(range(low, high), self._make(low, spans, self.rows_of), strict=True):
                self._made.setdefault(number, block)

    def _as_plain(self) -> list[Block]:
        if self._plain is None:
            self._make_range(0, self._count)
            self._plain = [self._made[number] for number in range(self._count)] + self._after
            self._made, self._after = {}, []
        return self._plain


def block_hints(block: Block) -> tuple[str | None, str | None, str | None]:
    """A block's (key, DOI, aliases one a line) as the rows hold them: None where it has none."""
    return block.key, block.doi or None, "\n".join(block.citable_keys[1:]) or None
