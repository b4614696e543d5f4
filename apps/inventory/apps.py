from django.apps import AppConfig


class InventoryConfig(AppConfig):
    """Items, locations, stock levels and cycle counts."""

    name = "apps.inventory"
    label = "inventory"
    verbose_name = "Inventory"
