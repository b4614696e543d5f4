"""Writes on customer orders: create, correct, and the money checks every amount goes through."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from apps.core.money import parse_amount, validate_currency
from apps.refunds.models import Channel, Order, OrderLine


def _require(actor, perm: str, sentence: str) -> None:
    if actor is None or not actor.is_active or not actor.has_perm(perm):
        raise PermissionDenied(sentence)


@transaction.atomic
def order_create(
    *,
    actor,
    reference: str,
    customer_name: str,
    customer_email: str,
    order_date,
    channel_id: int,
    currency: str,
    total,
    amount_paid,
    lines: list[dict] | None = None,
) -> Order:
    """Record a customer order and its lines (what refunds are later measured against)."""
    _require(actor, "refunds.add_order", "You may not create orders.")
    errors = {}
    if Order.objects.filter(reference=reference).exists():
        errors["reference"] = f"An order with reference {reference} already exists."
    if not Channel.objects.filter(pk=channel_id).exists():
        errors["channel"] = "Unknown sales channel."
    try:
        validate_currency(currency)
    except ValidationError as exc:
        errors["currency"] = exc.messages
    try:
        total = parse_amount(total, field="total", allow_zero=True)
        amount_paid = parse_amount(amount_paid, field="amount_paid", allow_zero=True)
        if amount_paid > total:
            errors["amount_paid"] = "The amount paid cannot exceed the order total."
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    order = Order.objects.create(
        reference=reference,
        customer_name=customer_name,
        customer_email=customer_email,
        order_date=order_date,
        channel_id=channel_id,
        currency=currency,
        total=total,
        amount_paid=amount_paid,
        created_by=actor,
        updated_by=actor,
    )
    for line in lines or []:
        OrderLine.objects.create(
            order=order,
            sku=line["sku"],
            description=line.get("description", ""),
            quantity=line["quantity"],
            unit_price=parse_amount(line["unit_price"], field="lines", allow_zero=True),
            created_by=actor,
            updated_by=actor,
        )
    return order


EDITABLE_ORDER_FIELDS = {"customer_name", "customer_email", "order_date", "channel_id", "total", "amount_paid"}


@transaction.atomic
def order_update(*, order_id: int, actor, **changes) -> Order:
    """Correct an order. What was paid never drops below what is already committed to refunds."""
    _require(actor, "refunds.change_order", "You may not change orders.")
    order = Order.objects.select_for_update().get(pk=order_id)
    unknown = set(changes) - EDITABLE_ORDER_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    if "total" in changes:
        changes["total"] = parse_amount(changes["total"], field="total", allow_zero=True)
    if "amount_paid" in changes:
        changes["amount_paid"] = parse_amount(changes["amount_paid"], field="amount_paid", allow_zero=True)
    for name, value in changes.items():
        setattr(order, name, value)
    if order.amount_paid > order.total:
        raise ValidationError({"amount_paid": "The amount paid cannot exceed the order total."})
    if order.amount_paid < order.committed_amount:
        raise ValidationError(
            {
                "amount_paid": f"{order.committed_amount} {order.currency} is already refunded or committed on this "
                "order; the amount paid cannot be lower."
            }
        )
    order.updated_by = actor
    order.save()
    return order
