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
        self.register_imports()
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

    def register_imports(self):
        from apps.core import imports
        from apps.invoices import imports as bulk
        from apps.invoices import models, resources

        imports.register(
            "invoices.invoice",
            resources.InvoiceLineResource,
            label="Invoices (one row per line)",
            bulk_importer=bulk.import_invoices,
            model=models.Invoice,
        )
        imports.register(
            "invoices.purchaseorder",
            resources.PurchaseOrderLineResource,
            label="Purchase orders (one row per line)",
            bulk_importer=bulk.import_purchase_orders,
            model=models.PurchaseOrder,
        )
        imports.register(
            "invoices.goodsreceipt",
            resources.GoodsReceiptResource,
            label="Goods receipts",
            bulk_importer=bulk.import_receipts,
        )
        imports.register(  # a payment is never changed by an import, only recorded: adding is enough
            "invoices.payment",
            resources.PaymentResource,
            label="Payments",
            bulk_importer=bulk.import_payments,
            actions=("add",),
        )
