from django.apps import AppConfig


class InvoicesConfig(AppConfig):
    """Accounts payable: purchase orders, goods receipts, vendor invoices, credit memos, payments and aging."""

    name = "apps.invoices"
    label = "invoices"
    verbose_name = "Accounts payable"

    def ready(self):
        from auditlog.registry import auditlog

        from apps.core import reminders as core_reminders
        from apps.core import schedules
        from apps.invoices import kpis, models
        from apps.invoices import reminders as invoice_reminders
        from apps.vendors import kpis as vendor_kpis

        for model in (
            models.VendorMatchingPolicy,
            models.PurchaseOrder,
            models.PurchaseOrderLine,
            models.GoodsReceipt,
            models.Invoice,
            models.InvoiceLine,
            models.CreditMemo,
            models.Payment,
            models.DisputeContact,
            models.AgingReportRun,
        ):
            auditlog.register(model)
        for source in (
            invoice_reminders.DueSoon(),
            invoice_reminders.Overdue(),
            invoice_reminders.AwaitingApproval(),
            invoice_reminders.UnresolvedExceptions(),
        ):
            core_reminders.register(source)
        vendor_kpis.register("on_time_delivery", kpis.on_time_delivery)
        vendor_kpis.register("invoice_accuracy", kpis.invoice_accuracy)
        vendor_kpis.register("dispute_rate", kpis.dispute_rate)
        schedules.register(
            schedules.DefaultSchedule(
                name="Weekly AP aging report",
                task="apps.invoices.tasks.run_scheduled_aging_report",
                crontab={"minute": "30", "hour": "5", "day_of_week": "1"},
                description="AP aging as of the run day, stored as a report run with CSV and XLSX files.",
            )
        )
