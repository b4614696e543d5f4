"""What accounts payable people are reminded of: due and overdue invoices, waiting approvals, open exceptions."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.urls import reverse

from apps.core import roles
from apps.core.reminders import Reminder
from apps.invoices.models import Invoice
from apps.invoices.policy import setting

S = Invoice.Status
UNPAID = (S.SUBMITTED, S.MATCHED, S.EXCEPTION, S.APPROVED, S.SCHEDULED)


def _approvers() -> list[int]:
    return list(
        get_user_model()
        .objects.filter(is_active=True, groups__name=roles.APPROVER)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _url(invoice) -> str:
    return reverse("admin:invoices_invoice_change", args=[invoice.pk])


def _key(invoice) -> str:
    return f"invoices.invoice:{invoice.pk}"


def _fields(queryset):
    return queryset.select_related("vendor").only(
        "pk",
        "number",
        "total",
        "currency",
        "due_date",
        "status",
        "created_by_id",
        "submitted_by_id",
        "vendor__code",
        "submitted_at",
        "exception_since",
    )


class _PaymentReminder:
    """Unpaid invoices: the person who entered them and, once approved, the approvers who schedule payment."""

    def _recipients(self, invoice, approvers):
        people = {invoice.created_by_id} if invoice.created_by_id else set()
        if invoice.status in (S.APPROVED, S.SCHEDULED) or not people:
            people.update(approvers)
        return sorted(people)


class DueSoon(_PaymentReminder):
    key = "invoices.due_soon"
    label = "Invoices due soon"

    def collect(self, *, today):
        horizon = today + timedelta(days=int(setting("INVOICE_DUE_SOON_DAYS")))
        invoices = Invoice.objects.filter(status__in=UNPAID, due_date__gte=today, due_date__lte=horizon)
        approvers = _approvers()
        for invoice in _fields(invoices).iterator():
            for recipient in self._recipients(invoice, approvers):
                yield Reminder(
                    recipient_id=recipient,
                    object_key=_key(invoice),
                    title=f"Invoice {invoice.number} ({invoice.vendor.code}) due {invoice.due_date:%d %b %Y}: "
                    f"{invoice.total} {invoice.currency}, {invoice.get_status_display().lower()}",
                    url=_url(invoice),
                )


class Overdue(_PaymentReminder):
    key = "invoices.overdue"
    label = "Overdue invoices"

    def collect(self, *, today):
        invoices = Invoice.objects.filter(status__in=UNPAID, due_date__lt=today)
        approvers = _approvers()
        for invoice in _fields(invoices).iterator():
            days = (today - invoice.due_date).days
            for recipient in self._recipients(invoice, approvers):
                yield Reminder(
                    recipient_id=recipient,
                    object_key=_key(invoice),
                    title=f"Invoice {invoice.number} ({invoice.vendor.code}) overdue by {days} days: "
                    f"{invoice.total} {invoice.currency}",
                    url=_url(invoice),
                )


class AwaitingApproval:
    """Matched invoices waiting for approval longer than the SLA: every approver who may approve them."""

    key = "invoices.awaiting_approval"
    label = "Invoices waiting for approval"

    def collect(self, *, today):
        cutoff = today - timedelta(days=int(setting("INVOICE_APPROVAL_SLA_DAYS")))
        invoices = Invoice.objects.filter(status=S.MATCHED, submitted_at__date__lt=cutoff)
        approvers = _approvers()
        for invoice in _fields(invoices).iterator():
            for recipient in approvers:
                if recipient in (invoice.created_by_id, invoice.submitted_by_id):
                    continue  # they may not approve it
                yield Reminder(
                    recipient_id=recipient,
                    object_key=_key(invoice),
                    title=f"Invoice {invoice.number} ({invoice.vendor.code}) waiting for approval since "
                    f"{invoice.submitted_at:%d %b %Y}",
                    url=_url(invoice),
                )


class UnresolvedExceptions:
    """Match exceptions open longer than N days: the submitter and the approvers who may override."""

    key = "invoices.unresolved_exceptions"
    label = "Unresolved match exceptions"

    def collect(self, *, today):
        cutoff = today - timedelta(days=int(setting("INVOICE_EXCEPTION_SLA_DAYS")))
        invoices = Invoice.objects.filter(status=S.EXCEPTION, exception_since__date__lt=cutoff)
        approvers = _approvers()
        for invoice in _fields(invoices).iterator():
            people = {invoice.submitted_by_id or invoice.created_by_id} - {None}
            people.update(a for a in approvers if a not in (invoice.created_by_id, invoice.submitted_by_id))
            for recipient in sorted(people):
                yield Reminder(
                    recipient_id=recipient,
                    object_key=_key(invoice),
                    title=f"Match exception on invoice {invoice.number} ({invoice.vendor.code}) open since "
                    f"{invoice.exception_since:%d %b %Y}",
                    url=reverse("admin:invoices_invoiceexception_change", args=[invoice.pk]),
                )
