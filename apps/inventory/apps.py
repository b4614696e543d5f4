from django.apps import AppConfig


class InventoryConfig(AppConfig):
    """Items, locations, stock levels and cycle counts."""

    name = "apps.inventory"
    label = "inventory"
    verbose_name = "Inventory"

    def ready(self):
        from auditlog.registry import auditlog

        from apps.core import reminders, schedules
        from apps.core.schedules import DefaultSchedule

        from . import models
        from .reminders import SOURCES

        for model in (
            models.Item,
            models.Warehouse,
            models.Location,
            models.StockLevel,
            models.LedgerEntry,
            models.CountPolicy,
            models.CycleCount,
            models.CycleCountLine,
            models.ReorderAlert,
            models.InventoryReportRun,
        ):
            auditlog.register(model)
        for source in SOURCES:
            reminders.register(source)

        from apps.core import imports

        from . import resources

        imports.register("inventory.item", resources.ItemImportResource, label="Items")
        imports.register("inventory.location", resources.LocationImportResource, label="Locations")
        # Stock levels and count lines exist before a file touches them: importing changes them, so it
        # needs change (stock changes also need the ledger posting permission, checked by the service).
        imports.register(
            "inventory.stocklevel", resources.StockLevelImportResource, label="Stock levels", actions=("change",)
        )
        imports.register(
            "inventory.cyclecountline", resources.CycleCountLineImportResource, label="Count lines", actions=("change",)
        )

        from apps.refunds import hooks

        from .restock import restock_returned_lines

        hooks.register_restock_handler(restock_returned_lines)
        for schedule in (
            DefaultSchedule(
                name="Schedule due cycle counts",
                task="apps.inventory.tasks.schedule_due_counts",
                crontab={"minute": "30", "hour": "5"},
                description="Creates the cycle counts that ABC class frequencies make due, per warehouse zone.",
            ),
            DefaultSchedule(
                name="Refresh reorder alerts",
                task="apps.inventory.tasks.refresh_reorder_alerts",
                crontab={"minute": "45", "hour": "5"},
                description="Opens one alert per item at or below its reorder point; closes recovered ones.",
            ),
            DefaultSchedule(
                name="Monthly inventory reports",
                task="apps.inventory.tasks.monthly_inventory_reports",
                crontab={"minute": "0", "hour": "6", "day_of_month": "1"},
                description="Count accuracy and shrinkage of the previous month, as report runs.",
            ),
        ):
            schedules.register(schedule)
