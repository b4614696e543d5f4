"""What a page of the case list reads besides the cases themselves: their nested lists, as plain values.

The list shows approvals, return lines and attachments of every case on the page by a handful of plain
fields. Each is read by one short statement over the page's case ids (``= ANY`` of one array parameter: the
same statement text for every page, no query building per request) into light rows (``listed_<name>``, which
the nested serializers read first): no model instances and none of the prefetch machinery. ``over_sla`` is
worked out for the whole page at once (today's date and the zone read once).
"""

from functools import cache
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models.fields.files import FieldFile

from apps.refunds.models import CaseApproval, CaseAttachment, OrderLine, RefundCase, ReturnLine

# The columns the list shows (the serializer's fields) and what it reads for them and for its cursor.
CASE_LIST_COLUMNS = (
    "id",
    "reference",
    "order__reference",
    "type",
    "status",
    "amount",
    "currency",
    "reason__code",
    "notes",
    "override_reason",
    "requested_by",
    "requested_at",
    "due_date",
    "approvals_required",
    "approved_at",
    "decided_by",
    "decision_reason",
    "rejected_at",
    "processed_at",
    "processed_by",
    "closed_at",
    "payout__id",
    "payout__case",
    "payout__method",
    "payout__amount",
    "payout__currency",
    "payout__paid_at",
    "payout__paid_by",
    "payout__idempotency_key",
    "network",
    "network_reason_code",
    "fee",
    "evidence_due_date",
    "evidence_submitted_at",
    "outcome",
    "amount_lost",
)


def _table(model, alias: str) -> str:
    return f"{connections[model.objects.db].ops.quote_name(model._meta.db_table)} {alias}"


def _column(model, alias: str, name: str) -> str:
    return f"{alias}.{connections[model.objects.db].ops.quote_name(model._meta.get_field(name).column)}"


@cache
def _statement(name: str) -> str:
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
    return (
        f"SELECT {', '.join(columns)} FROM {_table(a, 'a')}{join}"  # noqa: S608 (names from the models)
        f" WHERE {_column(a, 'a', 'case')} = ANY(%s) ORDER BY {', '.join(order)}"
    )


def _load(instances, name, model, make) -> None:
    """``listed_<name>`` on each case of ``instances``: ``make(row)`` for each of its rows, in the order read."""
    grouped = {instance.pk: [] for instance in instances}
    if grouped:
        with connections[model.objects.db].cursor() as cursor:
            cursor.execute(_statement(name), [list(grouped)])
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
