from django.apps import AppConfig


class SopsConfig(AppConfig):
    """Standard operating procedures: versions, reviews, publishing and acknowledgements."""

    name = "apps.sops"
    label = "sops"
    verbose_name = "SOPs"

    def ready(self):
        from auditlog.registry import auditlog

        from apps.core import reminders as reminder_registry
        from apps.sops import reminders
        from apps.sops.models import Acknowledgement, SOPAttachment, SOPDocument, SOPVersion

        auditlog.register(SOPDocument, m2m_fields={"audience"})
        auditlog.register(SOPVersion)
        auditlog.register(SOPAttachment)
        auditlog.register(Acknowledgement)
        for source in reminders.SOURCES:
            reminder_registry.register(source)
