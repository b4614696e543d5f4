"""Stock movements: every change of quantity is a ledger entry, posted with its stock level."""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.core import audit
from apps.inventory.models import QTY_PLACES, CycleCount, CycleCountLine, Item, LedgerEntry, Location, StockLevel

QUANTUM = Decimal(1).scaleb(-QTY_PLACES)
MANUAL_KINDS = {
    LedgerEntry.Kind.RECEIPT: 1,
    LedgerEntry.Kind.SHIPMENT: -1,
    LedgerEntry.Kind.RETURN_RESTOCK: 1,
    LedgerEntry.Kind.MANUAL_CORRECTION: 0,  # signed as given
}


def to_quantity(value, *, field: str = "quantity") -> Decimal:
    """Parse a quantity (Decimal, int or string; never a float) to three decimal places."""
    if isinstance(value, float):
        raise TypeError("Quantities must not be floats: pass a Decimal, an int or a string.")
    if isinstance(value, bool) or value is None or value == "":
        raise ValidationError({field: "Enter a quantity."})
    try:
        quantity = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({field: f"{value!r} is not a quantity."}) from exc
    if not quantity.is_finite():
        raise ValidationError({field: f"{value!r} is not a quantity."})
    if quantity != quantity.quantize(QUANTUM):
        raise ValidationError({field: f"At most {QTY_PLACES} decimal places."})
    if quantity.adjusted() >= 11:
        raise ValidationError({field: "That quantity is too large."})
    return quantity.quantize(QUANTUM)


def lock_stock_level(*, item_id: int, location_id: int) -> StockLevel:
    """The stock level of an item at a location, created at zero when missing, locked for update."""
    StockLevel.objects.get_or_create(item_id=item_id, location_id=location_id)
    return StockLevel.objects.select_for_update().select_related("item").get(item_id=item_id, location_id=location_id)


def post_ledger_entry(
    *,
    level: StockLevel,
    kind: str,
    quantity: Decimal,
    actor,
    unit_cost: Decimal | None = None,
    reason: str = "",
    reference: str = "",
    count_line: CycleCountLine | None = None,
    at=None,
) -> LedgerEntry:
    """Append a ledger entry and move the (already locked) stock level by the same quantity.

    Other open counts of this item and bin are flagged: their snapshot no longer holds.
    """
    at = at or timezone.now()
    item = level.item
    unit_cost = item.unit_cost if unit_cost is None else unit_cost
    balance = level.quantity + quantity
    if balance < 0:
        raise ValidationError(
            {"quantity": f"{item.sku} at this location would fall below zero; post a count or correction first."}
        )
    entry = LedgerEntry.objects.create(
        item=item,
        location_id=level.location_id,
        kind=kind,
        quantity=quantity,
        balance_after=balance,
        unit_cost=unit_cost,
        value=(quantity * unit_cost).quantize(Decimal("0.01")),
        currency=item.currency,
        reason=reason,
        reference=reference,
        count_line=count_line,
        posted_at=at,
        posted_by=actor,
    )
    audit.logged_update(StockLevel.objects.filter(pk=level.pk), quantity=F("quantity") + quantity, last_movement_at=at)
    level.quantity = balance
    level.last_movement_at = at
    if quantity != 0:
        moved = CycleCountLine.objects.filter(
            item_id=item.pk,
            location_id=level.location_id,
            snapshot_at__isnull=False,
            count__status__in=CycleCount.OPEN,
        )
        if count_line is not None:
            moved = moved.exclude(count_id=count_line.count_id)
        audit.logged_update(moved, stock_moved_at=at)
    return entry


@transaction.atomic
def stock_move(
    *,
    item_id: int,
    location_id: int,
    kind: str,
    quantity,
    actor,
    reason: str = "",
    reference: str = "",
) -> LedgerEntry:
    """Post a receipt, shipment, return restock or manual correction (with a reason).

    Receipts, shipments and restocks take a positive quantity (a shipment takes it out); a manual
    correction takes a signed one. Counts post their own adjustments on approval.
    """
    if actor is None or not actor.has_perm("inventory.add_ledgerentry"):
        raise PermissionDenied("You may not post stock movements.")
    if kind not in MANUAL_KINDS:
        raise ValidationError({"kind": "Choose a receipt, shipment, return restock or manual correction."})
    quantity = to_quantity(quantity)
    reason = (reason or "").strip()
    sign = MANUAL_KINDS[kind]
    if sign and quantity <= 0:
        raise ValidationError({"quantity": "Enter a positive quantity."})
    if not sign:
        if quantity == 0:
            raise ValidationError({"quantity": "A correction must change the quantity."})
        if not reason:
            raise ValidationError({"reason": "A manual correction needs a reason."})
    if not Item.objects.filter(pk=item_id, is_active=True).exists():
        raise ValidationError({"item": "No active item with that id."})
    if not Location.objects.filter(pk=location_id, is_active=True).exists():
        raise ValidationError({"location": "No active location with that id."})
    level = lock_stock_level(item_id=item_id, location_id=location_id)
    entry = post_ledger_entry(
        level=level,
        kind=kind,
        quantity=quantity * sign if sign else quantity,
        actor=actor,
        reason=reason,
        reference=(reference or "").strip()[:64],
    )
    from apps.inventory.services.alerts import reorder_alerts_check_on_commit

    reorder_alerts_check_on_commit(item_ids=[item_id])
    return entry


@transaction.atomic
def stock_set_quantity(*, item_id: int, location_id: int, quantity, actor, reason: str) -> LedgerEntry | None:
    """Bring a stock level to a stated quantity (an opening balance or a correction from a file).

    The difference is posted as a manual correction with ``reason``, so the ledger still adds up to
    the stock level; a level already at the quantity posts nothing and returns ``None``.
    """
    if actor is None or not actor.has_perm("inventory.add_ledgerentry"):
        raise PermissionDenied("You may not post stock movements.")
    quantity = to_quantity(quantity)
    if quantity < 0:
        raise ValidationError({"quantity": "A quantity on hand cannot be negative."})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the stock level is set."})
    if not Item.objects.filter(pk=item_id, is_active=True).exists():
        raise ValidationError({"item": "No active item with that id."})
    if not Location.objects.filter(pk=location_id, is_active=True).exists():
        raise ValidationError({"location": "No active location with that id."})
    level = lock_stock_level(item_id=item_id, location_id=location_id)
    difference = quantity - level.quantity
    if difference == 0:
        return None
    opening = not LedgerEntry.objects.filter(item_id=item_id, location_id=location_id).exists()
    entry = post_ledger_entry(
        level=level,
        kind=LedgerEntry.Kind.MANUAL_CORRECTION,
        quantity=difference,
        actor=actor,
        reason=f"Opening balance: {reason}" if opening else reason,
    )
    from apps.inventory.services.alerts import reorder_alerts_check_on_commit

    reorder_alerts_check_on_commit(item_ids=[item_id])
    return entry


def return_restock_reference(*, case_reference: str, return_line_id: int) -> str:
    """The ledger reference of one restocked return line: the RMA and the line, so it posts once."""
    return f"{case_reference} line {return_line_id}"[:64]


@transaction.atomic
def stock_receive_return(*, sku: str, quantity, case_reference: str, return_line_id: int, actor) -> LedgerEntry | None:
    """Put a returned item back on the shelf: a return-restock receipt at the item's returns bin.

    The bin is ``INVENTORY_RETURNS_LOCATION`` (a location code) when set, else the active bin that
    holds most of the item. Posted once per return line: a second call returns the first entry. An
    item the inventory does not keep, or one with no bin to go to, posts nothing (``None``) and is an
    event on the audit trail, so the return itself is never held up by it.
    """
    from django.conf import settings

    from apps.core import audit

    reference = return_restock_reference(case_reference=case_reference, return_line_id=return_line_id)
    quantity = to_quantity(quantity)
    item = Item.objects.filter(sku=sku, is_active=True).first()
    location = None
    if item is not None:
        code = getattr(settings, "INVENTORY_RETURNS_LOCATION", "")
        if code:
            location = Location.objects.filter(code=code, is_active=True).first()
        if location is None:
            level = (
                StockLevel.objects.filter(item=item, location__is_active=True)
                .select_related("location")
                .order_by("-quantity", "location__code")
                .first()
            )
            location = level.location if level else None
    if item is None or location is None:
        audit.record(
            action="stock.return_not_restocked",
            actor=actor,
            message=f"{sku}: {'not an active inventory item' if item is None else 'no bin to restock it to'}.",
            data={"sku": sku, "quantity": str(quantity), "reference": reference},
        )
        return None
    level = lock_stock_level(item_id=item.pk, location_id=location.pk)
    posted = LedgerEntry.objects.filter(kind=LedgerEntry.Kind.RETURN_RESTOCK, reference=reference).first()
    if posted is not None:
        return posted
    entry = post_ledger_entry(
        level=level,
        kind=LedgerEntry.Kind.RETURN_RESTOCK,
        quantity=quantity,
        actor=actor,
        reason="Returned by the customer, restocked on inspection.",
        reference=reference,
    )
    from apps.inventory.services.alerts import reorder_alerts_check_on_commit

    reorder_alerts_check_on_commit(item_ids=[item.pk])
    return entry
