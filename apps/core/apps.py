from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app shares: base model, money, audit trail, roles, reminders, health."""

    name = "apps.core"
    label = "core"
    verbose_name = "Portal"

    def ready(self):
        # Importing receivers connects them: audit trail stamps, login events, record stamps.
        from . import receivers, schedules  # noqa: F401

        schedules.connect()

        from . import dashboard

        dashboard.connect()
