"""
Writing many rows at once: unsaved instances built cheaply, rows loaded with COPY, and their change log.

Bulk importers build tens of thousands of instances per file. ``new_instance`` fills an instance's fields
as ``Model(**values)`` would (each field's default, callable defaults called for every instance) without
the per-field work of ``Model.__init__``; ``make_ready`` gives them what saving gives (ids drawn ahead from
the table's sequence by an ``IdPool``, automatic times), so that they can be referred to and their change
log built before they are written; ``bulk_insert`` loads them with PostgreSQL's COPY; ``ChangeLog`` writes
django-auditlog entries for them in bulk, as django-auditlog would write them one by one. No
signals are sent: the callers write the change log themselves.
"""

import collections
import contextlib
import datetime
import decimal
import gc
import io
import json
import queue
import sys
import threading

from auditlog.cid import get_cid
from auditlog.diff import is_primitive, model_instance_diff
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import DateTimeField, JSONField, signals
from django.db.models.base import ModelState
from django.utils import timezone
from django.utils.encoding import smart_str
from psycopg import Copy
from psycopg.copy import FileWriter

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


class IdPool:
    """Ids drawn ahead from a table's sequence, handed to new rows as they are built.

    A bulk import draws them while it has the connection for its look-ups anyway, so that a batch's rows and
    their change log entries are complete (ids included) before the batch is handed to a ``BackgroundWriter``,
    and are built while the previous batch is being written. An id drawn and not used is a gap in the
    sequence, as a rolled-back insert leaves one. Elsewhere than on PostgreSQL nothing is drawn: the rows get
    their ids as they are written.
    """

    def __init__(self, model):
        self.model = model
        self.ids: collections.deque[int] = collections.deque()

    def reserve(self, count: int) -> None:
        """Make sure ``count`` ids are at hand (one query for those missing)."""
        if count > len(self.ids) and connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
            self.ids.extend(_drawn_ids(self.model, count - len(self.ids), raw=None))

    def take(self, count: int) -> list[int] | None:
        """``count`` ids reserved before, or ``None`` where the database gives them as the rows are written."""
        if connections[DEFAULT_DB_ALIAS].vendor != "postgresql":
            return None
        if count > len(self.ids):
            raise RuntimeError(f"{count} {self.model.__name__} ids taken, {len(self.ids)} reserved.")
        return [self.ids.popleft() for _ in range(count)]


_SEQUENCES: dict[type, str] = {}


def _drawn_ids(model, count: int, *, raw) -> list[int]:
    """``count`` new ids from the table's sequence (its name looked up once: not once per id)."""
    with _cursor(raw) as cursor:
        if model not in _SEQUENCES:
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [model._meta.db_table, model._meta.pk.column])
            _SEQUENCES[model] = cursor.fetchone()[0]
        cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [_SEQUENCES[model], count])
        return [row[0] for row in cursor.fetchall()]


def make_ready(model, objects: list, ids: list[int] | None) -> None:
    """Give new instances the values saving them gives: their ``ids`` (when given) and their automatic times.

    ``auto_now`` and empty ``auto_now_add`` fields are stamped with the time of the call. What is written
    is then known before it is written, so the change log entries can be built beforehand.
    """
    fields = model._meta.concrete_fields
    stamped = [f.attname for f in fields if getattr(f, "auto_now", False)]
    stamped_if_empty = [f.attname for f in fields if getattr(f, "auto_now_add", False) and not f.auto_now]
    pk_attname = model._meta.pk.attname
    now = timezone.now()
    for index, instance in enumerate(objects):
        values = instance.__dict__
        if ids is not None:
            values[pk_attname] = ids[index]
        for name in stamped:
            values[name] = now
        for name in stamped_if_empty:
            if values[name] is None:
                values[name] = now


class Insert:
    """New instances of one model, their rows formatted for COPY now, in the calling thread.

    On PostgreSQL the instances must have their ids (``make_ready``). Their rows are put in COPY's text
    format with the connection's own adapters where they were built, so that a ``BackgroundWriter`` writing
    them only sends bytes and hardly needs the interpreter the building thread is using.
    Elsewhere the instances are kept, and ``write`` saves them with ``bulk_create``.
    """

    def __init__(self, model, objects: list):
        self.model = model
        self.objects = objects
        self.statement = self.data = None
        database = connections[DEFAULT_DB_ALIAS]
        if database.vendor != "postgresql" or not objects:
            return
        fields = model._meta.concrete_fields
        attnames = [f.attname for f in fields]
        json_positions = [index for index, f in enumerate(fields) if isinstance(f, JSONField)]
        rows = []
        for instance in objects:
            values = instance.__dict__
            row = [values[name] for name in attnames]
            for index in json_positions:
                row[index] = _json_text(row[index])
            rows.append(row)
        quote = database.ops.quote_name
        self.statement = f"COPY {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) FROM STDIN"
        self.data = copy_data(rows)

    def write(self, raw=None) -> None:
        """Write the rows: the formatted ones with COPY on ``raw`` (as for ``bulk_insert``), else ``bulk_create``."""
        if not self.objects:
            return
        if self.data is None:
            self.model.objects.bulk_create(self.objects, batch_size=COPY_BATCH_ROWS)
            return
        copy_in(self.statement, self.data, raw=raw)
        for instance in self.objects:
            instance._state.adding = False
            instance._state.db = DEFAULT_DB_ALIAS


def copy_data(rows, *, raw=None) -> bytes:
    """``rows`` (sequences of Python values) in COPY's text format, formatted in the calling thread.

    psycopg formats them as it would for ``copy.write_row``, with the adapters of ``raw`` (or of this
    thread's connection), into memory rather than onto the connection, which another thread may be using
    meanwhile.
    """
    if raw is None:
        database = connections[DEFAULT_DB_ALIAS]
        database.ensure_connection()
        raw = database.connection
    buffer = io.BytesIO()
    with raw.cursor() as cursor, Copy(cursor, binary=False, writer=FileWriter(buffer)) as copy:
        for row in rows:
            copy.write_row(row)
    return buffer.getvalue()


def copy_in(statement: str, data: bytes, *, raw=None) -> None:
    """Run ``COPY ... FROM STDIN`` with rows already formatted by ``copy_data``, on ``raw`` (or this thread's)."""
    with _cursor(raw) as cursor, cursor.copy(statement) as copy:
        copy.write(data)


def bulk_insert(model, objects: list, *, raw=None) -> None:
    """Save new instances with COPY on PostgreSQL (``bulk_create`` elsewhere); each gets its id.

    Instances without an id are made ready here (``make_ready``, ids drawn from the table's sequence); those
    with one were made ready by the caller and are written as they are. ``raw`` is the psycopg connection
    to use (a ``BackgroundWriter``'s); the thread's own connection otherwise.
    """
    unready = [instance for instance in objects if instance.pk is None]
    if unready:
        postgres = connections[DEFAULT_DB_ALIAS].vendor == "postgresql"
        make_ready(model, unready, _drawn_ids(model, len(unready), raw=raw) if postgres else None)
    Insert(model, objects).write(raw)


@contextlib.contextmanager
def _cursor(raw):
    """A psycopg cursor on ``raw``, or on the calling thread's connection; errors raised as Django's."""
    if raw is not None:
        with connections[DEFAULT_DB_ALIAS].wrap_database_errors, raw.cursor() as cursor:
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


@contextlib.contextmanager
def fewer_collections(young: int = 20_000):
    """Python's cyclic garbage collector run less often inside the block: after ``young`` new objects, not 700.

    A bulk import makes hundreds of thousands of objects per file (rows, records, their entries), each batch
    alive until the database has taken it. They hold no reference cycles and are freed by reference counting,
    yet every 700 of them started a collection, and every hundredth collection went through the whole heap:
    a tenth of an import's processor time spent finding almost nothing. Collections still run, less often;
    the thresholds in force before come back at the end. They are the whole process's: each process of the
    worker's pool (Celery's prefork pool) runs one task at a time. A threshold already higher stays, and so
    does 0 (automatic collection turned off).
    """
    before = gc.get_threshold()
    if before[0]:
        gc.set_threshold(max(young, before[0]), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


class BackgroundWriter:
    """Runs writes on the caller's database connection from a second thread, one after the other.

    A bulk import reads and validates one batch while the database writes the previous one: PostgreSQL
    works on its own processor meanwhile. The writes go through the caller's own psycopg connection
    (``raw``, which lets one thread use it at a time), so they are part of the caller's transaction; they
    must use that connection only, never the ORM (another thread's ORM has a connection of its own). A
    failed write is raised to the caller at its next ``submit`` or when the block ends, and the writes
    after it are skipped. Elsewhere than on PostgreSQL the writes run at once, in the caller's thread.

    Inside the block the interpreter hands over between threads every ``SWITCH_SECONDS`` rather than every
    5 ms: the writer, woken each time the database has taken its data or answered, would otherwise wait up
    to 5 ms for the building thread's turn to end, with the database idle meanwhile. The interval in force
    before comes back at the end.
    """

    SWITCH_SECONDS = 0.0005

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
            self._switch_before = sys.getswitchinterval()
            sys.setswitchinterval(min(self.SWITCH_SECONDS, self._switch_before))
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
            sys.setswitchinterval(self._switch_before)
        if exc_type is None:
            self._raise()


_json_string = json.encoder.encode_basestring_ascii  # what json.dumps writes for a str


def _json_value(value) -> str:
    """``value`` in django-auditlog's JSON form of changes: JSON's own types as they are, anything else as text."""
    if is_primitive(value):
        return json.dumps(value, cls=DjangoJSONEncoder)
    return _json_string(smart_str(value))


def _json_text(value):
    return None if value is None else json.dumps(value)


class ChangeLog:
    """django-auditlog entries for rows written in bulk: the importing user, the job, the values.

    Changes are written as django-auditlog writes them one by one (its JSON form, ``AUDITLOG_STORE_JSON_CHANGES``):
    a creation records each value that is not None as ``{field: [null, value]}``; an update records what
    differs; a deletion the values before. Entries are built (their JSON included) in
    the thread that records them and ``seal`` formats them for COPY there, so that a ``BackgroundWriter``
    only sends them: ``write`` loads them with COPY. A creation recorded before its row has an id is built at
    ``write``, once the row is written.
    """

    def __init__(self, *, actor, additional_data: dict):
        self.actor_id = getattr(actor, "pk", None)
        self.actor_email = getattr(actor, "email", None) or None
        self.additional_data = json.dumps(additional_data)
        self.cid = get_cid()
        self.now = timezone.now()
        self.json_changes = settings.AUDITLOG_STORE_JSON_CHANGES
        self.rows: list[tuple] = []
        self.formatted: list[bytes] = []
        self.awaiting_ids: list = []
        self._content_types: dict[type, int] = {}
        self._fields: dict[type, list[tuple[str, str, bool]] | None] = {}

    def _content_type_id(self, model) -> int:
        if model not in self._content_types:
            self._content_types[model] = ContentType.objects.get_for_model(model).pk
        return self._content_types[model]

    def prepare(self, *models) -> None:
        """Look up the content types of ``models`` now, in this thread (a ``BackgroundWriter`` may write)."""
        for model in models:
            self._content_type_id(model)

    def created(self, instance) -> None:
        if instance.pk is None:
            self.awaiting_ids.append(instance)
        else:
            self._add(LogEntry.Action.CREATE, instance, self._created_changes(instance))

    def updated(self, before, after) -> None:
        changes = model_instance_diff(before, after, use_json_for_changes=self.json_changes)
        if changes:
            self._add(LogEntry.Action.UPDATE, after, changes)

    def deleted(self, instance) -> None:
        self._add(
            LogEntry.Action.DELETE,
            instance,
            model_instance_diff(instance, None, use_json_for_changes=self.json_changes),
        )

    def _created_changes(self, instance) -> str:
        """The creation's changes as JSON text, as django-auditlog writes them: ``{"field": [null, value], ...}``.

        Built as text directly (it is the bulk of an import's work), with django-auditlog's JSON form of each
        value: numbers, booleans and text as themselves, related records by id, a date and time in UTC without
        its offset, any other value as its ``str()``. A field whose value is None is left out, and so are reverse
        relations (for which django-auditlog writes the name of their manager). A model whose
        registration includes, excludes or masks fields, or the text form of changes, goes through
        django-auditlog's own diff.
        """
        model = type(instance)
        if model not in self._fields:
            self._fields[model] = self._creation_fields(model)
        fields = self._fields[model]
        if fields is None:
            own = [field.name for field in model._meta.concrete_fields]  # not the reverse relations' managers
            changes = model_instance_diff(None, instance, fields_to_check=own, use_json_for_changes=self.json_changes)
            return json.dumps(changes, cls=DjangoJSONEncoder)
        values = instance.__dict__
        pairs = []
        for opening, attname, moment in fields:
            value = values[attname]
            if value is None:
                continue
            kind = type(value)
            if kind is str:
                pairs.append(opening + _json_string(value) + "]")
            elif kind is decimal.Decimal or kind is datetime.date:
                pairs.append(f'{opening}"{value}"]')
            elif kind is int:
                pairs.append(f"{opening}{value}]")
            elif moment and kind is datetime.datetime:
                if value.tzinfo is not None:
                    value = value.astimezone(datetime.UTC).replace(tzinfo=None)
                pairs.append(f'{opening}"{value}"]')
            elif kind is bool:
                pairs.append(opening + ("true]" if value else "false]"))
            elif isinstance(value, str):  # a choice's enum member: its value
                pairs.append(opening + _json_string(value) + "]")
            else:
                pairs.append(opening + _json_value(value) + "]")
        return "{" + ", ".join(pairs) + "}"

    def _creation_fields(self, model) -> list[tuple[str, str, bool]] | None:
        """Per field: its pair's opening, its attname, whether a moment in time; None for django-auditlog's diff."""
        options = auditlog.get_model_fields(model) if auditlog.contains(model) else {}
        chosen = any(options.get(key) for key in ("include_fields", "exclude_fields", "mask_fields"))
        if chosen or not self.json_changes:
            return None
        return [
            (f"{_json_string(field.name)}: [null, ", field.attname, isinstance(field, DateTimeField))
            for field in model._meta.concrete_fields
        ]

    def _add(self, action, instance, changes: dict | str) -> None:
        pk = instance.pk
        self.rows.append(
            (
                self._content_type_id(type(instance)),
                str(pk),
                pk if isinstance(pk, int) else None,
                str(instance),
                action,
                changes if isinstance(changes, str) else json.dumps(changes),
                self.actor_id,
                self.actor_email,
                self.cid,
                self.additional_data,
                self.now,
                "",
            )
        )

    def seal(self, raw=None) -> None:
        """Format the entries gathered so far for COPY now, in this thread, as ``Insert`` does (PostgreSQL)."""
        if self.rows and connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
            self.formatted.append(copy_data(self.rows, raw=raw))
            self.rows = []

    def write(self, raw=None) -> None:
        """Save the gathered entries (COPY on PostgreSQL) and start afresh; ``raw`` as for ``bulk_insert``."""
        for instance in self.awaiting_ids:
            self._add(LogEntry.Action.CREATE, instance, self._created_changes(instance))
        self.awaiting_ids = []
        database = connections[DEFAULT_DB_ALIAS]
        if database.vendor != "postgresql":
            json_columns = {"changes", "additional_data"}
            LogEntry.objects.bulk_create(
                [
                    LogEntry(
                        **{
                            name: json.loads(value) if name in json_columns else value
                            for name, value in zip(self.COLUMNS, row, strict=True)
                        }
                    )
                    for row in self.rows
                ],
                batch_size=COPY_BATCH_ROWS,
            )
            self.rows = []
            return
        self.seal(raw)  # what was gathered since the last seal
        quote = database.ops.quote_name
        columns = ", ".join(quote(LogEntry._meta.get_field(name).column) for name in self.COLUMNS)
        for data in self.formatted:  # the JSON columns go as text, the server reads it as jsonb
            copy_in(f"COPY {quote(LogEntry._meta.db_table)} ({columns}) FROM STDIN", data, raw=raw)
        self.formatted = []

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
        "changes_text",
    )
