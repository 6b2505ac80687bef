"""A cell that cannot be read: the one exception every register's cell parsers raise.

Plain Python, no Django. A parser turns a raw cell into a clean value or raises CellError with a
Chinese reason; the planners report it against the cell's sheet, row and column.
"""

from __future__ import annotations


class CellError(Exception):
    """A cell that cannot be read; `message` is shown to the user as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
