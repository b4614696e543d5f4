"""
Demo accounts payable: about 2,000 invoices over 18 months for the demo vendors.

Most are matched and paid; some wait for approval or payment, some are in the exception queue,
some disputed or on hold, and some are overdue in every aging bucket. The bulk is written with
``bulk_create`` for speed, with every rule the services enforce true in the data: totals add up,
payments and credits never exceed the total, approvers differ from the people who entered and
submitted, a second approver above the threshold, nothing approved or scheduled for a vendor that
cannot be paid. A few invoices go through the services so that their trail shows every step.
"""

import random
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from apps.invoices import policy, services
from apps.invoices.models import (
    CreditMemo,
    DisputeContact,
    ExceptionReason,
    GoodsReceipt,
    Invoice,
    InvoiceLine,
    MatchMode,
    Payment,
    PurchaseOrder,
    PurchaseOrderLine,
    VendorMatchingPolicy,
)
from apps.vendors.models import Vendor

INVOICES = 2000
DAYS = 540  # 18 months
CENT = Decimal("0.01")
S = Invoice.Status
ITEMS = [
    ("BRK-100", "Steel mounting brackets"),
    ("PAL-EU", "Euro pallets"),
    ("TONER-K", "Toner cartridges, black"),
    ("GLV-M", "Nitrile gloves, box of 100"),
    ("CBL-5", "Network cable, 5 m"),
    ("SRV-HR", "Maintenance hours"),
    ("FRT-LTL", "Freight, less than truckload"),
    ("LIC-SaaS", "Software subscription, monthly seats"),
    ("CLN-WK", "Cleaning service, weekly visit"),
    ("PKG-BOX", "Corrugated shipping boxes"),
]
TWO_WAY_CATEGORIES = {"software", "professional", "services", "facilities"}


def _money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _moment(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def seed(*, users) -> None:
    if PurchaseOrder.objects.filter(number="PO-D00001").exists():
        return
    vendors = list(Vendor.objects.order_by("code"))
    if not vendors:
        return
    with transaction.atomic():
        _policies(vendors, users)
        _bulk(vendors, users)
    _journeys(vendors, users)


def _policies(vendors, users):
    for vendor in vendors:
        if vendor.category in TWO_WAY_CATEGORIES:
            VendorMatchingPolicy.objects.get_or_create(
                vendor=vendor, defaults={"match_mode": MatchMode.TWO_WAY, "created_by": users["approver"]}
            )
    generous = next((v for v in vendors if v.code == "ACME-01"), None)
    if generous:
        VendorMatchingPolicy.objects.update_or_create(
            vendor=generous,
            defaults={
                "match_mode": MatchMode.THREE_WAY,
                "quantity_tolerance_percent": Decimal("5"),
                "quantity_tolerance_absolute": Decimal("10"),
                "created_by": users["approver"],
            },
        )


def _bulk(vendors, users):
    rng = random.Random(20261122)
    today = timezone.localdate()
    start = today - timedelta(days=DAYS)
    threshold = policy.second_approval_threshold()
    associates = [users["associate"], users.get("associate2") or users["associate"]]
    approvers = [users["approver"], users.get("approver2") or users["approver"]]
    payable = {v.pk: not v.payment_block_reason() for v in vendors}
    weights = [3 if v.category == "goods" else 2 for v in vendors]

    orders, order_lines, receipts = [], [], []
    invoices, invoice_lines, payments, credits, contacts = [], [], [], [], []
    forced_overdue = [days for days in (5, 12, 25, 33, 45, 58, 64, 75, 88, 95, 120, 180) for _ in range(3)]

    for index in range(1, INVOICES + 1):
        vendor = rng.choices(vendors, weights)[0]
        if forced_overdue:
            days_past_due = forced_overdue.pop()
            invoice_date = today - timedelta(days=days_past_due + vendor.payment_terms_days)
            forced = True
        else:
            invoice_date = start + timedelta(days=rng.randint(0, DAYS - 1))
            forced = False
        order_date = invoice_date - timedelta(days=rng.randint(10, 25))
        order = PurchaseOrder(
            number=f"PO-D{index:05d}",
            vendor=vendor,
            order_date=order_date,
            currency=vendor.default_currency,
            status=PurchaseOrder.Status.CLOSED
            if invoice_date < today - timedelta(days=90)
            else PurchaseOrder.Status.OPEN,
            created_by=rng.choice(associates),
        )
        orders.append(order)
        three_way = vendor.category not in TWO_WAY_CATEGORIES
        due_date = invoice_date + timedelta(days=vendor.payment_terms_days)
        entered_by = rng.choice(associates)
        submitted_by = entered_by if rng.random() < 0.8 else rng.choice(associates)

        # What happens to this invoice.
        roll = rng.random()
        if invoice_date > today - timedelta(days=5) and roll < 0.4:
            fate = "draft"
        elif roll < 0.012:
            fate = "cancelled"
        elif roll < 0.045:
            fate = "exception"
        elif roll < 0.065:
            fate = "disputed"
        elif roll < 0.075:
            fate = "on_hold"
        elif forced:
            fate = rng.choice(["approved", "scheduled", "matched", "exception", "disputed"])
        elif due_date < today - timedelta(days=3):
            fate = "paid"
        else:
            fate = rng.choice(["matched", "approved", "scheduled", "scheduled", "paid"])
        if not payable[vendor.pk] and fate in ("approved", "scheduled"):
            fate = "matched"
        if fate == "paid" and not payable[vendor.pk] and due_date > today - timedelta(days=60):
            fate = "on_hold"
        overridden = fate == "paid" and rng.random() < 0.05

        lines_here = []
        for number in range(1, rng.choice([1, 1, 1, 2, 3]) + 1):
            code, description = rng.choice(ITEMS)
            quantity = Decimal(rng.choice([1, 2, 5, 10, 12, 20, 25, 40, 50, 100]))
            price = _money(Decimal(rng.randint(150, 90000)) / 100)
            promised = order_date + timedelta(days=rng.randint(5, 14))
            po_line = PurchaseOrderLine(
                purchase_order=order,
                line_number=number,
                item_code=code,
                description=description,
                quantity=quantity,
                unit_price=price,
                promised_date=promised,
                created_by=order.created_by,
            )
            order_lines.append(po_line)
            received_on = min(promised + timedelta(days=rng.choice([-2, -1, 0, 0, 0, 1, 3, 6])), today)
            if three_way or rng.random() < 0.5:
                damaged = Decimal(1) if rng.random() < 0.03 and quantity > 5 else Decimal(0)
                receipts.append(
                    GoodsReceipt(
                        po_line=po_line,
                        received_date=received_on,
                        quantity_received=quantity + damaged,
                        quantity_damaged=damaged,
                        reference=f"DN-D{index:05d}-{number}",
                        created_by=rng.choice(associates),
                    )
                )
            billed_quantity, billed_price, reason, detail = quantity, price, "", "within tolerance"
            if number == 1 and (fate == "exception" or overridden or (fate == "disputed" and rng.random() < 0.5)):
                if rng.random() < 0.5:
                    billed_quantity = quantity + max(Decimal(2), (quantity * Decimal("0.2")).quantize(Decimal(1)))
                    reason = ExceptionReason.QUANTITY_OVER_ORDERED
                    detail = f"invoiced {billed_quantity} of {quantity} ordered"
                else:
                    billed_price = _money(price * Decimal("1.12") + 6)
                    reason = ExceptionReason.PRICE_OVER_ORDERED
                    detail = f"price {billed_price} above ordered {price}"
            lines_here.append((po_line, billed_quantity, billed_price, reason, detail, description))

        subtotal = sum((_money(q * p) for _, q, p, _, _, _ in lines_here), Decimal(0))
        tax = _money(subtotal * rng.choice([Decimal(0), Decimal("0.05"), Decimal("0.08"), Decimal("0.10")]))
        total = subtotal + tax
        reasons = ",".join(dict.fromkeys(r for _, _, _, r, _, _ in lines_here if r))
        submitted_at = _moment(min(invoice_date + timedelta(days=rng.randint(0, 3)), today))
        invoice = Invoice(
            vendor=vendor,
            number=f"{vendor.code[:6]}-{invoice_date:%y%m}-{index:05d}",
            purchase_order=order,
            invoice_date=invoice_date,
            due_date=due_date,
            currency=vendor.default_currency,
            subtotal=subtotal,
            tax=tax,
            total=total,
            status=S.DRAFT,
            created_by=entered_by,
            updated_by=entered_by,
        )
        matched_status = InvoiceLine.MatchStatus.PENDING
        if fate != "draft":
            invoice.submitted_by, invoice.submitted_at = submitted_by, submitted_at
            invoice.exception_reasons = reasons
            invoice.match_result = Invoice.MatchResult.EXCEPTION if reasons else Invoice.MatchResult.MATCHED
            matched_status = None
            if reasons:
                invoice.exception_since = submitted_at
        if overridden:
            invoice.match_result = Invoice.MatchResult.OVERRIDDEN
            invoice.match_override_reason = rng.choice(
                ["Price increase agreed by e-mail", "Extra units accepted on site", "Freight surcharge agreed"]
            )
            invoice.match_overridden_by = rng.choice(approvers)
        if fate in ("approved", "scheduled", "paid"):
            first, second = approvers if rng.random() < 0.5 else approvers[::-1]
            invoice.approved_by = first
            invoice.approved_at = submitted_at + timedelta(days=rng.randint(0, 4))
            if total > threshold and first.pk != second.pk:
                invoice.second_approved_by, invoice.second_approved_at = (
                    second,
                    invoice.approved_at + timedelta(hours=3),
                )
            needs_second = total > threshold and invoice.second_approved_by is None
            if needs_second or invoice.approved_by_id in (entered_by.pk, submitted_by.pk):
                fate = "matched"
                invoice.approved_by = invoice.approved_at = invoice.second_approved_by = None
                invoice.second_approved_at = None
        if fate in ("scheduled", "paid"):
            invoice.scheduled_by = invoice.approved_by
            invoice.scheduled_payment_date = max(due_date, invoice_date)
        if fate == "paid":
            paid_on = min(max(due_date - timedelta(days=rng.randint(0, 6)), invoice_date + timedelta(days=1)), today)
            credit = Decimal(0)
            if rng.random() < 0.04:
                credit = _money(total * Decimal("0.1"))
                credits.append(
                    CreditMemo(
                        vendor=vendor,
                        invoice=invoice,
                        number=f"CM-D{index:05d}",
                        memo_date=paid_on,
                        amount=credit,
                        currency=invoice.currency,
                        reason="Short delivery credited",
                        created_by=entered_by,
                    )
                )
            remaining = total - credit
            if remaining > 0:
                parts = [remaining]
                if rng.random() < 0.1 and remaining >= 10:
                    half = _money(remaining / 2)
                    parts = [half, remaining - half]
                for part_number, amount in enumerate(parts, start=1):
                    payments.append(
                        Payment(
                            invoice=invoice,
                            payment_date=paid_on,
                            amount=amount,
                            method=rng.choice([Payment.Method.ACH, Payment.Method.ACH, Payment.Method.WIRE]),
                            reference=f"PAY-D{index:05d}-{part_number}",
                            created_by=rng.choice(associates),
                        )
                    )
            invoice.paid_amount, invoice.credited_amount = total - credit, credit
            invoice.paid_at = _moment(paid_on, 15)
            invoice.was_disputed = rng.random() < 0.03
            invoice.status = S.PAID
        elif fate == "scheduled" and rng.random() < 0.15 and total >= 10 and payable[vendor.pk]:
            partial = _money(total / 2)
            payments.append(
                Payment(
                    invoice=invoice,
                    payment_date=min(invoice_date + timedelta(days=5), today),
                    amount=partial,
                    method=Payment.Method.WIRE,
                    reference=f"PAY-D{index:05d}-1",
                    created_by=rng.choice(associates),
                )
            )
            invoice.paid_amount = partial
            invoice.status = S.SCHEDULED
        elif fate in ("approved", "scheduled", "matched", "cancelled", "draft"):
            invoice.status = {
                "approved": S.APPROVED,
                "scheduled": S.SCHEDULED,
                "matched": S.EXCEPTION if reasons and not overridden else S.MATCHED,
                "cancelled": S.CANCELLED,
                "draft": S.DRAFT,
            }[fate]
            if fate == "cancelled":
                invoice.cancel_reason = "Entered against the wrong purchase order"
        elif fate == "exception":
            invoice.status = S.EXCEPTION
        elif fate == "disputed":
            invoice.status = S.DISPUTED
            invoice.resume_status = S.EXCEPTION if reasons else S.MATCHED
            invoice.dispute_reason = rng.choice(
                ["Billed for goods returned", "Price differs from the contract", "Delivery incomplete"]
            )
            invoice.was_disputed = True
            contacts.append(
                DisputeContact(
                    invoice=invoice,
                    contacted_at=submitted_at + timedelta(days=2),
                    channel=DisputeContact.Channel.EMAIL,
                    contact_name=f"Accounts receivable, {vendor.legal_name}",
                    note="Asked for a corrected invoice or a credit memo.",
                    created_by=entered_by,
                )
            )
        elif fate == "on_hold":
            invoice.status = S.ON_HOLD
            invoice.resume_status = S.EXCEPTION if reasons else S.MATCHED
            invoice.hold_reason = vendor.hold_reason or "Waiting for the signed delivery note"
        invoices.append(invoice)
        for number, (po_line, quantity, price, reason, detail, description) in enumerate(lines_here, start=1):
            status = (
                InvoiceLine.MatchStatus.PENDING
                if matched_status is not None
                else (InvoiceLine.MatchStatus.EXCEPTION if reason else InvoiceLine.MatchStatus.MATCHED)
            )
            invoice_lines.append(
                InvoiceLine(
                    invoice=invoice,
                    line_number=number,
                    po_line=po_line,
                    description=description,
                    quantity=quantity,
                    unit_price=price,
                    amount=_money(quantity * price),
                    match_status=status,
                    match_reason=reason if status != InvoiceLine.MatchStatus.PENDING else "",
                    match_detail=detail if status != InvoiceLine.MatchStatus.PENDING else "",
                )
            )

    PurchaseOrder.objects.bulk_create(orders, batch_size=500)
    for line in order_lines:
        line.purchase_order_id = line.purchase_order.pk
    PurchaseOrderLine.objects.bulk_create(order_lines, batch_size=500)
    for receipt in receipts:
        receipt.po_line_id = receipt.po_line.pk
    GoodsReceipt.objects.bulk_create(receipts, batch_size=500)
    for invoice in invoices:
        invoice.purchase_order_id = invoice.purchase_order.pk
    Invoice.objects.bulk_create(invoices, batch_size=500)
    for rows in (invoice_lines, payments, credits, contacts):
        for row in rows:
            row.invoice_id = row.invoice.pk
    for line in invoice_lines:
        line.po_line_id = line.po_line.pk
    InvoiceLine.objects.bulk_create(invoice_lines, batch_size=500)
    Payment.objects.bulk_create(payments, batch_size=500)
    CreditMemo.objects.bulk_create(credits, batch_size=500)
    DisputeContact.objects.bulk_create(contacts, batch_size=500)


def _journeys(vendors, users):
    """A few invoices taken through the services, so that their audit trail shows each step."""
    vendor = next((v for v in vendors if v.code == "DUNDER" and not v.payment_block_reason()), None)
    if vendor is None:
        return
    associate, approver = users["associate"], users["approver"]
    today = timezone.localdate()
    order = services.purchase_order_create(
        actor=associate,
        vendor_id=vendor.pk,
        number="PO-DEMO-TRAIL",
        order_date=today - timedelta(days=20),
        lines=[
            {
                "description": "Copy paper, A4, 500 sheets",
                "quantity": "200",
                "unit_price": "4.20",
                "promised_date": today - timedelta(days=12),
            },
        ],
    )
    line = order.lines.get()
    services.receipt_record(
        actor=associate, po_line_id=line.pk, received_date=today - timedelta(days=11), quantity_received="200"
    )
    paid = services.invoice_create(
        actor=associate,
        vendor_id=vendor.pk,
        number="DM-TRAIL-1",
        invoice_date=today - timedelta(days=10),
        purchase_order=order,
        lines=[{"po_line": line, "quantity": "120", "unit_price": "4.20"}],
        tax="40.32",
    )
    services.invoice_submit(invoice_id=paid.pk, actor=associate)
    services.invoice_approve(invoice_id=paid.pk, actor=approver)
    services.invoice_schedule(invoice_id=paid.pk, actor=approver)
    services.payment_record(
        invoice_id=paid.pk, actor=associate, amount="544.32", payment_date=today, reference="ACH-DEMO-TRAIL-1"
    )
    over = services.invoice_create(
        actor=associate,
        vendor_id=vendor.pk,
        number="DM-TRAIL-2",
        invoice_date=today - timedelta(days=9),
        purchase_order=order,
        lines=[{"po_line": line, "quantity": "100", "unit_price": "4.20"}],
    )
    services.invoice_submit(invoice_id=over.pk, actor=associate)  # 220 of 200: into the exception queue
