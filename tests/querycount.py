"""Counting the SQL statements the app sends to its database, to pin a page to a
number of queries that does not grow with the list it shows (no N+1).

    with counting_queries() as queries:
        client.get("/national/ratify-op-icescr")
    assert len(queries) == 7, queries.report()

Every statement SQLAlchemy hands to the database driver through the app's engine
(`db.engine`, the one of the current app context) is counted: SELECTs, INSERTs,
UPDATEs, SAVEPOINT and RELEASE alike. Nothing is left out. What does not pass
through the engine's cursor events is not seen, and is not the app's doing: the
PRAGMAs the SQLite connect hook runs on the raw connection, the driver's implicit
BEGIN, the pool's pre-ping and its rollback when a connection is returned.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.engine import Engine

from petition.core.extensions import db


@dataclass(repr=False)
class QueryLog:
    """The statements run during a `counting_queries` block, in order."""

    statements: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.statements)

    def __repr__(self) -> str:
        return f"QueryLog({len(self)} statements)"

    def repeated(self) -> list[tuple[str, int]]:
        """Statements run more than once, most often first: where an N+1 shows."""
        return [(sql, n) for sql, n in Counter(self.statements).most_common() if n > 1]

    def report(self) -> str:
        """Every statement, numbered (one line each), then those run more than once."""
        lines = [f"{len(self)} statements:"]
        lines += [f"  {i:>3}. {_one_line(sql)}" for i, sql in enumerate(self.statements, 1)]
        for sql, n in self.repeated():
            lines.append(f"  run {n} times: {_one_line(sql)}")
        return "\n".join(lines)


def _one_line(sql: str, width: int = 500) -> str:
    """The statement on one line, each long column list cut to its first column, so
    that what tells statements apart (FROM, JOIN, WHERE) shows."""
    flat = " ".join(sql.split())
    flat = _COLUMNS.sub(_first_column, flat)
    return flat if len(flat) <= width else flat[:width] + " ..."


_COLUMNS = re.compile(r"SELECT (DISTINCT )?([^()]+?) FROM ")


def _first_column(match: re.Match) -> str:
    columns = match.group(2).split(", ")
    shown = f"{columns[0]}, ... ({len(columns)} columns)" if len(columns) > 3 else match.group(2)
    return f"SELECT {match.group(1) or ''}{shown} FROM "


@contextmanager
def counting_queries(engine: Engine | None = None) -> Iterator[QueryLog]:
    """Record every statement executed on ``engine`` (the app's, by default: call it
    inside the app context) until the block ends."""
    engine = engine if engine is not None else db.engine
    log = QueryLog()

    def record(_connection, _cursor, statement, _parameters, _context, _executemany) -> None:
        log.statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", record)


def queries_of_request(client, path: str, expected_status: int = 200):
    """GET ``path`` as a first request of its own would run: with an empty database
    session, as each request has in production (the tests keep one app context, hence
    one session, open across requests, and objects a previous request left in it
    would spare this one queries). The response and its QueryLog."""
    db.session.remove()
    with counting_queries() as log:
        response = client.get(path)
    assert response.status_code == expected_status, f"GET {path}: {response.status_code}"
    return response, log


def assert_constant_queries(counted: list[tuple[str, QueryLog, QueryLog]], small: str, large: str) -> None:
    """Each (page, its queries with the small list, with the large one) ran as many
    statements for both. A failure names every page with its two counts, then lists
    the statements of each page that differs; the counts are printed either way."""
    summary = "\n".join(f"  {page}: {len(few)} queries for {small}, {len(many)} for {large}"
                        for page, few, many in counted)
    print(summary)
    failures = [(page, few, many) for page, few, many in counted if len(few) != len(many)]
    details = "".join(f"\n\n{page}\n-- for {small}: {few.report()}\n-- for {large}: {many.report()}"
                      for page, few, many in failures)
    assert not failures, f"queries grow with the list on {len(failures)} page(s):\n{summary}{details}"
