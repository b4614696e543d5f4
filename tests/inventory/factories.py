from decimal import Decimal

import factory

from apps.inventory.models import CountPolicy, Item, Location, StockLevel, Warehouse


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    description = factory.Sequence(lambda n: f"Widget {n}")
    unit_cost = Decimal("10.00")
    currency = "USD"
    abc_class = "B"


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"WH{n}")
    name = factory.LazyAttribute(lambda w: f"Warehouse {w.code}")


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    warehouse = factory.SubFactory(WarehouseFactory)
    zone = "A"
    bin = factory.Sequence(lambda n: f"{n:03d}")
    code = factory.LazyAttribute(lambda loc: f"{loc.warehouse.code}-{loc.zone}-{loc.bin}")


class CountPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CountPolicy
        django_get_or_create = ("abc_class",)

    abc_class = ""


def stock(item, location, quantity, *, actor=None):
    """Put ``quantity`` of ``item`` at ``location`` through the ledger (a receipt)."""
    from django.db import transaction

    from apps.inventory.services.stock import lock_stock_level, post_ledger_entry

    with transaction.atomic():
        level = lock_stock_level(item_id=item.pk, location_id=location.pk)
        if quantity:
            post_ledger_entry(level=level, kind="receipt", quantity=Decimal(quantity), actor=actor, reference="opening")
    return StockLevel.objects.get(pk=level.pk)
