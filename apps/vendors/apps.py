from django.apps import AppConfig


class VendorsConfig(AppConfig):
    """Vendor master data, contacts, contracts with SLA targets, and performance reviews."""

    name = "apps.vendors"
    label = "vendors"
    verbose_name = "Vendors"

    def ready(self):
        from auditlog.registry import auditlog

        from apps.core import reminders as core_reminders
        from apps.vendors import models
        from apps.vendors import reminders as vendor_reminders

        auditlog.register(models.Vendor, mask_fields=["bank_account_number"])
        auditlog.register(models.VendorContact)
        auditlog.register(models.VendorContract)
        auditlog.register(models.StandingBand)
        auditlog.register(models.PerformanceReview)
        auditlog.register(models.ReviewCriterion)
        auditlog.register(models.ReviewActionItem)
        for source in (
            vendor_reminders.ReviewsDue(),
            vendor_reminders.ContractRenewals(),
            vendor_reminders.OverdueActionItems(),
        ):
            core_reminders.register(source)
