from django.apps import AppConfig


class VendorsConfig(AppConfig):
    """Vendor master data, contacts, contracts with SLA targets, and performance reviews."""

    name = "apps.vendors"
    label = "vendors"
    verbose_name = "Vendors"
