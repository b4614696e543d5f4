"""What a page of the case list reads: the columns its serializer shows, and its nested lists as plain values.

The columns are worked out once from the serializer's fields (``case_list_columns``). The list shows approvals,
return lines and attachments of every case on the page by a handful of plain fields. Each is read by one short
statement over the page's case ids (one array parameter, a JSON list on SQLite: the same statement text for every
page, no query building per request) into light rows (``listed_<name>``, which the nested serializers read first):
no model instances and none of the prefetch machinery. ``over_sla`` is worked out for the whole page at once (today's
date and the zone read once).
"""

import json
from functools import cache
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import connections
from django.db.models.fields.files import FieldFile
from rest_framework import relations
from rest_framework import serializers as drf

from apps.refunds.api.serializers import PayoutSerializer
from apps.refunds.models import CaseApproval, CaseAttachment, OrderLine, RefundCase, ReturnLine

# What the case list reads for its fields that are not columns: a model property and a method field. Every
# other column it reads is named by the serializer's own fields (see ``case_list_columns``).
CASE_FIELD_READS = {
    "over_sla": ("status", "due_date", "processed_at"),  # RefundCase.over_sla_on
    "payout": PayoutSerializer,  # RefundCaseSerializer.get_payout shows the case's payout by this serializer
}


@cache
def case_list_columns(view) -> tuple[str, ...]:
    """The only columns a page of ``view``'s case list reads (its ``list_only``).

    What the serializer's fields show, through the relations the list joins (``list_select_related``) or reads
    for the whole page at once (``list_fetch_together``: their foreign key only); what ``CASE_FIELD_READS``
    says for the fields that are not columns; what the cursor may order by. Nested lists are left to the
    list's loaders. A field the list cannot read this way is an error naming it, not a slow page.
    """
    model = view.serializer_class.Meta.model
    columns = _serializer_columns(view.serializer_class(), model, "", view)
    ordering = view.pagination_class.ordering
    for name in [*((ordering,) if isinstance(ordering, str) else ordering), *view.ordering_fields]:
        name = name.lstrip("-")
        columns.append(model._meta.pk.name if name == "pk" else name)
    return tuple(dict.fromkeys(columns))


def _serializer_columns(serializer, model, prefix: str, view) -> list[str]:
    """The columns ``serializer`` shows of ``model``, which the case reaches by ``prefix``."""
    columns = []
    for field in serializer.fields.values():
        if field.write_only or isinstance(field, drf.ListSerializer):
            continue
        path = prefix + field.field_name
        reads = CASE_FIELD_READS.get(path)
        if isinstance(reads, tuple):
            columns += [prefix + name for name in reads]
        elif reads is not None:
            related = model._meta.get_field(field.field_name).related_model
            columns += _serializer_columns(reads(), related, path + "__", view)
        else:
            columns += _field_columns(field, model, prefix, view)
    return columns


def _field_columns(field, model, prefix: str, view) -> list[str]:
    """The columns one field shows: its source, followed through the relations the list reads."""
    label = f"{type(field.parent).__name__}.{field.field_name}"
    if field.source == "*" or not field.source_attrs:
        raise ImproperlyConfigured(f"{label} is not a column: say in CASE_FIELD_READS what the case list reads for it.")
    last = field.source_attrs[-1]
    path = prefix.removesuffix("__")
    for name in field.source_attrs:
        try:
            model_field = model._meta.get_field(name)
        except FieldDoesNotExist:
            raise ImproperlyConfigured(
                f"{label}: {name} is not a column of {model.__name__}: say in CASE_FIELD_READS what the case list "
                "reads for it."
            ) from None
        path = f"{path}__{name}" if path else name
        shows_object = name != last or isinstance(field, (relations.SlugRelatedField, drf.BaseSerializer))
        if not model_field.is_relation or not shows_object:
            return [path]  # a column, or the foreign key itself
        if name == last and path in view.list_fetch_together:
            return [path]  # the object is read for the whole page at once, by its foreign key
        if path not in view.list_select_related:
            raise ImproperlyConfigured(
                f"{label} shows {path}, which the case list neither joins (list_select_related) nor reads for the "
                "page at once (list_fetch_together)."
            )
        model = model_field.related_model
    if isinstance(field, drf.BaseSerializer):
        return _serializer_columns(field, model, path + "__", view)
    return [f"{path}__{field.slug_field}"]


def _table(model, alias: str) -> str:
    return f"{connections[model.objects.db].ops.quote_name(model._meta.db_table)} {alias}"


def _column(model, alias: str, name: str) -> str:
    return f"{alias}.{connections[model.objects.db].ops.quote_name(model._meta.get_field(name).column)}"


@cache
def _statement(name: str, vendor: str) -> str:
    """The statement reading nested list ``name`` for a page (case id first, in the order the model sets)."""
    if name == "approvals":
        a, u = CaseApproval, get_user_model()
        columns = [_column(a, "a", f) for f in ("case", "level")] + [_column(u, "u", "username")]
        columns += [_column(a, "a", f) for f in ("approved_at", "sop_version")]
        join = f" JOIN {_table(u, 'u')} ON {_column(u, 'u', u._meta.pk.name)} = {_column(a, 'a', 'approver')}"
        order = [_column(a, "a", "case"), _column(a, "a", "level")]
    elif name == "return_lines":
        a, o = ReturnLine, OrderLine
        columns = [_column(a, "a", f) for f in ("case", "id", "order_line")] + [_column(o, "o", "sku")]
        columns += [
            _column(a, "a", f) for f in ("quantity", "condition", "disposition", "inspected_at", "stock_posted_at")
        ]
        join = f" JOIN {_table(o, 'o')} ON {_column(o, 'o', 'id')} = {_column(a, 'a', 'order_line')}"
        order = [_column(a, "a", "case"), _column(a, "a", "id")]
    else:
        a = CaseAttachment
        columns = [_column(a, "a", f) for f in ("case", "id", "file", "description", "created_at")]
        join = ""
        order = [_column(a, "a", "case"), _column(a, "a", "id")]
    # The page's case ids as one parameter: an array on PostgreSQL, a JSON list elsewhere (SQLite).
    ids = "= ANY(%s)" if vendor == "postgresql" else "IN (SELECT value FROM json_each(%s))"
    return (
        f"SELECT {', '.join(columns)} FROM {_table(a, 'a')}{join}"  # noqa: S608 (names from the models)
        f" WHERE {_column(a, 'a', 'case')} {ids}"
        f" ORDER BY {', '.join(order)}"
    )


def _load(instances, name, model, make) -> None:
    """``listed_<name>`` on each case of ``instances``: ``make(row)`` for each of its rows, in the order read."""
    grouped = {instance.pk: [] for instance in instances}
    if grouped:
        database = connections[model.objects.db]
        ids = list(grouped) if database.vendor == "postgresql" else json.dumps(list(grouped))
        with database.cursor() as cursor:
            cursor.execute(_statement(name, database.vendor), [ids])
            for row in cursor.fetchall():
                grouped[row[0]].append(make(row))
    for instance in instances:
        instance.__dict__["listed_" + name] = grouped[instance.pk]


def _approval(row):
    return SimpleNamespace(
        level=row[1], approver=SimpleNamespace(username=row[2]), approved_at=row[3], sop_version=row[4]
    )


def _return_line(row):
    return SimpleNamespace(
        id=row[1],
        order_line_id=row[2],
        order_line=SimpleNamespace(sku=row[3]),
        quantity=row[4],
        condition=row[5],
        disposition=row[6],
        inspected_at=row[7],
        stock_posted_at=row[8],
    )


def load_approvals(instances) -> None:
    _load(instances, "approvals", CaseApproval, _approval)


def load_return_lines(instances) -> None:
    _load(instances, "return_lines", ReturnLine, _return_line)


def load_attachments(instances) -> None:
    file_field = CaseAttachment._meta.get_field("file")
    _load(
        instances,
        "attachments",
        CaseAttachment,
        lambda row: SimpleNamespace(
            id=row[1], file=FieldFile(None, file_field, row[2]), description=row[3], created_at=row[4]
        ),
    )


CASE_LIST_LOADERS = (RefundCase.note_over_sla, load_approvals, load_return_lines, load_attachments)
