"""What every importer shares: the ImportRun lifecycle, the error type, streaming CSV reading.

Failure policy (decided here, the same for every importer):
- The ImportRun row is created (status `running`) and committed *before* the work starts.
- The work runs in one `transaction.atomic` block. Any structural problem (not JSON, wrong
  GeoJSON type, missing columns, bad encoding, an invalid geometry) raises `ImportFailed`:
  the block rolls back, so NOTHING of the import is stored (no districts, doors, people, links or
  row issues), and the run is then marked `failed` with the error message, so a director can see
  what was tried and why it failed.
- Row-level problems that do not make the file unusable (an address that matches no door, an
  out-of-range year) do not fail the import: the row is imported as far as it can be and an
  ImportRowIssue is recorded (downloadable as CSV). Nothing is dropped silently.

Row numbers in messages and issues are physical line numbers of the file (the header is line 1),
so they match what a spreadsheet or `sed -n Np` shows.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from canvass.errors import InvalidInput
from canvass.models import ImportRun, ImportStatus, Organization

Progress = Callable[[str], None]
Source = str | Path | IO[bytes]

# Rows per bulk_create / bulk_update round trip: big enough to amortise the query, small enough
# that one batch of model instances stays a few MB.
BATCH = 2_000


class ImportFailed(InvalidInput):
    """The file cannot be imported as a whole; nothing was stored. `code` says why."""

    status = 400
    code = "import_failed"


def source_name(source: Source) -> str:
    if isinstance(source, str | Path):
        return Path(source).name
    return str(getattr(source, "name", "") or "upload")[:255]


@contextmanager
def open_binary(source: Source) -> Iterator[IO[bytes]]:
    """A binary file object for a path or an already open (uploaded) file."""
    if isinstance(source, str | Path):
        try:
            fh = Path(source).open("rb")  # noqa: SIM115 (closed by the with below)
        except OSError as exc:
            raise ImportFailed(
                f"Cannot read {source}: {exc.strerror}.", code="file_unreadable"
            ) from exc
        with fh:
            yield fh
    else:
        if hasattr(source, "seek"):
            source.seek(0)
        yield source


def import_run_start(
    *,
    organization: Organization,
    kind: str,
    source: Source,
    preset: str = "",
    options: dict[str, Any] | None = None,
    created_by: AbstractBaseUser | None = None,
) -> ImportRun:
    run = ImportRun(
        organization=organization,
        kind=kind,
        source_name=source_name(source),
        preset=preset or "",
        options=options or {},
        created_by=created_by if created_by is not None and created_by.is_authenticated else None,  # type: ignore[misc]
    )
    run.full_clean()
    run.save()
    return run


def import_run_execute(
    run: ImportRun,
    work: Callable[[ImportRun], None],
    *,
    analyze: Sequence[type[models.Model]] = (),
) -> ImportRun:
    """Run `work(run)` all-or-nothing; mark the run succeeded or failed (see module docstring).

    Then, on PostgreSQL, refresh the planner's statistics of the `analyze` tables (what the
    import wrote): the campaign's first pushes often come minutes after its voter file is
    loaded, before autovacuum has looked at the table, and a planner that still believes
    the people table nearly empty reads every person of the organization for each batch
    (bench/README.md ## Sync)."""
    started = time.monotonic()
    try:
        with transaction.atomic():
            work(run)
            run.status = ImportStatus.SUCCEEDED
            run.finished_at = timezone.now()
            run.options = {**run.options, "seconds": round(time.monotonic() - started, 3)}
            run.save()
    except IntegrityError as exc:
        # Only another import writing the same ids at the same moment gets here (ids are
        # de-duplicated within a file): report it as a clean failure, never a 500.
        failed = ImportFailed(
            "Another import changed the same records at the same time; nothing was stored. "
            "Run the import again.",
            code="import_conflict",
        )
        _mark_failed(run, failed)
        raise failed from exc
    except ImportFailed as exc:
        _mark_failed(run, exc)
        raise
    except Exception:
        # A bug, not bad input: leave no run "running" forever, and let it surface as one.
        _mark_failed(run, ImportFailed("The import stopped on an internal error."))
        raise
    if analyze and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in analyze:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    return run


def _mark_failed(run: ImportRun, exc: ImportFailed) -> None:
    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportStatus.FAILED,
        error_message=exc.message[:5000],
        finished_at=timezone.now(),
        total_rows=0,
        created_count=0,
        updated_count=0,
        unchanged_count=0,
        matched_count=0,
        unmatched_count=0,
        error_count=1,
    )
    exc.fields = {**exc.fields, "import_id": run.pk}


class CsvRows:
    """Stream a CSV file as dicts, decoding line by line so that a bad byte is reported with its
    byte offset and line, without loading the file. UTF-8 with a BOM is accepted."""

    def __init__(self, fh: IO[bytes], *, encoding: str = "utf-8", label: str = "file") -> None:
        self.fh = fh
        self.encoding = encoding
        self.label = label
        self.offset = 0
        self.line = 0
        try:
            "".encode(encoding)
        except LookupError:
            raise ImportFailed(
                f"Unknown encoding {encoding!r}.",
                code="bad_encoding",
                fields={"encoding": encoding},
            ) from None
        self._reader = csv.reader(self._lines())
        try:
            header = next(self._reader, None)
        except csv.Error as exc:
            raise self._csv_error(exc) from exc
        if not header or not any(h.strip() for h in header):
            raise ImportFailed(f"The {label} is empty (no header row).", code="empty_file")
        self.header = [h.strip() for h in header]

    def _lines(self) -> Iterator[str]:
        first = True
        for raw in self.fh:
            start = self.offset
            self.offset += len(raw)
            self.line += 1
            if first:
                first = False
                if raw.startswith(b"\xef\xbb\xbf") and self.encoding.lower().replace("-", "") in {
                    "utf8",
                    "utf8sig",
                }:
                    raw = raw[3:]
                    start += 3
            try:
                yield raw.decode(self.encoding)
            except UnicodeDecodeError as exc:
                raise ImportFailed(
                    f"The {self.label} is not valid {self.encoding} ({exc.reason}) at byte "
                    f"{start + exc.start} (line {self.line}). If it is Latin-1, import it with "
                    f"--encoding latin-1 (API: encoding=latin-1).",
                    code="bad_encoding",
                    fields={"byte_offset": start + exc.start, "line": self.line},
                ) from None

    def _csv_error(self, exc: csv.Error) -> ImportFailed:
        return ImportFailed(
            f"The {self.label} is not valid CSV at line {self.line}: {exc}.",
            code="malformed_csv",
            fields={"line": self.line},
        )

    def require(self, columns: Iterable[str]) -> None:
        missing = [c for c in columns if c not in self.header]
        if missing:
            raise ImportFailed(
                f"The {self.label} lacks the column(s) {', '.join(missing)} "
                f"(it has: {', '.join(self.header)}).",
                code="missing_columns",
                fields={"missing_columns": missing},
            )

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        width = len(self.header)
        while True:
            try:
                values = next(self._reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise self._csv_error(exc) from exc
            if not values or (len(values) == 1 and not values[0].strip()):
                continue
            if "\x00" in "".join(values):
                raise ImportFailed(
                    f"The {self.label} holds a NUL character at line {self._reader.line_num}.",
                    code="malformed_csv",
                    fields={"line": self._reader.line_num},
                )
            if len(values) < width:
                values = values + [""] * (width - len(values))
            yield self._reader.line_num, dict(zip(self.header, values, strict=False))


def load_json(fh: IO[bytes], *, label: str) -> Any:
    import json

    raw = fh.read()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ImportFailed(
            f"The {label} is not valid UTF-8 ({exc.reason}) at byte {exc.start}.",
            code="bad_encoding",
            fields={"byte_offset": exc.start},
        ) from None
    if "\x00" in text or "\\u0000" in text:
        # PostgreSQL text and jsonb cannot hold NUL: refuse it here rather than fail in SQL.
        raise ImportFailed(f"The {label} holds a NUL character.", code="malformed_json")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ImportFailed(
            f"The {label} is not valid JSON: {exc}.", code="malformed_json"
        ) from None


def text_stream(data: bytes) -> IO[bytes]:
    return io.BytesIO(data)


class IssueBuffer:
    """Collects ImportRowIssue rows and writes them in batches (inside the import's transaction,
    so a failed import leaves none behind)."""

    def __init__(self, run: ImportRun) -> None:
        from canvass.models import ImportRowIssue

        self._model = ImportRowIssue
        self.run = run
        self.pending: list[Any] = []
        self.counts: dict[str, int] = {}

    def add(self, row_number: int, code: str, message: str, raw: dict[str, Any]) -> None:
        self.counts[code] = self.counts.get(code, 0) + 1
        self.pending.append(
            self._model(
                run=self.run, row_number=row_number, code=code, message=message[:500], raw=raw
            )
        )
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self._model.objects.bulk_create(self.pending, batch_size=BATCH)
            self.pending = []


def mapped_value(row: dict[str, str], mapping: dict[str, str], field: str) -> str:
    """The value of a target field: from its mapped column, or a constant written `=value`."""
    source = mapping.get(field)
    if not source:
        return ""
    if source.startswith("="):
        return source[1:]
    return (row.get(source) or "").strip()


def mapping_columns(mapping: dict[str, str]) -> list[str]:
    """The source columns a mapping reads (constants excluded)."""
    return [c for c in mapping.values() if c and not c.startswith("=")]


def organization_resolve(*, slug: str, create: bool = False) -> Organization:
    """The organization a command imports into; created (named after the slug) if asked."""
    from django.core.management.base import CommandError

    org = Organization.objects.filter(slug=slug).first()
    if org is not None:
        return org
    if not create:
        raise CommandError(
            f"No organization with slug {slug!r}. Pass --create-org to create it, or create it "
            f"in the admin first."
        )
    from canvass.services import organization_create

    return organization_create(name=slug.replace("-", " ").title(), slug=slug)


def run_summary(run: ImportRun) -> str:
    """One line for the command line: rows, created, updated, unchanged, matched, time."""
    parts = [
        f"{run.get_kind_display()} import #{run.pk} {run.status}",
        f"rows {run.total_rows:,}",
        f"created {run.created_count:,}",
        f"updated {run.updated_count:,}",
        f"unchanged {run.unchanged_count:,}",
    ]
    if run.kind == "voters":
        parts += [f"matched {run.matched_count:,}", f"unmatched {run.unmatched_count:,}"]
        if run.options.get("matched_building"):
            parts.append(f"(building-level {run.options['matched_building']:,})")
    if run.error_count:
        parts.append(f"not imported {run.error_count:,}")
    if "links" in run.options:
        parts.append(f"district links {run.options['links']:,}")
    parts.append(f"time {run.options.get('seconds', 0):.2f} s")
    return ", ".join(parts)


def rows_insert(model: type[Any], rows: list[dict[str, Any]]) -> None:
    """INSERT plain rows (attname -> str/int/float/None) with one executemany per batch.

    Why not bulk_create: for a 100,000-row voter file, building model instances and letting the
    SQL compiler prepare every value cost ~70% of the import's CPU time. Fields the rows leave out
    get their model default (or now() for auto_now/auto_now_add, NULL when nullable), prepared
    once per batch; a field with neither makes this fail loudly rather than insert garbage.
    """
    if not rows:
        return
    from django.db import connection

    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    given = rows[0].keys()
    static: dict[str, Any] = {}
    for f in fields:
        if f.attname in given:
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            value: Any = now
        else:
            value = f.get_default()  # the declared default, "" for text fields, else None
            if value is None and not f.null:
                raise ValueError(f"{model.__name__}.{f.name} has no value and no default.")
        static[f.attname] = f.get_db_prep_save(value, connection)
    params = [
        tuple(row[f.attname] if f.attname in row else static[f.attname] for f in fields)
        for row in rows
    ]
    values_insert(model._meta.db_table, [f.column for f in fields], params)


def values_insert(table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert plain tuples fast: `COPY ... FROM STDIN` on PostgreSQL, `executemany` elsewhere.

    Why: on PostgreSQL, psycopg's `executemany` makes a round trip per row and a long multi-row
    VALUES list spends seconds being split client-side (the 17,463 Cambridge doors took 20 s
    either way); COPY takes well under a second. SQLite's own `executemany` is in-process and
    the fastest there (multi-row VALUES was 3x slower). Values must be plain Python values
    (str, int, float, None, datetime), which is what `rows_insert` and the link writer pass.
    """
    if not rows:
        return
    from django.db import connection

    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(columns))
        cursor.executemany(f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})", rows)


def external_ids_map(model: type[Any], *, organization: Organization, field: str) -> dict[str, int]:
    """external id -> pk for the organization's rows, in one sequential pass.

    Why not `filter(external_id__in=batch)` per batch: the only index on the external id is the
    partial unique one (`WHERE external_id <> ''`), which neither SQLite nor PostgreSQL (for IN
    lists over 100 values) can prove usable, so each batch scanned all of the organization's
    rows: quadratic in the file size. Batches then fetch by primary key. Memory: about 100 bytes
    per existing row (100 MB for 1,000,000 people).
    """
    rows = (
        model.objects.filter(organization=organization)
        .exclude(**{field: ""})
        .values_list(field, "id")
        .iterator(chunk_size=20_000)
    )
    return dict(rows)
