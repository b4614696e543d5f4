from django.apps import AppConfig


class RefundsConfig(AppConfig):
    """Customer orders and refund cases: refunds, store credits, chargebacks and returns."""

    name = "apps.refunds"
    label = "refunds"
    verbose_name = "Refunds"

    def ready(self):
        from auditlog.registry import auditlog

        from apps.core import reminders, schedules
        from apps.refunds import models
        from apps.refunds.reminders import SOURCES

        auditlog.register(models.Channel)
        auditlog.register(models.ReasonCode)
        auditlog.register(models.RefundPolicy)
        auditlog.register(models.ApproverLimit)
        auditlog.register(models.Order)
        auditlog.register(models.OrderLine)
        auditlog.register(models.RefundCase)
        auditlog.register(models.CaseApproval)
        auditlog.register(models.Payout)
        auditlog.register(models.ReturnLine)
        auditlog.register(models.CaseAttachment)
        auditlog.register(models.ReportRun)

        for source in SOURCES:
            reminders.register(source)

        from apps.core import imports
        from apps.refunds.resources import OrderImportResource, RefundCaseImportResource

        imports.register("refunds.order", OrderImportResource, label="Customer orders")
        imports.register("refunds.refundcase", RefundCaseImportResource, label="Refund cases")

        schedules.register(
            schedules.DefaultSchedule(
                name="Monthly refund aging and chargeback recovery",
                task="apps.refunds.tasks.schedule_monthly_reports",
                crontab={"minute": "30", "hour": "5", "day_of_month": "1"},
                description="On the 1st: aging of open refund cases and the chargeback recovery summary "
                "as of the last day of the previous month, as CSV and XLSX.",
            )
        )

        from apps.refunds import hooks

        hooks.set_sop_version_provider(_sop_version_label)
        hooks.set_governing_sop_url_provider(_sop_reading_url)


def _sop_version_label(*, area: str) -> str:
    """How a refund decision records the SOP in force: its code, version number and id."""
    from apps.sops.selectors import sop_version_in_force

    version = sop_version_in_force(area=area)
    return f"{version.document.code} v{version.number} (#{version.pk})" if version else ""


def _sop_reading_url(*, area: str) -> str:
    from django.urls import reverse

    from apps.sops.selectors import sop_version_in_force

    version = sop_version_in_force(area=area)
    return reverse("admin:sops_sopversion_read", args=[version.pk]) if version else ""
