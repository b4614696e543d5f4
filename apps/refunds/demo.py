"""
Demo data: about 3,000 orders and 400 cases of every type and status over the last 12 months.

Idempotent: reference data by natural key; orders and cases only when the demo orders are missing.
The rules hold in the data: nothing refunded beyond what was paid, requester != approver, two
distinct approvers above the threshold, within each approver's limit, one payout per processed case.
"""

import random
import uuid
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.refunds.models import (
    ApproverLimit,
    CaseApproval,
    Channel,
    Order,
    OrderLine,
    Payout,
    ReasonCode,
    RefundCase,
    RefundPolicy,
    ReturnLine,
)
from apps.refunds.services.cases import sla_due_date

ORDER_COUNT = 3000
CASE_COUNT = 400
FIRST_ORDER = 100001
CENT = Decimal("0.01")

CHANNELS = [
    ("web", "Web shop", 30),
    ("store", "Retail stores", 14),
    ("marketplace", "Marketplaces", 30),
    ("phone", "Phone orders", 21),
]
REASONS = [
    ("damaged", "Arrived damaged", ""),
    ("not-as-described", "Not as described", ""),
    ("late-delivery", "Delivered late", ""),
    ("changed-mind", "Customer changed their mind", RefundCase.Type.RETURN),
    ("wrong-item", "Wrong item shipped", ""),
    ("duplicate-charge", "Charged twice", RefundCase.Type.REFUND),
    ("goodwill", "Goodwill gesture", RefundCase.Type.STORE_CREDIT),
    ("fraud", "Cardholder says fraudulent", RefundCase.Type.CHARGEBACK),
    ("not-received", "Cardholder says not received", RefundCase.Type.CHARGEBACK),
    ("credit-not-processed", "Cardholder says credit not processed", RefundCase.Type.CHARGEBACK),
]
PRODUCTS = [
    ("SKU-1001", "Wireless headphones", Decimal("89.00")),
    ("SKU-1002", "Running shoes", Decimal("120.00")),
    ("SKU-1003", "Coffee grinder", Decimal("64.50")),
    ("SKU-1004", "Desk lamp", Decimal("39.90")),
    ("SKU-1005", "Backpack", Decimal("75.00")),
    ("SKU-1006", "Office chair", Decimal("349.00")),
    ("SKU-1007", "Tablet", Decimal("499.00")),
    ("SKU-1008", "Espresso machine", Decimal("899.00")),
    ("SKU-1009", "Rain jacket", Decimal("140.00")),
    ("SKU-1010", "Smart watch", Decimal("279.00")),
]
FIRST_NAMES = ["Ana", "Ben", "Chloé", "Dmitri", "Emma", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kofi", "Lena"]
LAST_NAMES = ["Silva", "Okafor", "Müller", "Nguyen", "Rossi", "Kowalski", "Haddad", "Tanaka", "Larsen", "Moreau"]
NETWORK_CODES = {"visa": ["10.4", "13.1", "13.3"], "mastercard": ["4837", "4853", "4855"], "amex": ["F29", "C08"]}


def seed(*, users) -> None:
    with transaction.atomic():
        seed_reference_data(users)
        if Order.objects.filter(reference=f"SO-{FIRST_ORDER}").exists():
            return
        orders = _seed_orders(users)
        _seed_cases(users, orders)


def seed_reference_data(users) -> None:
    """Channels, reason codes, the policy and the demo approvers' limits (by natural key)."""
    for code, name, window in CHANNELS:
        Channel.objects.get_or_create(code=code, defaults={"name": name, "return_window_days": window})
    for code, label, case_type in REASONS:
        ReasonCode.objects.get_or_create(code=code, defaults={"label": label, "case_type": case_type})
    if not RefundPolicy.objects.exists():
        RefundPolicy.objects.create()
    for username, limit in [("approver", Decimal("2500.00")), ("approver2", Decimal("10000.00"))]:
        if username in users:
            ApproverLimit.objects.get_or_create(user=users[username], defaults={"max_amount": limit})


def _seed_orders(users) -> list[Order]:
    rng = random.Random(20261122)  # demo data, reproducible
    today = timezone.localdate()
    channels = list(Channel.objects.filter(code__in=[c for c, _, _ in CHANNELS]))
    orders, lines = [], []
    for n in range(ORDER_COUNT):
        reference = f"SO-{FIRST_ORDER + n}"
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        picked = rng.sample(PRODUCTS, rng.choice([1, 1, 2, 2, 3]))
        order_lines = [(sku, desc, rng.choice([1, 1, 1, 2, 3]), price) for sku, desc, price in picked]
        total = sum((qty * price for _, _, qty, price in order_lines), Decimal("0.00"))
        paid = total if rng.random() > 0.05 else (total * Decimal("0.5")).quantize(CENT)
        currency = rng.choices(["USD", "EUR", "GBP"], weights=[70, 20, 10])[0]
        orders.append(
            Order(
                reference=reference,
                customer_name=f"{first} {last}",
                customer_email=f"{first.lower()}.{last.lower()}{n}@example.com".replace("é", "e").replace("ü", "u"),
                order_date=today - timedelta(days=rng.randint(0, 364)),
                channel=rng.choice(channels),
                currency=currency,
                total=total,
                amount_paid=paid,
                created_by=users.get("associate"),
            )
        )
        lines.append(order_lines)
    Order.objects.bulk_create(orders, batch_size=500)
    saved = {order.reference: order for order in Order.objects.filter(reference__startswith="SO-")}
    OrderLine.objects.bulk_create(
        [
            OrderLine(order=saved[order.reference], sku=sku, description=desc, quantity=qty, unit_price=price)
            for order, order_lines in zip(orders, lines, strict=True)
            for sku, desc, qty, price in order_lines
        ],
        batch_size=1000,
    )
    return [saved[order.reference] for order in orders]


STATUS_OLD = (
    [RefundCase.Status.CLOSED] * 55
    + [RefundCase.Status.PROCESSED] * 15
    + [RefundCase.Status.REJECTED] * 10
    + [RefundCase.Status.CANCELLED] * 5
    + [RefundCase.Status.REQUESTED] * 8
    + [RefundCase.Status.APPROVED] * 7
)
STATUS_RECENT = (
    [RefundCase.Status.REQUESTED] * 45
    + [RefundCase.Status.APPROVED] * 25
    + [RefundCase.Status.PROCESSED] * 20
    + [RefundCase.Status.REJECTED] * 5
    + [RefundCase.Status.CANCELLED] * 5
)
TYPES = [RefundCase.Type.REFUND] * 45 + [RefundCase.Type.STORE_CREDIT] * 20 + [RefundCase.Type.RETURN] * 20
TYPES += [RefundCase.Type.CHARGEBACK] * 15


def forced_chargebacks_count() -> int:
    """The first cases are open chargebacks with evidence due within days or already overdue."""
    return 10


def _seed_cases(users, orders) -> None:  # one pass that keeps every rule in view
    rng = random.Random(5)  # demo data, reproducible
    now = timezone.now()
    today = timezone.localdate()
    policy = RefundPolicy.current()
    reasons: dict[str, list[ReasonCode]] = {}
    for reason in ReasonCode.objects.filter(code__in=[c for c, _, _ in REASONS]):
        for case_type in RefundCase.Type.values:
            if not reason.case_type or reason.case_type == case_type:
                reasons.setdefault(case_type, []).append(reason)
    requesters = [users[name] for name in ("associate", "associate2") if name in users]
    approver, approver2 = users["approver"], users["approver2"]
    limits = dict(ApproverLimit.objects.values_list("user_id", "max_amount"))
    lines_by_order: dict[int, list[OrderLine]] = {}
    for line in OrderLine.objects.filter(order__in=orders):
        lines_by_order.setdefault(line.order_id, []).append(line)

    candidates = [order for order in orders if order.amount_paid > 0 and (today - order.order_date).days >= 1]
    picked = rng.sample(candidates, CASE_COUNT - 30)
    picked += rng.sample(picked[forced_chargebacks_count() :], 30)  # a second case on some orders
    open_chargeback_orders: set[int] = set()
    cases, plans = [], []
    committed: dict[int, Decimal] = {}
    forced_chargebacks = forced_chargebacks_count()
    seen_orders: set[int] = set()
    for n, order in enumerate(picked, start=1):
        case_type = rng.choice(TYPES)
        if order.pk in seen_orders:
            if order.pk in open_chargeback_orders:
                continue
            case_type = rng.choice([RefundCase.Type.REFUND, RefundCase.Type.STORE_CREDIT])
        seen_orders.add(order.pk)
        if n <= forced_chargebacks:
            case_type = RefundCase.Type.CHARGEBACK
        age = (today - order.order_date).days
        requested_on = order.order_date + timedelta(days=rng.randint(1, min(age, 25)))
        if n <= forced_chargebacks:
            requested_on = max(order.order_date + timedelta(days=1), today - timedelta(days=rng.randint(3, 12)))
            requested_on = min(requested_on, today)
        days_ago = (today - requested_on).days
        status = rng.choice(STATUS_OLD if days_ago > 30 else STATUS_RECENT)
        if n <= forced_chargebacks:
            status = RefundCase.Status.REQUESTED
        requester = requesters[n % len(requesters)]
        remaining = order.amount_paid - committed.get(order.pk, Decimal("0.00"))
        cap = min(remaining, limits.get(approver.pk, Decimal("0")))
        lines = []
        if case_type == RefundCase.Type.RETURN:
            line = rng.choice(lines_by_order[order.pk])
            quantity = rng.randint(1, line.quantity)
            lines = [(line, quantity)]
            cap = min(cap, line.unit_price * quantity)
        if case_type == RefundCase.Type.CHARGEBACK:
            cap = min(order.amount_paid, limits.get(approver.pk, Decimal("0")))
        if cap <= 0:
            continue
        amount = (cap * Decimal(rng.choice(["1", "1", "0.5", "0.25", "0.8"]))).quantize(CENT) if cap > 1 else cap
        amount = max(amount, CENT)
        requested_at = timezone.make_aware(
            timezone.datetime.combine(requested_on, timezone.datetime.min.time()) + timedelta(hours=rng.randint(8, 17))
        )
        requested_at = min(requested_at, now - timedelta(minutes=5))
        evidence_due = None
        network = code = ""
        if case_type == RefundCase.Type.CHARGEBACK:
            network = rng.choice(list(NETWORK_CODES))
            code = rng.choice(NETWORK_CODES[network])
            evidence_due = requested_on + timedelta(days=rng.randint(10, 20))
            if n <= forced_chargebacks:
                # half due within the next days, the rest already overdue
                evidence_due = today + timedelta(days=rng.randint(1, 4)) if n % 2 else today - timedelta(days=n)
        approvals_required = 2 if amount > policy.dual_approval_threshold else 1
        case = RefundCase(
            reference=f"{RefundCase.PREFIXES[case_type]}-D{n:05d}",
            order=order,
            type=case_type,
            status=status,
            amount=amount,
            currency=order.currency,
            reason=rng.choice(reasons[case_type]),
            notes="",
            override_reason="Manager agreed: long-standing customer."
            if (requested_on - order.order_date).days > order.channel.return_window_days
            else "",
            requested_by=requester,
            requested_at=requested_at,
            due_date=sla_due_date(
                case_type=case_type, requested_on=requested_on, evidence_due_date=evidence_due, policy=policy
            ),
            approvals_required=approvals_required,
            network=network,
            network_reason_code=code,
            evidence_due_date=evidence_due,
            fee=Decimal("15.00") if case_type == RefundCase.Type.CHARGEBACK else Decimal("0.00"),
            idempotency_key=uuid.uuid4(),
            created_by=requester,
            updated_by=requester,
        )
        decided_on = requested_at + timedelta(days=rng.randint(0, 3), hours=rng.randint(1, 6))
        decided_on = min(decided_on, now - timedelta(minutes=1))
        if status in (RefundCase.Status.APPROVED, RefundCase.Status.PROCESSED, RefundCase.Status.CLOSED):
            case.approved_at = decided_on
            case.decided_by = approver2 if approvals_required == 2 else approver
        if status == RefundCase.Status.REJECTED:
            case.decided_by = approver
            case.decision_reason = "Outside policy: no evidence of the fault."
            case.rejected_at = decided_on
            case.resolved_on = timezone.localdate(decided_on)
        if status == RefundCase.Status.CANCELLED:
            case.decision_reason = "Customer withdrew the request."
            case.resolved_on = timezone.localdate(decided_on)
        if status in (RefundCase.Status.PROCESSED, RefundCase.Status.CLOSED):
            processed_at = min(decided_on + timedelta(days=rng.randint(0, 6)), now)
            case.processed_at = processed_at
            case.processed_by = requester
            case.resolved_on = timezone.localdate(processed_at)
            if status == RefundCase.Status.CLOSED:
                case.closed_at = min(processed_at + timedelta(days=2), now)
            if case_type == RefundCase.Type.CHARGEBACK:
                case.outcome = rng.choice(["won", "won", "lost", "accepted"])
                case.amount_lost = Decimal("0.00") if case.outcome == "won" else amount
                case.evidence_submitted_at = requested_at + timedelta(days=3)
        if case_type == RefundCase.Type.CHARGEBACK and status in RefundCase.OPEN_STATUSES:
            open_chargeback_orders.add(order.pk)
        if case_type in RefundCase.COMMITTING_TYPES and status in RefundCase.COMMITTED_STATUSES:
            committed[order.pk] = committed.get(order.pk, Decimal("0.00")) + amount
        cases.append(case)
        plans.append((case, lines, decided_on))

    RefundCase.objects.bulk_create(cases, batch_size=200)
    saved = {c.reference: c for c in RefundCase.objects.filter(reference__in=[c.reference for c in cases])}
    approvals, payouts, return_lines = [], [], []
    for case, lines, decided_on in plans:
        case = saved[case.reference]
        if case.approved_at or (case.status == RefundCase.Status.REQUESTED and case.approvals_required == 2):
            first = approver if case.amount <= limits.get(approver.pk, Decimal("0")) else approver2
            approvals.append(CaseApproval(case=case, approver=first, level=1, approved_at=decided_on, created_by=first))
            if case.approved_at and case.approvals_required == 2:
                approvals.append(
                    CaseApproval(case=case, approver=approver2, level=2, approved_at=decided_on, created_by=approver2)
                )
        if case.processed_at:
            method, amount = {
                RefundCase.Type.CHARGEBACK: (Payout.Method.NETWORK_DEBIT, (case.amount_lost or 0) + case.fee),
                RefundCase.Type.STORE_CREDIT: (Payout.Method.STORE_CREDIT, case.amount),
            }.get(case.type, (Payout.Method.ORIGINAL_PAYMENT, case.amount))
            payouts.append(
                Payout(
                    case=case,
                    idempotency_key=case.idempotency_key,
                    method=method,
                    amount=amount,
                    currency=case.currency,
                    paid_at=case.processed_at,
                    paid_by=case.processed_by,
                    created_by=case.processed_by,
                )
            )
        for line, quantity in lines:
            inspected = case.processed_at is not None
            disposition = rng.choice(ReturnLine.Disposition.values) if inspected else ""
            return_lines.append(
                ReturnLine(
                    case=case,
                    order_line=line,
                    quantity=quantity,
                    condition=rng.choice(ReturnLine.Condition.values) if inspected else "",
                    disposition=disposition,
                    inspected_by=case.processed_by if inspected else None,
                    inspected_at=case.processed_at if inspected else None,
                    stock_posted_at=case.processed_at if disposition == ReturnLine.Disposition.RESTOCK else None,
                )
            )
    CaseApproval.objects.bulk_create(approvals, batch_size=500)
    Payout.objects.bulk_create(payouts, batch_size=500)
    ReturnLine.objects.bulk_create(return_lines, batch_size=500)
    for order_id, amount in committed.items():
        Order.objects.filter(pk=order_id).update(committed_amount=amount)
