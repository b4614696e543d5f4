"""
Writing many rows at once: unsaved instances built cheaply, rows loaded with COPY, and their change log.

Bulk importers build tens of thousands of instances per file. ``new_instance`` fills an instance's fields
as ``Model(**values)`` would (each field's default, callable defaults called for every instance) without
the per-field work of ``Model.__init__``; ``bulk_insert`` loads instances with PostgreSQL's COPY (ids drawn
from the table's sequence first, so they can be referred to); ``ChangeLog`` writes django-auditlog entries
for them in bulk, as django-auditlog writes them one by one on save. No signals are sent: the callers
write the change log themselves.
"""

import contextlib
import json
import queue
import threading

from auditlog.cid import get_cid
from auditlog.diff import model_instance_diff
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import JSONField, signals
from django.db.models.base import ModelState
from django.utils import timezone

COPY_BATCH_ROWS = 1000


class _Blueprint:
    """A model's field defaults, worked out once: the fixed ones, and those called for every instance."""

    _by_model: dict[type, "_Blueprint"] = {}

    def __init__(self, model):
        self.fixed: dict = {}
        self.called: list[tuple[str, object]] = []
        for field in model._meta.concrete_fields:
            if field.has_default() and callable(field.default):
                self.called.append((field.attname, field.get_default))
            else:
                self.fixed[field.attname] = field.get_default()
        self.relations = {field.name: field.attname for field in model._meta.concrete_fields if field.is_relation}
        self.attnames = {field.attname for field in model._meta.concrete_fields}
        self.plain = not (signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model))

    @classmethod
    def of(cls, model) -> "_Blueprint":
        blueprint = cls._by_model.get(model)
        if blueprint is None:
            blueprint = cls._by_model[model] = cls(model)
        return blueprint


def new_instance(model, **values):
    """An unsaved ``model(**values)``: the same field values, built without ``Model.__init__``.

    ``values`` are field names (a related instance) or attnames (``vendor_id``). A model with
    ``pre_init`` / ``post_init`` receivers is built by its constructor, so they still run.
    """
    blueprint = _Blueprint.of(model)
    if not blueprint.plain:
        return model(**values)
    instance = model.__new__(model)
    state = instance.__dict__
    state.update(blueprint.fixed)
    for attname, default in blueprint.called:
        state[attname] = default()
    instance._state = ModelState()
    for name, value in values.items():
        attname = blueprint.relations.get(name)
        if attname is not None:
            state[attname] = None if value is None else value.pk
            instance._state.fields_cache[name] = value
        elif name in blueprint.attnames:
            state[name] = value
        else:
            raise TypeError(f"{model.__name__} has no field named {name!r}.")
    return instance


def bulk_insert(model, objects: list, *, raw=None) -> None:
    """Save new instances with COPY on PostgreSQL (``bulk_create`` elsewhere); each gets its id.

    ``auto_now`` and empty ``auto_now_add`` fields are stamped with the time of the call. ``raw`` is the
    psycopg connection to use (a ``BackgroundWriter``'s); the thread's own connection otherwise.
    """
    if not objects:
        return
    database = connections[DEFAULT_DB_ALIAS]
    if database.vendor != "postgresql":
        model.objects.bulk_create(objects, batch_size=COPY_BATCH_ROWS)
        return
    quote = database.ops.quote_name
    table = model._meta.db_table
    fields = list(model._meta.concrete_fields)
    stamped = [f.attname for f in fields if getattr(f, "auto_now", False)]
    stamped_if_empty = [f.attname for f in fields if getattr(f, "auto_now_add", False) and not f.auto_now]
    json_attnames = {f.attname for f in fields if isinstance(f, JSONField)}
    attnames = [f.attname for f in fields]
    json_positions = [index for index, name in enumerate(attnames) if name in json_attnames]
    now = timezone.now()
    with _cursor(raw) as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, model._meta.pk.column, len(objects)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        pk_attname = model._meta.pk.attname
        columns = ", ".join(quote(f.column) for f in fields)
        with cursor.copy(f"COPY {quote(table)} ({columns}) FROM STDIN") as copier:
            for instance, pk in zip(objects, ids, strict=True):
                values = instance.__dict__
                values[pk_attname] = pk
                for name in stamped:
                    values[name] = now
                for name in stamped_if_empty:
                    if values[name] is None:
                        values[name] = now
                row = [values[name] for name in attnames]
                for index in json_positions:
                    row[index] = _json_text(row[index])
                copier.write_row(row)
                instance._state.adding = False
                instance._state.db = DEFAULT_DB_ALIAS


@contextlib.contextmanager
def _cursor(raw):
    """A psycopg cursor on ``raw``, or on the calling thread's connection."""
    if raw is not None:
        with raw.cursor() as cursor:
            yield cursor
    else:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            yield cursor.cursor


@contextlib.contextmanager
def constraints_checked_at_once():
    """Foreign keys checked as each row is written rather than all at the commit, inside the block.

    Django's foreign keys are deferred: a bulk load would leave hundreds of thousands of checks to its
    commit. Checked at once, they run while the rows are written (by a ``BackgroundWriter``, beside the
    work of the next batch). The default comes back at the end of the block.
    """
    database = connections[DEFAULT_DB_ALIAS]
    if database.vendor != "postgresql":
        yield
        return
    with database.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    yield
    if not database.needs_rollback:  # else the transaction, and the setting with it, is rolled back
        with database.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


class BackgroundWriter:
    """Runs writes on the caller's database connection from a second thread, one after the other.

    A bulk import reads and validates one batch while the database writes the previous one: PostgreSQL
    works on its own processor meanwhile. The writes go through the caller's own psycopg connection
    (``raw``, which lets one thread use it at a time), so they are part of the caller's transaction; they
    must use that connection only, never the ORM (another thread's ORM has a connection of its own). A
    failed write is raised to the caller at its next ``submit`` or when the block ends, and the writes
    after it are skipped. Elsewhere than on PostgreSQL the writes run at once, in the caller's thread.
    """

    def __init__(self, *, waiting: int = 1):
        database = connections[DEFAULT_DB_ALIAS]
        self.threaded = database.vendor == "postgresql"
        database.ensure_connection()
        self.raw = database.connection if self.threaded else None
        self._queue: queue.Queue = queue.Queue(maxsize=waiting)
        self._error: BaseException | None = None
        self._raised = False
        self._thread = threading.Thread(target=self._work, name="bulk-writer", daemon=True)

    def __enter__(self):
        if self.threaded:
            self._thread.start()
        return self

    def submit(self, write, *args) -> None:
        """Run ``write(raw, *args)`` after the writes submitted before it."""
        self._raise()
        if self.threaded:
            self._queue.put((write, args))
        else:
            write(None, *args)

    def wait(self) -> None:
        """Wait until every submitted write is done (and raise a failed one)."""
        if self.threaded:
            self._queue.join()
        self._raise()

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                if self._error is None:
                    write, args = item
                    write(self.raw, *args)
            except BaseException as exc:  # raised again in the caller's thread
                self._error = exc
            finally:
                self._queue.task_done()

    def _raise(self) -> None:
        """Raise a failed write's error, once; the writes after it stay skipped."""
        if self._error is not None and not self._raised:
            self._raised = True
            raise self._error

    def __exit__(self, exc_type, exc, traceback):
        if self.threaded:
            self._queue.put(None)
            self._thread.join()
        if exc_type is None:
            self._raise()


class TableStatistics:
    """Keeps the planner's row estimate of a table a bulk load is filling in line with what it holds.

    Statistics are gathered after a commit (autovacuum); inside a long import into a table that was small,
    the planner still believes it small and answers each batch's look-ups with a full scan, so the import
    slows with every batch. Once the rows added since the last estimate outnumber it, the columns the
    look-ups use are analyzed again inside the transaction (PostgreSQL counts the transaction's own rows):
    a handful of times per import, as the rows added double.
    """

    MIN_ROWS = 5000

    def __init__(self, model, *columns: str):
        self.model = model
        self.columns = columns
        self.estimate: float | None = None
        self.added_since = 0

    def added(self, rows: int) -> None:
        self.added_since += rows

    def refresh(self, *, settle=None) -> None:
        """Analyze the table if the rows added outnumber the estimate; ``settle()`` first (rows still being written)."""
        database = connections[DEFAULT_DB_ALIAS]
        if database.vendor != "postgresql":
            return
        table = self.model._meta.db_table
        if self.estimate is None:
            with database.cursor() as cursor:
                cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
                self.estimate = max(cursor.fetchone()[0], 0)
        if self.added_since < max(self.MIN_ROWS, self.estimate):
            return
        if settle is not None:
            settle()
        quote = database.ops.quote_name
        columns = ", ".join(quote(self.model._meta.get_field(name).column) for name in self.columns)
        with database.cursor() as cursor:
            cursor.execute(f"ANALYZE {quote(table)} ({columns})")
        self.estimate += self.added_since
        self.added_since = 0


_CREATED_SQL: dict[type, str] = {}


def _created_entries_sql(model, database) -> str:
    """INSERT ... SELECT of creation entries for rows of ``model`` given by id, their values as text.

    Text as Python's ``str`` gives it, which the entries written one by one hold: ``True``/``False``,
    times in UTC with ``+00:00``; empty text and NULL are left out.
    """
    if model in _CREATED_SQL:
        return _CREATED_SQL[model]
    quote = database.ops.quote_name
    pairs = []
    for field in model._meta.concrete_fields:
        column = f"t.{quote(field.column)}"
        kind = field.get_internal_type()
        if kind in ("CharField", "TextField", "SlugField", "EmailField", "URLField"):
            text, present = column, f"{column} <> ''"
        elif kind == "BooleanField":
            text, present = f"CASE WHEN {column} THEN 'True' ELSE 'False' END", f"{column} IS NOT NULL"
        elif kind == "DateTimeField":
            text = f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US\"+00:00\"')"
            present = f"{column} IS NOT NULL"
        else:
            text, present = f"{column}::text", f"{column} IS NOT NULL AND {column}::text <> ''"
        pairs.append(f"'{field.name}', CASE WHEN {present} THEN jsonb_build_array('None', {text}) END")
    # jsonb_build_object takes at most 100 arguments: 40 fields a call, the objects joined.
    objects = " || ".join(
        f"jsonb_build_object({', '.join(pairs[start : start + 40])})" for start in range(0, len(pairs), 40)
    )
    columns = ", ".join(
        quote(LogEntry._meta.get_field(name).column)
        for name in (
            "content_type_id",
            "action",
            "actor_id",
            "actor_email",
            "cid",
            "additional_data",
            "timestamp",
            "changes_text",
            "object_pk",
            "object_id",
            "object_repr",
            "changes",
        )
    )
    pk = f"t.{quote(model._meta.pk.column)}"
    object_id = pk if model._meta.pk.get_internal_type() in ("AutoField", "BigAutoField", "IntegerField") else "NULL"
    # Only the model's own table, column and field names are put in the statement; the values are parameters.
    _CREATED_SQL[model] = (
        f"INSERT INTO {quote(LogEntry._meta.db_table)} ({columns}) "  # noqa: S608
        f"SELECT %s, %s, %s, %s, %s, %s::jsonb, %s, '', {pk}::text, {object_id}, entry.repr, "
        f"jsonb_strip_nulls({objects}) "
        f"FROM unnest(%s::bigint[], %s::text[]) AS entry(id, repr) "
        f"JOIN {quote(model._meta.db_table)} t ON {pk} = entry.id ORDER BY entry.id"
    )
    return _CREATED_SQL[model]


def _json_text(value):
    return None if value is None else json.dumps(value)


class ChangeLog:
    """django-auditlog entries for rows written in bulk: the importing user, the job, the values.

    A creation records each non-empty value as ``{field: ["None", value]}`` as django-auditlog does; an
    update records what differs; a deletion the values before. ``write`` loads the gathered entries with COPY.
    """

    def __init__(self, *, actor, additional_data: dict):
        self.actor_id = getattr(actor, "pk", None)
        self.actor_email = getattr(actor, "email", None) or None
        self.additional_data = additional_data
        self.cid = get_cid()
        self.now = timezone.now()
        self.rows: list[tuple] = []
        self.created_in_database: dict[type, tuple[list, list]] = {}
        self._content_types: dict[type, int] = {}
        self._fields: dict[type, list[tuple[str, str]]] = {}

    def _content_type_id(self, model) -> int:
        if model not in self._content_types:
            self._content_types[model] = ContentType.objects.get_for_model(model).pk
        return self._content_types[model]

    def prepare(self, *models) -> None:
        """Look up the content types of ``models`` now, in this thread (a ``BackgroundWriter`` may write)."""
        for model in models:
            self._content_type_id(model)

    def created(self, instance) -> None:
        self._add(LogEntry.Action.CREATE, instance, self._created_changes(instance))

    def created_rows(self, model, instances: list) -> None:
        """Creation entries for saved instances of one model; on PostgreSQL the database writes their values.

        The entries are the same as ``created`` writes (each non-empty value as text), but the values are
        read back from the rows just written, so none is turned into text or JSON here.
        """
        if connections[DEFAULT_DB_ALIAS].vendor != "postgresql":
            for instance in instances:
                self.created(instance)
            return
        pending = self.created_in_database.setdefault(model, ([], []))
        for instance in instances:
            pending[0].append(instance.pk)
            pending[1].append(str(instance))

    def updated(self, before, after) -> None:
        changes = model_instance_diff(before, after)
        if changes:
            self._add(LogEntry.Action.UPDATE, after, changes)

    def deleted(self, instance) -> None:
        self._add(LogEntry.Action.DELETE, instance, model_instance_diff(instance, None))

    def _created_changes(self, instance) -> dict:
        model = type(instance)
        fields = self._fields.get(model)
        if fields is None:
            fields = self._fields[model] = [(f.name, f.attname) for f in model._meta.concrete_fields]
        values = instance.__dict__
        changes = {}
        for name, attname in fields:
            value = values[attname]
            if value is None:
                continue
            text = value if isinstance(value, str) else str(value)
            if text:
                changes[name] = ["None", text]
        return changes

    def _add(self, action, instance, changes: dict) -> None:
        self.rows.append(
            (
                self._content_type_id(type(instance)),
                str(instance.pk),
                instance.pk if isinstance(instance.pk, int) else None,
                str(instance),
                action,
                changes,
                self.actor_id,
                self.actor_email,
                self.cid,
                self.additional_data,
                self.now,
            )
        )

    def write(self, raw=None) -> None:
        """Save the gathered entries (COPY on PostgreSQL) and start afresh; ``raw`` as for ``bulk_insert``."""
        self._write_created_in_database(raw)
        if not self.rows:
            return
        database = connections[DEFAULT_DB_ALIAS]
        if database.vendor != "postgresql":
            LogEntry.objects.bulk_create(
                [LogEntry(**dict(zip(self.COLUMNS, row, strict=True))) for row in self.rows],
                batch_size=COPY_BATCH_ROWS,
            )
        else:
            filled = ", ".join(database.ops.quote_name(LogEntry._meta.get_field(name).column) for name in self.COLUMNS)
            fixed = ", ".join(database.ops.quote_name(LogEntry._meta.get_field(name).column) for name in self.BLANK)
            table = database.ops.quote_name(LogEntry._meta.db_table)
            blank = ("",) * len(self.BLANK)
            additional_data = json.dumps(self.additional_data)
            dumps = json.dumps
            copy = f"COPY {table} ({filled}, {fixed}) FROM STDIN"
            with _cursor(raw) as cursor, cursor.copy(copy) as copier:
                for row in self.rows:  # the JSON columns go as text, the server reads it as jsonb
                    copier.write_row((*row[:5], dumps(row[5]), *row[6:9], additional_data, row[10], *blank))
        self.rows = []

    def _write_created_in_database(self, raw) -> None:
        database = connections[DEFAULT_DB_ALIAS]
        for model, (ids, reprs) in self.created_in_database.items():
            if not ids:
                continue
            with _cursor(raw) as cursor:
                cursor.execute(
                    _created_entries_sql(model, database),
                    [
                        self._content_type_id(model),
                        LogEntry.Action.CREATE,
                        self.actor_id,
                        self.actor_email,
                        self.cid,
                        json.dumps(self.additional_data),
                        self.now,
                        ids,
                        reprs,
                    ],
                )
        self.created_in_database = {}

    COLUMNS = (
        "content_type_id",
        "object_pk",
        "object_id",
        "object_repr",
        "action",
        "changes",
        "actor_id",
        "actor_email",
        "cid",
        "additional_data",
        "timestamp",
    )
    BLANK = ("changes_text",)
