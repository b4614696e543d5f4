from django.apps import AppConfig


class VendorsConfig(AppConfig):
    """Vendor master data, contacts, contracts with SLA targets, and performance reviews."""

    name = "apps.vendors"
    label = "vendors"
    verbose_name = "Vendors"

    def ready(self):
        from auditlog.registry import auditlog

        from apps.core import imports
        from apps.core import reminders as core_reminders
        from apps.vendors import models
        from apps.vendors import reminders as vendor_reminders
        from apps.vendors.resources import VendorContactResource, VendorResource

        auditlog.register(models.Vendor, mask_fields=["bank_account_number"])
        for model in (
            models.VendorContact,
            models.VendorContract,
            models.StandingBand,
            models.PerformanceReview,
            models.ReviewCriterion,
            models.ReviewActionItem,
        ):
            auditlog.register(model)
        imports.register("vendors.vendor", VendorResource, label="Vendors")
        imports.register("vendors.vendorcontact", VendorContactResource, label="Vendor contacts")
        for source in (
            vendor_reminders.ReviewsDue(),
            vendor_reminders.ContractRenewals(),
            vendor_reminders.OverdueActionItems(),
        ):
            core_reminders.register(source)
