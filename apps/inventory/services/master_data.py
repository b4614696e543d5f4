"""Items and locations: created and changed through these services from the admin, the API and imports."""

from django.core.exceptions import PermissionDenied
from django.db import transaction

from apps.inventory.models import Item, Location

ITEM_FIELDS = {
    "sku",
    "description",
    "unit_of_measure",
    "unit_cost",
    "currency",
    "abc_class",
    "reorder_point",
    "reorder_quantity",
    "is_critical",
    "is_active",
    "count_frequency_days",
    "tolerance_units",
    "tolerance_percent",
    "tolerance_value",
}
LOCATION_FIELDS = {"warehouse", "zone", "bin", "code", "is_active"}


def _apply(obj, fields: dict, allowed: set[str]):
    for name, value in fields.items():
        if name in allowed:
            setattr(obj, name, value)


@transaction.atomic
def item_create(*, actor, **fields) -> Item:
    if not actor.has_perm("inventory.add_item"):
        raise PermissionDenied("You may not create items.")
    item = Item()
    _apply(item, fields, ITEM_FIELDS)
    item.full_clean()
    item.save()
    return item


@transaction.atomic
def item_update(*, item_id: int, actor, **fields) -> Item:
    """Change an item (reorder point, cost, class, ...); reorder alerts follow at the next check."""
    if not actor.has_perm("inventory.change_item"):
        raise PermissionDenied("You may not change items.")
    item = Item.objects.select_for_update().get(pk=item_id)
    _apply(item, fields, ITEM_FIELDS)
    item.full_clean()
    item.save()
    from apps.inventory.services.alerts import reorder_alerts_check_on_commit

    reorder_alerts_check_on_commit(item_ids=[item.pk])
    return item


@transaction.atomic
def location_create(*, actor, **fields) -> Location:
    if not actor.has_perm("inventory.add_location"):
        raise PermissionDenied("You may not create locations.")
    location = Location()
    _apply(location, fields, LOCATION_FIELDS)
    location.full_clean()
    location.save()
    return location


@transaction.atomic
def location_update(*, location_id: int, actor, **fields) -> Location:
    if not actor.has_perm("inventory.change_location"):
        raise PermissionDenied("You may not change locations.")
    location = Location.objects.select_for_update().get(pk=location_id)
    _apply(location, fields, LOCATION_FIELDS)
    location.full_clean()
    location.save()
    return location
