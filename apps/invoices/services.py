"""
Writes for accounts payable: purchase orders, receipts, invoices and their transitions, credits, payments.

Every transition locks the invoice row, checks who may act and whether the status allows it, acts,
and records an audit event. Segregation of duties is checked on user ids, so it binds superusers too.
"""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from apps.core import audit, bulk
from apps.core.exceptions import TransitionNotAllowed
from apps.core.money import to_money, validate_currency
from apps.core.permissions import require_perm
from apps.invoices import policy
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
from apps.sops.selectors import sop_version_in_force
from apps.vendors.models import Vendor

ZERO = Decimal("0")
CENT = Decimal("0.01")
QUANTUM = Decimal("0.001")
Status = Invoice.Status

# --- Helpers ------------------------------------------------------------------------------------


def _reason(value: str, field: str = "reason") -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: "Give a reason."})
    return value


def _money(value, field: str, *, positive: bool = False) -> Decimal:
    try:
        amount = to_money(value)
    except (ValidationError, TypeError) as exc:
        raise ValidationError({field: f"{value!r} is not an amount."}) from exc
    if amount < 0 or (positive and amount == 0):
        raise ValidationError({field: "Must be more than zero." if positive else "Cannot be negative."})
    return amount


def _quantity(value, field: str) -> Decimal:
    try:
        quantity = Decimal(str(value)).quantize(QUANTUM)
    except Exception as exc:
        raise ValidationError({field: f"{value!r} is not a quantity."}) from exc
    if quantity <= 0:
        raise ValidationError({field: "Quantity must be more than zero."})
    return quantity


def _vendor(vendor_id) -> Vendor:
    vendor = Vendor.objects.filter(pk=getattr(vendor_id, "pk", vendor_id)).first() if vendor_id else None
    if vendor is None:
        raise ValidationError({"vendor": "Unknown vendor."})
    return vendor


def _locked_invoice(invoice_id: int) -> Invoice:
    return Invoice.objects.select_for_update(of=("self",)).select_related("vendor").get(pk=invoice_id)


def _not_allowed(invoice: Invoice, doing: str, allowed) -> TransitionNotAllowed:
    names = " or ".join(Status(s).label.lower() for s in allowed)
    return TransitionNotAllowed(
        f"Invoice {invoice.number} is {invoice.get_status_display().lower()}: only {names} invoices can be {doing}."
    )


def _ensure_status(invoice: Invoice, doing: str, *allowed) -> None:
    if invoice.status not in allowed:
        raise _not_allowed(invoice, doing, allowed)


def _ensure_vendor_payable(invoice: Invoice, doing: str) -> None:
    reason = invoice.vendor.payment_block_reason()
    if reason:
        raise TransitionNotAllowed(f"Invoice {invoice.number} cannot be {doing}: {reason}")


def _ensure_not_own(invoice: Invoice, actor, doing: str) -> None:
    """Segregation of duties: whoever entered or submitted an invoice never approves it (superusers neither)."""
    if actor.pk in {invoice.created_by_id, invoice.submitted_by_id}:
        raise PermissionDenied(f"You entered or submitted invoice {invoice.number}: a different person must {doing}.")
    if invoice.vendor.bank_details_changed_by_id == actor.pk and invoice.vendor.bank_details_changed_at:
        raise PermissionDenied(
            f"You changed the bank details of vendor {invoice.vendor.code}: a different person must {doing}."
        )


# --- Matching policy ----------------------------------------------------------------------------

POLICY_FIELDS = {
    "match_mode",
    "quantity_tolerance_percent",
    "quantity_tolerance_absolute",
    "price_tolerance_percent",
    "price_tolerance_absolute",
}


@transaction.atomic
def matching_policy_save(*, actor, vendor_id: int, **fields) -> VendorMatchingPolicy:
    """Set how a vendor's invoices are matched (2-way or 3-way) and its tolerance overrides."""
    require_perm(actor, "invoices.change_vendormatchingpolicy", "You may not change vendor matching policies.")
    unknown = set(fields) - POLICY_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be set here." for name in sorted(unknown)})
    vendor = _vendor(vendor_id)
    matching, _ = VendorMatchingPolicy.objects.select_for_update().get_or_create(vendor=vendor)
    for name, value in fields.items():
        if value is not None and name != "match_mode" and Decimal(str(value)) < 0:
            raise ValidationError({name: "A tolerance cannot be negative."})
        setattr(matching, name, value)
    matching.full_clean()
    matching.save()
    return matching


# --- Purchase orders and receipts ---------------------------------------------------------------


@transaction.atomic
def purchase_order_create(
    *, actor, vendor_id, number: str, order_date: date, lines: list[dict], currency: str = "", notes: str = ""
) -> PurchaseOrder:
    """Record a purchase order with its lines; the currency defaults to the vendor's."""
    require_perm(actor, "invoices.add_purchaseorder", "You may not create purchase orders.")
    vendor = _vendor(vendor_id)
    number = (number or "").strip()
    if not number:
        raise ValidationError({"number": "Give the purchase order number."})
    if PurchaseOrder.objects.filter(number=number).exists():
        raise ValidationError({"number": f"Purchase order {number} already exists."})
    currency = currency or vendor.default_currency
    try:
        validate_currency(currency)
    except ValidationError as exc:
        raise ValidationError({"currency": exc.messages}) from exc
    if not lines:
        raise ValidationError({"lines": "A purchase order needs at least one line."})
    built = []
    for index, line in enumerate(lines, start=1):
        if not (line.get("description") or line.get("item_code")):
            raise ValidationError({"lines": f"Line {index}: give an item or a description."})
        if not line.get("promised_date"):
            raise ValidationError({"lines": f"Line {index}: give the promised date."})
        try:
            quantity = _quantity(line.get("quantity"), "lines")
            unit_price = _money(line.get("unit_price"), "lines")
        except ValidationError as exc:
            raise ValidationError({"lines": f"Line {index}: {exc.messages[0]}"}) from exc
        built.append(
            PurchaseOrderLine(
                line_number=index,
                item_code=line.get("item_code", ""),
                description=line.get("description") or line.get("item_code"),
                quantity=quantity,
                unit_price=unit_price,
                promised_date=line["promised_date"],
                created_by=actor,
            )
        )
    order = PurchaseOrder.objects.create(
        vendor=vendor, number=number, order_date=order_date, currency=currency, notes=notes, created_by=actor
    )
    for line in built:
        line.purchase_order = order
        line.save()
    return order


@transaction.atomic
def receipt_record(
    *, actor, po_line_id: int, received_date: date, quantity_received, quantity_damaged=0, reference: str = ""
) -> GoodsReceipt:
    """Record goods received against a purchase order line (damaged units are not accepted for matching)."""
    require_perm(actor, "invoices.add_goodsreceipt", "You may not record goods receipts.")
    line = PurchaseOrderLine.objects.select_related("purchase_order").filter(pk=po_line_id).first()
    if line is None:
        raise ValidationError({"po_line": "Unknown purchase order line."})
    if line.purchase_order.status == PurchaseOrder.Status.CANCELLED:
        raise TransitionNotAllowed(f"Purchase order {line.purchase_order.number} is cancelled.")
    received = _quantity(quantity_received, "quantity_received")
    try:
        damaged = Decimal(str(quantity_damaged or 0)).quantize(QUANTUM)
    except Exception as exc:
        raise ValidationError({"quantity_damaged": "Not a quantity."}) from exc
    if damaged < 0:
        raise ValidationError({"quantity_damaged": "Cannot be negative."})
    if damaged > received:
        raise ValidationError({"quantity_damaged": "Cannot be more than the quantity received."})
    if received_date > timezone.localdate():
        raise ValidationError({"received_date": "Goods cannot be received in the future."})
    return GoodsReceipt.objects.create(
        po_line=line,
        received_date=received_date,
        quantity_received=received,
        quantity_damaged=damaged,
        reference=reference,
        created_by=actor,
    )


# --- Entering invoices --------------------------------------------------------------------------

HEADER_FIELDS = {"number", "invoice_date", "due_date", "currency", "tax", "purchase_order", "notes", "lines"}


def _purchase_order(value) -> PurchaseOrder | None:
    if value in (None, ""):
        return None
    order = PurchaseOrder.objects.filter(pk=getattr(value, "pk", value)).first()
    if order is None:
        raise ValidationError({"purchase_order": "Unknown purchase order."})
    return order


def _build_lines(lines: list[dict], order: PurchaseOrder | None) -> list[InvoiceLine]:
    built = []
    for index, line in enumerate(lines, start=1):
        po_line = line.get("po_line")
        if po_line is not None and not isinstance(po_line, PurchaseOrderLine):
            po_line = PurchaseOrderLine.objects.filter(pk=po_line).first()
            if po_line is None:
                raise ValidationError({"lines": f"Line {index}: unknown purchase order line."})
        if po_line is not None and (order is None or po_line.purchase_order_id != order.pk):
            raise ValidationError({"lines": f"Line {index}: the purchase order line is not on this invoice's order."})
        try:
            quantity = _quantity(line.get("quantity"), "lines")
            unit_price = _money(line.get("unit_price"), "lines")
        except ValidationError as exc:
            raise ValidationError({"lines": f"Line {index}: {exc.messages[0]}"}) from exc
        description = (line.get("description") or (po_line.description if po_line else "")).strip()
        if not description:
            raise ValidationError({"lines": f"Line {index}: give a description."})
        built.append(
            bulk.new_instance(
                InvoiceLine,
                line_number=index,
                po_line=po_line,
                description=description[:255],
                quantity=quantity,
                unit_price=unit_price,
                amount=(quantity * unit_price).quantize(CENT),
            )
        )
    return built


def _validate_header(invoice: Invoice) -> None:
    errors = invoice_header_errors(invoice)
    if errors:
        raise ValidationError(errors)
    clash = (
        Invoice.objects.filter(vendor_id=invoice.vendor_id, number=invoice.number)
        .exclude(status=Status.CANCELLED)
        .exclude(pk=invoice.pk)
        .first()
    )
    if clash is not None:
        raise ValidationError(
            {
                "number": (
                    f"Vendor {invoice.vendor.code} already has invoice {invoice.number} ({clash.get_status_display()})."
                )
            }
        )


def invoice_header_errors(invoice: Invoice) -> dict[str, str]:
    """What is wrong with an invoice's header, by field, checked without the database (the number is stripped).

    ``invoice_create`` and ``invoice_update`` check this and then that the number is new for the vendor;
    bulk imports check it for every invoice and the numbers of a whole batch at once.
    """
    errors = {}
    invoice.number = (invoice.number or "").strip()
    if not invoice.number:
        errors["number"] = "Give the vendor's invoice number."
    if invoice.due_date and invoice.invoice_date and invoice.due_date < invoice.invoice_date:
        errors["due_date"] = "The due date cannot be before the invoice date."
    try:
        validate_currency(invoice.currency)
    except ValidationError as exc:
        errors["currency"] = exc.messages[0]
    order = invoice.purchase_order
    if order is not None:
        if order.vendor_id != invoice.vendor_id:
            errors["purchase_order"] = f"Purchase order {order.number} belongs to another vendor."
        elif order.currency != invoice.currency:
            errors["currency"] = (
                f"The invoice currency {invoice.currency} differs from purchase order {order.number}'s "
                f"{order.currency}."
            )
    return errors


def likely_duplicate(invoice: Invoice) -> Invoice | None:
    """Another live invoice of the same vendor with the same total and date under a different number."""
    return (
        Invoice.objects.filter(vendor_id=invoice.vendor_id, invoice_date=invoice.invoice_date, total=invoice.total)
        .exclude(pk=invoice.pk)
        .exclude(number=invoice.number)
        .exclude(status=Status.CANCELLED)
        .order_by("pk")
        .first()
    )


def _apply_lines(invoice: Invoice, lines: list[InvoiceLine]) -> None:
    invoice.subtotal = sum((line.amount for line in lines), ZERO)
    invoice.total = invoice.subtotal + invoice.tax


def invoice_lines_build(invoice: Invoice, lines: list[dict]) -> list[InvoiceLine]:
    """Validate line values as ``invoice_create`` does and return the unsaved lines; sets subtotal and total.

    No query unless a line names a purchase order line by id: bulk imports build thousands of invoices with it.
    """
    built = _build_lines(lines, invoice.purchase_order)
    _apply_lines(invoice, built)
    return built


def invoice_default_due_date(vendor: Vendor, invoice_date: date) -> date:
    """The due date of an invoice entered without one: the invoice date plus the vendor's payment terms."""
    return invoice_date + timedelta(days=vendor.payment_terms_days)


def invoice_default_currency(vendor: Vendor, order: PurchaseOrder | None) -> str:
    """The currency of an invoice entered without one: its purchase order's, else the vendor's default."""
    return order.currency if order else vendor.default_currency


def invoice_ensure_importable(invoice: Invoice) -> None:
    """An import may change a draft only: anything submitted or further goes through its transitions."""
    _ensure_status(invoice, "changed by an import", Status.DRAFT)


def money_value(value, field: str, *, positive: bool = False) -> Decimal:
    """An amount as entered (rounded to cents), or a ``ValidationError`` naming ``field``."""
    return _money(value, field, positive=positive)


def quantity_value(value, field: str) -> Decimal:
    """A quantity as entered (three decimals, more than zero), or a ``ValidationError`` naming ``field``."""
    return _quantity(value, field)


def _save_lines(invoice: Invoice, lines: list[InvoiceLine]) -> None:
    invoice.lines.all().delete()
    for line in lines:
        line.invoice = invoice
        line.save()  # one by one: each lands on the audit trail


@transaction.atomic
def invoice_create(
    *,
    actor,
    vendor_id,
    number: str,
    invoice_date: date,
    lines: list[dict],
    tax=ZERO,
    due_date: date | None = None,
    currency: str = "",
    purchase_order=None,
    notes: str = "",
) -> Invoice:
    """Enter a vendor invoice as a draft. The due date defaults to the invoice date plus the vendor's terms."""
    require_perm(actor, "invoices.add_invoice", "You may not enter invoices.")
    vendor = _vendor(vendor_id)
    order = _purchase_order(purchase_order)
    if not invoice_date:
        raise ValidationError({"invoice_date": "Give the invoice date."})
    invoice = Invoice(
        vendor=vendor,
        number=number,
        invoice_date=invoice_date,
        due_date=due_date or invoice_default_due_date(vendor, invoice_date),
        currency=currency or invoice_default_currency(vendor, order),
        purchase_order=order,
        tax=_money(tax or 0, "tax"),
        notes=notes,
        created_by=actor,
        updated_by=actor,
    )
    _validate_header(invoice)
    built = _build_lines(lines or [], order)
    _apply_lines(invoice, built)
    invoice.suspected_duplicate_of = likely_duplicate(invoice)
    invoice.save()
    _save_lines(invoice, built)
    return invoice


@transaction.atomic
def invoice_update(*, invoice_id: int, actor, **fields) -> Invoice:
    """Change an invoice. A change of any amount after approval sends it back to submitted and re-matches it."""
    require_perm(actor, "invoices.change_invoice", "You may not change invoices.")
    unknown = set(fields) - HEADER_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    invoice = _locked_invoice(invoice_id)
    editable = (Status.DRAFT, Status.SUBMITTED, Status.MATCHED, Status.EXCEPTION, Status.APPROVED, Status.SCHEDULED)
    _ensure_status(invoice, "changed", *editable)
    before = {name: getattr(invoice, name) for name in Invoice.MONEY_FIELDS}
    before_lines = list(invoice.lines.values_list("po_line_id", "quantity", "unit_price"))
    order_before = invoice.purchase_order_id
    if "purchase_order" in fields:
        invoice.purchase_order = _purchase_order(fields.pop("purchase_order"))
    order_changed = invoice.purchase_order_id != order_before
    if "tax" in fields:
        invoice.tax = _money(fields.pop("tax") or 0, "tax")
    lines = fields.pop("lines", None)
    for name, value in fields.items():
        setattr(invoice, name, value)
    if "invoice_date" in fields and "due_date" not in fields:
        invoice.due_date = invoice.invoice_date + timedelta(days=invoice.vendor.payment_terms_days)
    _validate_header(invoice)
    if lines is not None:
        built = _build_lines(lines, invoice.purchase_order)
    else:
        built = list(invoice.lines.all())
        for line in built:
            if line.po_line_id and line.po_line.purchase_order_id != getattr(invoice.purchase_order, "pk", None):
                raise ValidationError({"purchase_order": "The invoice lines refer to another purchase order."})
    _apply_lines(invoice, built)
    if invoice.total < invoice.paid_amount + invoice.credited_amount:
        raise ValidationError({"lines": "The total cannot fall below what has been paid and credited."})
    money_changed = any(getattr(invoice, n) != before[n] for n in Invoice.MONEY_FIELDS) or (
        lines is not None and [(b.po_line_id, b.quantity, b.unit_price) for b in built] != before_lines
    )
    invoice.suspected_duplicate_of = likely_duplicate(invoice)
    invoice.updated_by = actor
    invoice.save()
    if lines is not None:
        _save_lines(invoice, built)
    if invoice.status == Status.DRAFT or not (money_changed or order_changed):
        return invoice
    if invoice.status in (Status.APPROVED, Status.SCHEDULED):
        audit.record(
            action="invoice.returned_to_submitted",
            actor=actor,
            target=invoice,
            message="An amount changed after approval: the invoice needs approval again.",
            data={
                "before": {k: str(v) for k, v in before.items()},
                "after": {n: str(getattr(invoice, n)) for n in before},
            },
        )
    _reset_approvals(invoice)
    invoice.status = Status.SUBMITTED
    invoice.submitted_by, invoice.submitted_at = actor, timezone.now()  # who changed it may not approve it
    _match(invoice)
    audit.record(action="invoice.resubmitted", actor=actor, target=invoice, data={"match_result": invoice.match_result})
    return invoice


def _reset_approvals(invoice: Invoice) -> None:
    invoice.approved_by = invoice.second_approved_by = invoice.scheduled_by = None
    invoice.approved_at = invoice.second_approved_at = invoice.scheduled_payment_date = None
    invoice.match_override_reason = ""
    invoice.match_overridden_by = None


# --- Matching -----------------------------------------------------------------------------------


def _match(invoice: Invoice) -> Invoice:
    """Match every line against its order line (and receipts for 3-way), cumulative over earlier invoices.

    The order lines are locked first, so two invoices against the same line are matched one after the other.
    """
    tolerances = policy.tolerances_for(invoice.vendor_id)
    lines = list(invoice.lines.order_by("line_number"))
    po_line_ids = sorted({line.po_line_id for line in lines if line.po_line_id})
    po_lines = {pl.pk: pl for pl in PurchaseOrderLine.objects.select_for_update().filter(pk__in=po_line_ids)}
    earlier = defaultdict(
        lambda: ZERO,
        InvoiceLine.objects.filter(po_line_id__in=po_line_ids)
        .exclude(invoice_id=invoice.pk)
        .exclude(invoice__status__in=[Status.DRAFT, Status.CANCELLED])
        .values("po_line_id")
        .annotate(quantity_sum=Sum("quantity"))
        .values_list("po_line_id", "quantity_sum"),
    )
    accepted = defaultdict(
        lambda: ZERO,
        GoodsReceipt.objects.filter(po_line_id__in=po_line_ids)
        .values("po_line_id")
        .annotate(accepted=Sum(F("quantity_received") - F("quantity_damaged")))
        .values_list("po_line_id", "accepted"),
    )
    running = defaultdict(lambda: ZERO)
    all_reasons: list[str] = []
    for line in lines:
        reasons, details = [], []
        po_line = po_lines.get(line.po_line_id)
        if po_line is None:
            reasons.append(ExceptionReason.NO_PURCHASE_ORDER)
            details.append("not on a purchase order line")
        else:
            cumulative = earlier[po_line.pk] + running[po_line.pk] + line.quantity
            running[po_line.pk] += line.quantity
            allowed = po_line.quantity + tolerances.quantity_allowance(po_line.quantity)
            if cumulative > allowed:
                reasons.append(ExceptionReason.QUANTITY_OVER_ORDERED)
                details.append(f"invoiced {_q(cumulative)} of {_q(po_line.quantity)} ordered")
            if tolerances.mode == MatchMode.THREE_WAY:
                received = accepted[po_line.pk]
                if received <= 0:
                    reasons.append(ExceptionReason.NOT_RECEIVED)
                    details.append("nothing received yet")
                elif cumulative > received + tolerances.quantity_allowance(received):
                    reasons.append(ExceptionReason.QUANTITY_OVER_RECEIVED)
                    details.append(f"invoiced {_q(cumulative)} of {_q(received)} received")
            if line.unit_price - po_line.unit_price > tolerances.price_allowance(po_line.unit_price):
                reasons.append(ExceptionReason.PRICE_OVER_ORDERED)
                details.append(f"price {line.unit_price} above ordered {po_line.unit_price}")
        line.match_status = InvoiceLine.MatchStatus.EXCEPTION if reasons else InvoiceLine.MatchStatus.MATCHED
        line.match_reason = reasons[0] if reasons else ""
        line.match_detail = "; ".join(details)[:255] if details else "within tolerance"
        line.save(update_fields=["match_status", "match_reason", "match_detail"])
        all_reasons.extend(r for r in reasons if r not in all_reasons)
    invoice.exception_reasons = ",".join(all_reasons)
    if all_reasons:
        invoice.status = Status.EXCEPTION
        invoice.match_result = Invoice.MatchResult.EXCEPTION
        invoice.exception_since = timezone.now()
    else:
        invoice.status = Status.MATCHED
        invoice.match_result = Invoice.MatchResult.MATCHED
        invoice.exception_since = None
    invoice.save()
    return invoice


def _q(value: Decimal) -> str:
    return f"{value.normalize():f}"


# --- Transitions --------------------------------------------------------------------------------


@transaction.atomic
def invoice_submit(*, invoice_id: int, actor, duplicate_reason: str = "") -> Invoice:
    """Submit a draft: it is checked for a likely duplicate and matched (matched or exception)."""
    invoice = _locked_invoice(invoice_id)
    require_perm(actor, "invoices.change_invoice", "You may not submit invoices.")
    _ensure_status(invoice, "submitted", Status.DRAFT)
    if not invoice.lines.exists():
        raise ValidationError({"lines": "An invoice needs at least one line before it is submitted."})
    duplicate = likely_duplicate(invoice)
    invoice.suspected_duplicate_of = duplicate
    if duplicate is not None:
        if not (duplicate_reason or "").strip():
            raise ValidationError(
                {
                    "duplicate_reason": (
                        f"Likely duplicate of invoice {duplicate.number} (same vendor, total and date): "
                        "give a reason to submit it anyway."
                    )
                }
            )
        invoice.duplicate_override_reason = duplicate_reason.strip()
        audit.record(
            action="invoice.duplicate_overridden",
            actor=actor,
            target=invoice,
            message=invoice.duplicate_override_reason,
            data={"duplicate_of": duplicate.pk},
        )
    invoice.status = Status.SUBMITTED
    invoice.submitted_by = actor
    invoice.submitted_at = timezone.now()
    _match(invoice)
    audit.record(
        action="invoice.submitted",
        actor=actor,
        target=invoice,
        data={"match_result": invoice.match_result, "reasons": invoice.exception_reasons},
    )
    return invoice


def invoice_submit_duplicate(*, invoice_id: int, actor, reason: str) -> Invoice:
    """Submit a draft flagged as a likely duplicate, with the reason it is not one."""
    return invoice_submit(invoice_id=invoice_id, actor=actor, duplicate_reason=_reason(reason, "duplicate_reason"))


@transaction.atomic
def invoice_override_match(*, invoice_id: int, actor, reason: str) -> Invoice:
    """An approver accepts a match exception with a recorded reason; the invoice goes on to approval."""
    invoice = _locked_invoice(invoice_id)
    require_perm(actor, "invoices.approve_invoice", "You may not override match exceptions.")
    _ensure_status(invoice, "overridden", Status.EXCEPTION)
    _ensure_not_own(invoice, actor, "override its match exception")
    invoice.match_override_reason = _reason(reason)
    invoice.match_overridden_by = actor
    invoice.match_result = Invoice.MatchResult.OVERRIDDEN
    invoice.status = Status.MATCHED
    invoice.updated_by = actor
    invoice.save()
    audit.record(
        action="invoice.match_overridden",
        actor=actor,
        target=invoice,
        message=invoice.match_override_reason,
        data={"reasons": invoice.exception_reasons},
    )
    return invoice


@transaction.atomic
def invoice_approve(*, invoice_id: int, actor) -> Invoice:
    """Approve a matched invoice for payment; above the threshold a second, different approver completes it."""
    invoice = _locked_invoice(invoice_id)
    require_perm(actor, "invoices.approve_invoice", "You may not approve invoices.")
    if invoice.status == Status.APPROVED:
        raise TransitionNotAllowed(f"Invoice {invoice.number} is already approved.")
    _ensure_status(invoice, "approved", Status.MATCHED)
    _ensure_not_own(invoice, actor, "approve it")
    _ensure_vendor_payable(invoice, "approved")
    now = timezone.now()
    threshold = policy.second_approval_threshold()
    if invoice.total > threshold and invoice.approved_by_id is None:
        invoice.approved_by, invoice.approved_at = actor, now
        invoice.save()
        audit.record(
            action="invoice.first_approved",
            actor=actor,
            target=invoice,
            message=f"Total {invoice.total} {invoice.currency} is above {threshold}: a second approver is needed.",
            data={"total": str(invoice.total), "threshold": str(threshold)},
        )
        return invoice
    if invoice.approved_by_id is not None:
        if invoice.approved_by_id == actor.pk:
            raise PermissionDenied(
                f"You gave the first approval of invoice {invoice.number}: a second, different approver is needed."
            )
        invoice.second_approved_by, invoice.second_approved_at = actor, now
    else:
        invoice.approved_by, invoice.approved_at = actor, now
    invoice.status = Status.APPROVED
    invoice.updated_by = actor
    invoice.sop_version = sop_version_in_force(area="invoices")
    invoice.save()
    audit.record(
        action="invoice.approved",
        actor=actor,
        target=invoice,
        data={
            "sop_version": invoice.sop_version_id,
            "total": str(invoice.total),
            "currency": invoice.currency,
            "approvers": [u for u in (invoice.approved_by_id, invoice.second_approved_by_id) if u],
        },
    )
    return invoice


@transaction.atomic
def invoice_schedule(*, invoice_id: int, actor, payment_date: date | None = None) -> Invoice:
    """Schedule an approved invoice for payment (by default on its due date, or today if that has passed)."""
    invoice = _locked_invoice(invoice_id)
    require_perm(actor, "invoices.schedule_invoice", "You may not schedule payments.")
    _ensure_status(invoice, "scheduled", Status.APPROVED)
    _ensure_vendor_payable(invoice, "scheduled")
    today = timezone.localdate()
    payment_date = payment_date or max(invoice.due_date, today)
    if payment_date < today:
        raise ValidationError({"payment_date": "A payment cannot be scheduled in the past."})
    invoice.status = Status.SCHEDULED
    invoice.scheduled_payment_date = payment_date
    invoice.scheduled_by = actor
    invoice.updated_by = actor
    invoice.save()
    audit.record(
        action="invoice.scheduled", actor=actor, target=invoice, data={"payment_date": payment_date.isoformat()}
    )
    return invoice


HOLDABLE = (Status.SUBMITTED, Status.MATCHED, Status.EXCEPTION, Status.APPROVED, Status.SCHEDULED)


@transaction.atomic
def invoice_hold(*, invoice_id: int, actor, reason: str) -> Invoice:
    """Stop an invoice where it is; releasing it brings it back to the same step."""
    invoice = _locked_invoice(invoice_id)
    require_perm(actor, "invoices.change_invoice", "You may not put invoices on hold.")
    _ensure_status(invoice, "put on hold", *HOLDABLE)
    invoice.hold_reason = _reason(reason)
    invoice.resume_status = invoice.status
    invoice.status = Status.ON_HOLD
    invoice.updated_by = actor
    invoice.save()
    audit.record(action="invoice.put_on_hold", actor=actor, target=invoice, message=invoice.hold_reason)
    return invoice


@transaction.atomic
def invoice_dispute(*, invoice_id: int, actor, reason: str) -> Invoice:
    """Dispute an invoice with the vendor; contacts are logged until it is released."""
    invoice = _locked_invoice(invoice_id)
    require_perm(actor, "invoices.change_invoice", "You may not dispute invoices.")
    _ensure_status(invoice, "disputed", *HOLDABLE)
    invoice.dispute_reason = _reason(reason)
    invoice.resume_status = invoice.status
    invoice.status = Status.DISPUTED
    invoice.was_disputed = True
    invoice.updated_by = actor
    invoice.save()
    audit.record(action="invoice.disputed", actor=actor, target=invoice, message=invoice.dispute_reason)
    return invoice


@transaction.atomic
def invoice_release(*, invoice_id: int, actor, reason: str = "") -> Invoice:
    """End a hold or a dispute: the invoice returns to the step it was stopped at."""
    invoice = _locked_invoice(invoice_id)
    require_perm(actor, "invoices.change_invoice", "You may not release invoices.")
    _ensure_status(invoice, "released", Status.ON_HOLD, Status.DISPUTED)
    was = invoice.status
    invoice.status = invoice.resume_status or Status.SUBMITTED
    invoice.resume_status = ""
    invoice.updated_by = actor
    invoice.save()
    audit.record(
        action="invoice.released",
        actor=actor,
        target=invoice,
        message=(reason or "").strip(),
        data={"was": was, "now": invoice.status},
    )
    return invoice


@transaction.atomic
def invoice_cancel(*, invoice_id: int, actor, reason: str) -> Invoice:
    """Cancel an invoice nothing was paid on; its number becomes free for a corrected invoice."""
    invoice = _locked_invoice(invoice_id)
    require_perm(actor, "invoices.change_invoice", "You may not cancel invoices.")
    _ensure_status(invoice, "cancelled", Status.DRAFT, *HOLDABLE, Status.ON_HOLD, Status.DISPUTED)
    if invoice.paid_amount > 0 or invoice.credited_amount > 0:
        raise TransitionNotAllowed(f"Invoice {invoice.number} has payments or credits applied: it cannot be cancelled.")
    invoice.cancel_reason = _reason(reason)
    invoice.status = Status.CANCELLED
    invoice.updated_by = actor
    invoice.save()
    audit.record(action="invoice.cancelled", actor=actor, target=invoice, message=invoice.cancel_reason)
    return invoice


@transaction.atomic
def dispute_contact_log(
    *, invoice_id: int, actor, contact_name: str, note: str, channel: str = "email", contacted_at=None
) -> DisputeContact:
    """Log a contact with the vendor about a disputed invoice."""
    invoice = _locked_invoice(invoice_id)
    require_perm(actor, "invoices.add_disputecontact", "You may not log dispute contacts.")
    if invoice.status != Status.DISPUTED:
        raise TransitionNotAllowed(f"Invoice {invoice.number} is not disputed.")
    if not (contact_name or "").strip():
        raise ValidationError({"contact_name": "Who was contacted?"})
    if not (note or "").strip():
        raise ValidationError({"note": "What was said?"})
    if channel not in DisputeContact.Channel.values:
        raise ValidationError({"channel": f"Choose one of {', '.join(DisputeContact.Channel.values)}."})
    return DisputeContact.objects.create(
        invoice=invoice,
        contacted_at=contacted_at or timezone.now(),
        channel=channel,
        contact_name=contact_name.strip(),
        note=note.strip(),
        created_by=actor,
    )


# --- Money out and credits ----------------------------------------------------------------------


def _settle_if_done(invoice: Invoice, actor) -> None:
    invoice.refresh_from_db(fields=["paid_amount", "credited_amount", "total"])
    if invoice.open_balance == 0:
        invoice.status = Status.PAID
        invoice.paid_at = timezone.now()
        invoice.save(update_fields=["status", "paid_at", "updated_at", "updated_by"])
        audit.record(action="invoice.paid", actor=actor, target=invoice, data={"total": str(invoice.total)})


@transaction.atomic
def payment_record(
    *, invoice_id: int, actor, amount, payment_date: date, reference: str, method: str = Payment.Method.ACH
) -> Payment:
    """Record a (partial) payment of a scheduled invoice; never more than its open balance."""
    invoice = _locked_invoice(invoice_id)
    require_perm(actor, "invoices.add_payment", "You may not record payments.")
    amount = _money(amount, "amount", positive=True)
    _ensure_status(invoice, "paid", Status.SCHEDULED)
    _ensure_vendor_payable(invoice, "paid")
    if amount > invoice.open_balance:
        raise ValidationError(
            {"amount": f"{amount} is more than the open balance of {invoice.open_balance} {invoice.currency}."}
        )
    if not payment_date:
        raise ValidationError({"payment_date": "Give the payment date."})
    if payment_date > timezone.localdate():
        raise ValidationError({"payment_date": "A payment cannot be recorded in the future."})
    if payment_date < invoice.invoice_date:
        raise ValidationError({"payment_date": "The payment cannot be before the invoice date."})
    reference = (reference or "").strip()
    if not reference:
        raise ValidationError({"reference": "Give the payment reference."})
    if method not in Payment.Method.values:
        raise ValidationError({"method": f"Choose one of {', '.join(Payment.Method.values)}."})
    if Payment.objects.filter(method=method, reference=reference).exists():
        raise ValidationError({"reference": f"A {method} payment with reference {reference} is already recorded."})
    payment = Payment.objects.create(
        invoice=invoice,
        amount=amount,
        payment_date=payment_date,
        method=method,
        reference=reference,
        created_by=actor,
    )
    audit.logged_update(Invoice.objects.filter(pk=invoice.pk), paid_amount=F("paid_amount") + amount, updated_by=actor)
    audit.record(
        action="payment.recorded",
        actor=actor,
        target=invoice,
        data={"amount": str(amount), "reference": reference, "method": method},
    )
    invoice.updated_by = actor
    _settle_if_done(invoice, actor)
    return payment


CREDITABLE = (*HOLDABLE, Status.ON_HOLD, Status.DISPUTED)


@transaction.atomic
def credit_memo_apply(
    *, actor, invoice_id: int, number: str, memo_date: date, amount, reason: str, currency: str = ""
) -> CreditMemo:
    """Apply a vendor credit memo to an invoice; an invoice credited down to zero is settled."""
    require_perm(actor, "invoices.add_creditmemo", "You may not apply credit memos.")
    invoice = _locked_invoice(invoice_id)
    _ensure_status(invoice, "credited", *CREDITABLE)
    amount = _money(amount, "amount", positive=True)
    number = (number or "").strip()
    if not number:
        raise ValidationError({"number": "Give the credit memo number."})
    if currency and currency != invoice.currency:
        raise ValidationError({"currency": f"The credit is in {currency}; the invoice is in {invoice.currency}."})
    if amount > invoice.open_balance:
        raise ValidationError(
            {"amount": f"{amount} is more than the open balance of {invoice.open_balance} {invoice.currency}."}
        )
    if not memo_date:
        raise ValidationError({"memo_date": "Give the credit memo date."})
    if CreditMemo.objects.filter(vendor_id=invoice.vendor_id, number=number).exists():
        raise ValidationError({"number": f"Credit memo {number} of this vendor is already recorded."})
    memo = CreditMemo.objects.create(
        vendor=invoice.vendor,
        invoice=invoice,
        number=number,
        memo_date=memo_date,
        amount=amount,
        currency=invoice.currency,
        reason=_reason(reason),
        created_by=actor,
    )
    audit.logged_update(
        Invoice.objects.filter(pk=invoice.pk), credited_amount=F("credited_amount") + amount, updated_by=actor
    )
    audit.record(
        action="credit_memo.applied", actor=actor, target=invoice, data={"amount": str(amount), "number": number}
    )
    invoice.updated_by = actor
    _settle_if_done(invoice, actor)
    return memo
