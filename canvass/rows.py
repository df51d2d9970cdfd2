"""Model instances from one raw SQL row spanning several tables.

Hot paths (every API request authenticates and resolves a membership) read a few joined rows
whose ORM querysets cost far more to build and compile than to run (bench/README.md ## Sync:
~1 ms of CPU for the token, ~1.5 ms for the membership with its campaign, organization and
team). `RowModel` gives the SELECT list of one model's concrete columns and turns its slice of
a fetched row into an instance exactly as the ORM would (backend and field converters, then
`Model.from_db`), so the raw statement returns the same objects as `select_related`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from django.db import connections
from django.db.backends.utils import CursorWrapper
from django.db.models import Model

M = TypeVar("M", bound=Model)

_Converter = Callable[[Any, Any, Any], Any]


class RowModel(Generic[M]):
    """One model's columns in a raw multi-table SELECT, aliased `alias`."""

    def __init__(self, model: type[M], alias: str) -> None:
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.attnames = [f.attname for f in self.fields]
        self.select = ", ".join(f'{alias}."{f.column}"' for f in self.fields)
        self.width = len(self.fields)
        self._converters: dict[str, list[tuple[Any, list[_Converter]]]] = {}

    def _converters_for(self, using: str) -> list[tuple[Any, list[_Converter]]]:
        conn = connections[using]
        key = f"{using}:{conn.vendor}"
        found = self._converters.get(key)
        if found is None:
            found = []
            for f in self.fields:
                col = f.get_col(self.model._meta.db_table)
                found.append(
                    (col, [*conn.ops.get_db_converters(col), *col.get_db_converters(conn)])
                )
            self._converters[key] = found
        return found

    def build(self, row: Sequence[Any], start: int = 0, using: str = "default") -> M:
        """The instance held in `row[start:start + width]`."""
        conn = connections[using]
        values = []
        for value, (col, converters) in zip(
            row[start : start + self.width], self._converters_for(using), strict=True
        ):
            for convert in converters:
                value = convert(value, col, conn)
            values.append(value)
        instance: M = self.model.from_db(using, self.attnames, values)
        return instance


def prepared_cursor(using: str = "default") -> CursorWrapper:
    """A cursor for a hot raw statement run with a constant text: on PostgreSQL it binds its
    parameters server-side, so psycopg prepares the statement once it has run
    `prepare_threshold` times on the connection (config/settings.py) and PostgreSQL then skips
    parsing and planning it (~0.2-0.5 ms of backend CPU per statement on the bench,
    bench/README.md ## Sync). Elsewhere, and when preparing is off, a plain cursor. Wrapped
    like any Django cursor (query logging, `execute_wrapper`, error translation)."""
    conn = connections[using]
    if conn.vendor != "postgresql":
        return conn.cursor()
    # (Defined only when psycopg 3 is installed, hence unknown to the stubs.)
    from django.db.backends.postgresql.base import ServerBindingCursor  # type: ignore[attr-defined]
    from django.db.backends.postgresql.psycopg_any import register_tzloader
    from psycopg.pq import Format

    # As `DatabaseWrapper._cursor()` / `create_cursor()`, with the server-binding class.
    conn.close_if_health_check_failed()
    conn.ensure_connection()
    with conn.wrap_database_errors:
        raw = ServerBindingCursor(conn.connection)
        loader = conn.connection.adapters.get_loader(_TIMESTAMPTZ_OID, Format.TEXT)
        if conn.timezone != loader.timezone:
            register_tzloader(conn.timezone, raw)
        cursor: CursorWrapper = conn._prepare_cursor(raw)  # type: ignore[attr-defined]
        return cursor


_TIMESTAMPTZ_OID = 1184
