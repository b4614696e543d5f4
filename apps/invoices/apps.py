from django.apps import AppConfig


class InvoicesConfig(AppConfig):
    """Accounts payable: purchase orders, goods receipts, vendor invoices, credit memos, payments and aging."""

    name = "apps.invoices"
    label = "invoices"
    verbose_name = "Accounts payable"
