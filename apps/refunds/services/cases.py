"""
Writes on refund cases: the request and every transition of its status flow.

requested → approved | rejected → processed → closed, cancelled before processing. Each function
locks what it changes (the order first, then the case), checks who may, then the state, then the
policy, acts, and records an event on the audit trail.
"""

import uuid
from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from apps.core import audit
from apps.core.exceptions import TransitionNotAllowed
from apps.core.money import parse_amount
from apps.refunds import hooks
from apps.refunds.models import (
    ApproverLimit,
    CaseApproval,
    CaseAttachment,
    Order,
    Payout,
    ReasonCode,
    RefundCase,
    RefundPolicy,
    ReturnLine,
)

Status = RefundCase.Status
Type = RefundCase.Type

ZERO = Decimal("0.00")


def _event(case: RefundCase, verb: str, actor, **data) -> None:
    audit.record(
        action=f"refundcase.{verb}",
        target=case,
        actor=actor,
        data={"reference": case.reference, "type": case.type, "amount": str(case.amount), **data},
    )


def _active(actor) -> None:
    if actor is None or not actor.is_active:
        raise PermissionDenied("Only an active, signed-in user may act on refund cases.")


# --- Reading helpers used by the checks ---------------------------------------------------------


def lost_to_chargebacks(order: Order) -> Decimal:
    """What the networks have already taken back from this order (lost or accepted chargebacks)."""
    total = (
        RefundCase.objects.filter(order=order, type=Type.CHARGEBACK, amount_lost__isnull=False)
        .exclude(status__in=[Status.REJECTED, Status.CANCELLED])
        .aggregate(lost=Sum("amount_lost"))["lost"]
    )
    return total or ZERO


def refundable_remaining(order: Order) -> Decimal:
    """Paid, less refunds, credits and returns committed, less what chargebacks already took."""
    return order.amount_paid - order.committed_amount - lost_to_chargebacks(order)


def sla_due_date(*, case_type: str, requested_on, evidence_due_date=None, policy: RefundPolicy | None = None):
    """The day a case should be processed by: request date + the type's SLA days; chargebacks: evidence due."""
    if case_type == Type.CHARGEBACK:
        return evidence_due_date
    policy = policy or RefundPolicy.current()
    days = {
        Type.REFUND: policy.sla_days_refund,
        Type.STORE_CREDIT: policy.sla_days_store_credit,
        Type.RETURN: policy.sla_days_return,
    }[case_type]
    return requested_on + timedelta(days=days)


# --- Request ------------------------------------------------------------------------------------


def _validate_return_lines(order: Order, return_lines, errors: dict) -> list[tuple]:
    if not return_lines:
        errors["return_lines"] = "A return needs at least one line: which items come back, and how many."
        return []
    lines_by_id = {line.pk: line for line in order.lines.all()}
    already = dict(
        ReturnLine.objects.filter(order_line__order=order, case__status__in=RefundCase.COMMITTED_STATUSES)
        .values("order_line")
        .annotate(quantity=Sum("quantity"))
        .values_list("order_line", "quantity")
    )
    checked, seen = [], set()
    for entry in return_lines:
        line = lines_by_id.get(int(entry["order_line_id"]))
        quantity = int(entry["quantity"])
        if line is None:
            errors["return_lines"] = f"Order line {entry['order_line_id']} is not on order {order.reference}."
            return []
        if line.pk in seen:
            errors["return_lines"] = f"{line.sku} is listed twice; give one line per item."
            return []
        seen.add(line.pk)
        returnable = line.quantity - already.get(line.pk, 0)
        if quantity <= 0:
            errors["return_lines"] = f"The quantity of {line.sku} must be at least 1."
            return []
        if quantity > returnable:
            errors["return_lines"] = (
                f"{quantity} x {line.sku} is more than can come back: {line.quantity} ordered, "
                f"{already.get(line.pk, 0)} already on other returns."
            )
            return []
        checked.append((line, quantity))
    return checked


def validate_case_request(
    *,
    order: Order,
    case_type: str,
    amount,
    reason_code: str,
    currency: str | None = None,
    override_reason: str = "",
    return_lines=None,
    network: str = "",
    network_reason_code: str = "",
    evidence_due_date=None,
    fee=ZERO,
    today=None,
) -> dict:
    """Check a request against the policy; return the cleaned values or raise ``ValidationError``.

    The order must be locked by the caller for the refundable-amount check to hold under concurrency.
    """
    today = today or timezone.localdate()
    errors: dict = {}
    cleaned: dict = {}
    if case_type not in Type.values:
        raise ValidationError({"type": f"Unknown case type {case_type!r}; one of {', '.join(Type.values)}."})
    try:
        cleaned["amount"] = parse_amount(amount, field="amount")
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if currency and currency != order.currency:
        errors["currency"] = f"The case must be in the order's currency, {order.currency}, not {currency}."
    reason = ReasonCode.objects.filter(code=reason_code).first() if reason_code else None
    if not reason_code:
        errors["reason"] = "A reason code is required."
    elif reason is None or not reason.active:
        errors["reason"] = f"{reason_code!r} is not an active reason code."
    elif reason.case_type and reason.case_type != case_type:
        errors["reason"] = f"Reason {reason.code} is for {reason.get_case_type_display()} cases only."
    cleaned["reason"] = reason

    if case_type == Type.CHARGEBACK:
        if not network:
            errors["network"] = "A chargeback names its card network."
        if not network_reason_code:
            errors["network_reason_code"] = "A chargeback carries the network's reason code."
        if evidence_due_date is None:
            errors["evidence_due_date"] = "A chargeback has an evidence due date."
        try:
            cleaned["fee"] = parse_amount(fee if fee not in (None, "") else ZERO, field="fee", allow_zero=True)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    else:
        window = order.channel.return_window_days
        age = (today - order.order_date).days
        if age > window and not (override_reason or "").strip():
            errors["override_reason"] = (
                f"Order {order.reference} is {age} days old, beyond the {window}-day window of the "
                f"{order.channel.name} channel: an override reason is required."
            )
        if case_type == Type.RETURN:
            cleaned["lines"] = _validate_return_lines(order, return_lines, errors)
            if "amount" in cleaned and cleaned["lines"]:
                value = sum((line.unit_price * quantity for line, quantity in cleaned["lines"]), ZERO)
                if cleaned["amount"] > value:
                    errors["amount"] = (
                        f"The refund of {cleaned['amount']} exceeds the value of the returned items, {value}."
                    )
        if "amount" in cleaned and "amount" not in errors:
            if RefundCase.objects.filter(
                order=order, type=Type.CHARGEBACK, status__in=RefundCase.OPEN_STATUSES
            ).exists():
                errors["order"] = (
                    f"Order {order.reference} has an open chargeback: refunding now could pay the customer twice."
                )
            remaining = refundable_remaining(order)
            if cleaned["amount"] > remaining:
                errors["amount"] = (
                    f"{cleaned['amount']} {order.currency} exceeds the refundable amount remaining on order "
                    f"{order.reference}: {remaining} {order.currency} of {order.amount_paid} paid."
                )
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def case_request(
    *,
    actor,
    order_id: int,
    type: str,
    amount,
    reason_code: str,
    currency: str | None = None,
    notes: str = "",
    override_reason: str = "",
    return_lines: list[dict] | None = None,
    network: str = "",
    network_reason_code: str = "",
    evidence_due_date=None,
    fee=ZERO,
    external_reference: str = "",
) -> RefundCase:
    """Open a case on an order. Refunds, credits and returns reserve their amount on the order at once.

    ``external_reference`` is the case's reference in the system it came from (imports find the case
    again by it): at most one case per order carries it.
    """
    _active(actor)
    if not actor.has_perm("refunds.add_refundcase"):
        raise PermissionDenied("You may not request refunds.")
    order = Order.objects.select_for_update().select_related("channel").filter(pk=order_id).first()
    if order is None:
        raise ValidationError({"order": f"No order with id {order_id}."})
    cleaned = validate_case_request(
        order=order,
        case_type=type,
        amount=amount,
        reason_code=reason_code,
        currency=currency,
        override_reason=override_reason,
        return_lines=return_lines,
        network=network,
        network_reason_code=network_reason_code,
        evidence_due_date=evidence_due_date,
        fee=fee,
    )
    external_reference = (external_reference or "").strip()
    if external_reference and RefundCase.objects.filter(order=order, external_reference=external_reference).exists():
        raise ValidationError(
            {"external_reference": f"Order {order.reference} already has a case with reference {external_reference}."}
        )
    policy = RefundPolicy.current()
    now = timezone.now()
    case = RefundCase(
        reference=f"TMP{uuid.uuid4().hex[:16]}",  # replaced by the numbered reference below
        order=order,
        type=type,
        amount=cleaned["amount"],
        currency=order.currency,
        reason=cleaned["reason"],
        external_reference=external_reference,
        notes=notes,
        override_reason=override_reason.strip(),
        requested_by=actor,
        requested_at=now,
        due_date=sla_due_date(
            case_type=type, requested_on=timezone.localdate(now), evidence_due_date=evidence_due_date, policy=policy
        ),
        approvals_required=2 if cleaned["amount"] > policy.dual_approval_threshold else 1,
        network=network if type == Type.CHARGEBACK else "",
        network_reason_code=network_reason_code if type == Type.CHARGEBACK else "",
        evidence_due_date=evidence_due_date if type == Type.CHARGEBACK else None,
        fee=cleaned.get("fee", ZERO),
        created_by=actor,
        updated_by=actor,
    )
    case.save()
    case.reference = f"{RefundCase.PREFIXES[type]}-{case.pk:06d}"
    case.save(update_fields=["reference"])
    for line, quantity in cleaned.get("lines", []):
        ReturnLine.objects.create(case=case, order_line=line, quantity=quantity, created_by=actor, updated_by=actor)
    if type in RefundCase.COMMITTING_TYPES:
        audit.logged_update(Order.objects.filter(pk=order.pk), committed_amount=F("committed_amount") + case.amount)
    _event(case, "requested", actor, order=order.reference, approvals_required=case.approvals_required)
    return case


# --- Decisions ----------------------------------------------------------------------------------


def _ensure_may_decide(case: RefundCase, actor) -> None:
    """Who may approve or reject: an approver who neither requested nor entered the case."""
    _active(actor)
    if not actor.has_perm("refunds.approve_refund"):
        raise PermissionDenied("You may not approve or reject refund cases.")
    if actor.pk in {case.requested_by_id, case.created_by_id}:
        raise PermissionDenied("You cannot decide on a case you requested or entered: another approver must.")


@transaction.atomic
def case_approve(*, case_id: int, actor) -> RefundCase:
    """Approve a requested case within the approver's limit; above the threshold two distinct approvers."""
    case = RefundCase.objects.select_for_update().get(pk=case_id)
    _ensure_may_decide(case, actor)
    if case.status != Status.REQUESTED:
        raise TransitionNotAllowed(
            f"{case.reference} is {case.get_status_display()}; only requested cases are approved."
        )
    approvers = set(case.approvals.values_list("approver_id", flat=True))
    if actor.pk in approvers:
        raise PermissionDenied(f"You already approved {case.reference}; a second, different approver must approve it.")
    limit = ApproverLimit.objects.filter(user=actor).first()
    if limit is None:
        raise PermissionDenied("You have no refund approval limit; an administrator sets one.")
    if case.amount > limit.max_amount:
        raise PermissionDenied(
            f"{case.amount} {case.currency} is above your approval limit of {limit.max_amount}: "
            "an approver with a higher limit must approve it."
        )
    level = len(approvers) + 1
    sop_version = hooks.sop_version_in_force()
    now = timezone.now()
    CaseApproval.objects.create(
        case=case, approver=actor, level=level, approved_at=now, sop_version=sop_version, created_by=actor
    )
    fields = ["updated_by", "updated_at"]
    if level >= case.approvals_required:
        case.status = Status.APPROVED
        case.approved_at = now
        case.decided_by = actor
        fields += ["status", "approved_at", "decided_by"]
    case.updated_by = actor
    case.save(update_fields=fields)
    _event(
        case,
        "approved",
        actor,
        level=level,
        approvals_required=case.approvals_required,
        fully_approved=case.status == Status.APPROVED,
        sop_version=sop_version,
    )
    return case


def _release(case: RefundCase) -> None:
    if case.type in RefundCase.COMMITTING_TYPES:
        audit.logged_update(
            Order.objects.filter(pk=case.order_id), committed_amount=F("committed_amount") - case.amount
        )


def _lock_order_then_case(case_id: int) -> RefundCase:
    order_id = RefundCase.objects.values_list("order_id", flat=True).get(pk=case_id)
    Order.objects.select_for_update().filter(pk=order_id).first()
    return RefundCase.objects.select_for_update().get(pk=case_id)


@transaction.atomic
def case_reject(*, case_id: int, actor, reason: str) -> RefundCase:
    """Refuse a requested case with a reason; what it reserved on the order is released."""
    case = _lock_order_then_case(case_id)
    _ensure_may_decide(case, actor)
    if case.status != Status.REQUESTED:
        raise TransitionNotAllowed(
            f"{case.reference} is {case.get_status_display()}; only requested cases are rejected."
        )
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why the case is rejected."})
    case.status = Status.REJECTED
    case.decided_by = actor
    case.decision_reason = reason.strip()
    case.rejected_at = timezone.now()
    case.resolved_on = timezone.localdate(case.rejected_at)
    case.updated_by = actor
    case.save(
        update_fields=[
            "status",
            "decided_by",
            "decision_reason",
            "rejected_at",
            "resolved_on",
            "updated_by",
            "updated_at",
        ]
    )
    _release(case)
    _event(case, "rejected", actor, reason=case.decision_reason, sop_version=hooks.sop_version_in_force())
    return case


@transaction.atomic
def case_cancel(*, case_id: int, actor, reason: str) -> RefundCase:
    """Withdraw a case before any money went out; what it reserved on the order is released."""
    case = _lock_order_then_case(case_id)
    _active(actor)
    if actor.pk != case.requested_by_id and not actor.has_perm("refunds.change_refundcase"):
        raise PermissionDenied("Only the requester or someone who handles cases may cancel it.")
    if case.status not in RefundCase.OPEN_STATUSES:
        raise TransitionNotAllowed(
            f"{case.reference} is {case.get_status_display()}; only cases not yet processed can be cancelled."
        )
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why the case is cancelled."})
    case.status = Status.CANCELLED
    case.decision_reason = reason.strip()
    case.resolved_on = timezone.localdate()
    case.updated_by = actor
    case.save(update_fields=["status", "decision_reason", "resolved_on", "updated_by", "updated_at"])
    _release(case)
    _event(case, "cancelled", actor, reason=case.decision_reason)
    return case


# --- Money out ----------------------------------------------------------------------------------


def _payout_for(case: RefundCase) -> tuple[str, Decimal]:
    if case.type == Type.CHARGEBACK:
        return Payout.Method.NETWORK_DEBIT, (case.amount_lost or ZERO) + case.fee
    if case.type == Type.STORE_CREDIT:
        return Payout.Method.STORE_CREDIT, case.amount
    return Payout.Method.ORIGINAL_PAYMENT, case.amount


@transaction.atomic
def case_process(*, case_id: int, actor) -> RefundCase:
    """Send the money: exactly once. A retried or concurrent call on a processed case changes nothing."""
    _active(actor)
    if not actor.has_perm("refunds.process_refund"):
        raise PermissionDenied("You may not process refund cases.")
    case = RefundCase.objects.select_for_update().get(pk=case_id)
    if case.status in (Status.PROCESSED, Status.CLOSED) and Payout.objects.filter(case=case).exists():
        return case  # already paid out: the same result, no second payout
    if case.status != Status.APPROVED:
        raise TransitionNotAllowed(
            f"{case.reference} is {case.get_status_display()}; only approved cases are processed."
        )
    if case.type == Type.CHARGEBACK and not case.outcome:
        raise ValidationError(
            {"outcome": "Record the chargeback's outcome (won, lost or accepted) before settling it."}
        )
    restock = []
    if case.type == Type.RETURN:
        lines = list(case.return_lines.select_related("order_line"))
        pending = [line.order_line.sku for line in lines if not line.disposition]
        if pending:
            raise ValidationError({"return_lines": f"Inspect every returned item first: {', '.join(pending)}."})
        restock = [line for line in lines if line.disposition == ReturnLine.Disposition.RESTOCK]
    method, amount = _payout_for(case)
    now = timezone.now()
    payout = Payout.objects.create(
        case=case,
        idempotency_key=case.idempotency_key,
        method=method,
        amount=amount,
        currency=case.currency,
        paid_at=now,
        paid_by=actor,
        created_by=actor,
    )
    if restock:
        hooks.post_restock(case=case, lines=restock, actor=actor)
        audit.logged_update(ReturnLine.objects.filter(pk__in=[line.pk for line in restock]), stock_posted_at=now)
    case.status = Status.PROCESSED
    case.processed_at = now
    case.processed_by = actor
    case.resolved_on = timezone.localdate(now)
    case.updated_by = actor
    case.save(update_fields=["status", "processed_at", "processed_by", "resolved_on", "updated_by", "updated_at"])
    _event(
        case,
        "processed",
        actor,
        payout=str(payout.amount),
        method=method,
        idempotency_key=str(case.idempotency_key),
        within_sla=timezone.localdate(now) <= case.due_date,
    )
    return case


@transaction.atomic
def case_close(*, case_id: int, actor) -> RefundCase:
    """Close a processed case once nothing is left to do on it."""
    _active(actor)
    if not (actor.has_perm("refunds.process_refund") or actor.has_perm("refunds.approve_refund")):
        raise PermissionDenied("You may not close refund cases.")
    case = RefundCase.objects.select_for_update().get(pk=case_id)
    if case.status != Status.PROCESSED:
        raise TransitionNotAllowed(f"{case.reference} is {case.get_status_display()}; only processed cases are closed.")
    case.status = Status.CLOSED
    case.closed_at = timezone.now()
    case.updated_by = actor
    case.save(update_fields=["status", "closed_at", "updated_by", "updated_at"])
    _event(case, "closed", actor)
    return case


# --- Chargebacks and returns --------------------------------------------------------------------


def _lock_case_of_type(case_id: int, case_type: str) -> RefundCase:
    case = RefundCase.objects.select_for_update().get(pk=case_id)
    if case.type != case_type:
        raise TransitionNotAllowed(f"{case.reference} is a {case.get_type_display()}, not a {Type(case_type).label}.")
    return case


@transaction.atomic
def chargeback_submit_evidence(*, case_id: int, actor, submitted_at=None) -> RefundCase:
    """Note that the evidence went to the network (the reminders stop)."""
    _active(actor)
    if not actor.has_perm("refunds.change_refundcase"):
        raise PermissionDenied("You may not work on chargebacks.")
    case = _lock_case_of_type(case_id, Type.CHARGEBACK)
    if case.status not in RefundCase.OPEN_STATUSES:
        raise TransitionNotAllowed(f"{case.reference} is {case.get_status_display()}; evidence goes in on open cases.")
    if case.evidence_submitted_at is not None:
        raise TransitionNotAllowed(f"Evidence for {case.reference} was already submitted.")
    case.evidence_submitted_at = submitted_at or timezone.now()
    case.updated_by = actor
    case.save(update_fields=["evidence_submitted_at", "updated_by", "updated_at"])
    _event(case, "evidence_submitted", actor, late=timezone.localdate(case.evidence_submitted_at) > case.due_date)
    return case


@transaction.atomic
def chargeback_record_outcome(*, case_id: int, actor, outcome: str, amount_lost=None) -> RefundCase:
    """The network's decision: won (nothing lost), lost or accepted (the amount finally lost)."""
    _active(actor)
    if not actor.has_perm("refunds.change_refundcase"):
        raise PermissionDenied("You may not work on chargebacks.")
    case = _lock_case_of_type(case_id, Type.CHARGEBACK)
    if case.status not in RefundCase.OPEN_STATUSES:
        raise TransitionNotAllowed(f"{case.reference} is {case.get_status_display()}; its outcome is settled.")
    if outcome not in RefundCase.Outcome.values:
        raise ValidationError({"outcome": f"Outcome is one of {', '.join(RefundCase.Outcome.values)}."})
    if outcome == RefundCase.Outcome.WON:
        lost = ZERO
    elif amount_lost in (None, ""):
        lost = case.amount
    else:
        lost = parse_amount(amount_lost, field="amount_lost", allow_zero=True)
        if lost > case.amount:
            raise ValidationError({"amount_lost": f"At most the disputed amount, {case.amount}, can be lost."})
    case.outcome = outcome
    case.amount_lost = lost
    case.updated_by = actor
    case.save(update_fields=["outcome", "amount_lost", "updated_by", "updated_at"])
    _event(case, "outcome_recorded", actor, outcome=outcome, amount_lost=str(lost))
    return case


@transaction.atomic
def return_line_inspect(*, line_id: int, actor, condition: str, disposition: str) -> ReturnLine:
    """Record what a returned item looks like and what happens to it."""
    _active(actor)
    if not actor.has_perm("refunds.change_returnline"):
        raise PermissionDenied("You may not inspect returns.")
    line = ReturnLine.objects.select_for_update().select_related("case").get(pk=line_id)
    if line.case.status not in RefundCase.OPEN_STATUSES:
        raise TransitionNotAllowed(
            f"{line.case.reference} is {line.case.get_status_display()}; inspect before processing."
        )
    errors = {}
    if condition not in ReturnLine.Condition.values:
        errors["condition"] = f"Condition is one of {', '.join(ReturnLine.Condition.values)}."
    if disposition not in ReturnLine.Disposition.values:
        errors["disposition"] = f"Disposition is one of {', '.join(ReturnLine.Disposition.values)}."
    if errors:
        raise ValidationError(errors)
    line.condition = condition
    line.disposition = disposition
    line.inspected_by = actor
    line.inspected_at = timezone.now()
    line.updated_by = actor
    line.save()
    return line


@transaction.atomic
def attachment_add(*, case_id: int, actor, file, description: str = "") -> CaseAttachment:
    """Attach evidence to a case."""
    _active(actor)
    if not actor.has_perm("refunds.add_caseattachment"):
        raise PermissionDenied("You may not attach evidence.")
    case = RefundCase.objects.get(pk=case_id)
    return CaseAttachment.objects.create(case=case, file=file, description=description, created_by=actor)
