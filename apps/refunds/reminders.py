"""What the refunds app reminds people of, gathered into the daily digest by the core engine."""

from dataclasses import dataclass
from datetime import date, timedelta

from apps.core.reminders import Reminder
from apps.refunds.models import ApproverLimit, CaseApproval, RefundCase, RefundPolicy

Status = RefundCase.Status


def _url(case_id: int) -> str:
    return f"/admin/refunds/refundcase/{case_id}/change/"


def _key(case_id: int) -> str:
    return f"refunds.refundcase:{case_id}"


@dataclass(frozen=True)
class ApprovalOverdue:
    """Requested cases waiting for approval longer than the approval SLA: every approver but the requester."""

    key: str = "refunds.approval_overdue"
    label: str = "Refund cases waiting for approval"

    def collect(self, *, today: date):
        policy = RefundPolicy.current()
        cutoff = today - timedelta(days=policy.approval_sla_days)
        waiting = list(
            RefundCase.objects.filter(status=Status.REQUESTED, requested_at__date__lt=cutoff)
            .values_list("pk", "reference", "amount", "currency", "requested_by_id", "created_by_id")
            .order_by("pk")
        )
        if not waiting:
            return
        limits = list(
            ApproverLimit.objects.filter(user__is_active=True).values_list("user_id", "max_amount").order_by("user_id")
        )
        approved_by: dict[int, set[int]] = {}
        for case_id, approver_id in CaseApproval.objects.filter(case_id__in=[row[0] for row in waiting]).values_list(
            "case_id", "approver_id"
        ):
            approved_by.setdefault(case_id, set()).add(approver_id)
        for case_id, reference, amount, currency, requester_id, creator_id in waiting:
            for user_id, max_amount in limits:
                if user_id in {requester_id, creator_id} or user_id in approved_by.get(case_id, set()):
                    continue
                if amount > max_amount:
                    continue
                yield Reminder(
                    recipient_id=user_id,
                    object_key=_key(case_id),
                    title=f"{reference} ({amount} {currency}) is waiting for your approval",
                    url=_url(case_id),
                )


@dataclass(frozen=True)
class ApprovedNotProcessed:
    """Approved cases whose money has not gone out within the processing SLA: their requester."""

    key: str = "refunds.approved_not_processed"
    label: str = "Approved refund cases not processed"

    def collect(self, *, today: date):
        cutoff = today - timedelta(days=RefundPolicy.current().processing_sla_days)
        for case_id, reference, requester_id in (
            RefundCase.objects.filter(status=Status.APPROVED, approved_at__date__lt=cutoff)
            .values_list("pk", "reference", "requested_by_id")
            .order_by("pk")
        ):
            yield Reminder(
                recipient_id=requester_id,
                object_key=_key(case_id),
                title=f"{reference} is approved but not processed",
                url=_url(case_id),
            )


@dataclass(frozen=True)
class ChargebackEvidenceDue:
    """Open chargebacks without evidence submitted whose due date is within N days or past: their owner."""

    key: str = "refunds.chargeback_evidence_due"
    label: str = "Chargeback evidence due"

    def collect(self, *, today: date):
        horizon = today + timedelta(days=RefundPolicy.current().evidence_reminder_days)
        for case_id, reference, due, requester_id in (
            RefundCase.objects.filter(
                type=RefundCase.Type.CHARGEBACK,
                status__in=RefundCase.OPEN_STATUSES,
                evidence_submitted_at__isnull=True,
                evidence_due_date__lte=horizon,
            )
            .values_list("pk", "reference", "evidence_due_date", "requested_by_id")
            .order_by("pk")
        ):
            when = "was due" if due < today else "is due"
            yield Reminder(
                recipient_id=requester_id,
                object_key=_key(case_id),
                title=f"Evidence for chargeback {reference} {when} on {due:%d %b %Y}",
                url=_url(case_id),
            )


@dataclass(frozen=True)
class ReturnOverdue:
    """Open returns past their SLA due date: their requester."""

    key: str = "refunds.rma_overdue"
    label: str = "Overdue returns (RMA)"

    def collect(self, *, today: date):
        for case_id, reference, due, requester_id in (
            RefundCase.objects.filter(
                type=RefundCase.Type.RETURN, status__in=RefundCase.OPEN_STATUSES, due_date__lt=today
            )
            .values_list("pk", "reference", "due_date", "requested_by_id")
            .order_by("pk")
        ):
            yield Reminder(
                recipient_id=requester_id,
                object_key=_key(case_id),
                title=f"Return {reference} was due on {due:%d %b %Y}",
                url=_url(case_id),
            )


SOURCES = [ApprovalOverdue(), ApprovedNotProcessed(), ChargebackEvidenceDue(), ReturnOverdue()]
