"""SQL conditions built from the enums, for check constraints and partial indexes:
each status word is written once, in its enum."""

from __future__ import annotations

from collections.abc import Iterable


def one_of(column: str, values: Iterable[str]) -> str:
    """``column IN ('a', 'b', ...)``: the column holds one of these values."""
    return f"{column} IN (" + ", ".join(f"'{value}'" for value in values) + ")"
