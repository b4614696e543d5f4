"""
Default beat schedules, defined in code and kept in the database.

Each app adds its defaults with :func:`register`. After every ``migrate`` the defaults that
do not exist yet are created as django-celery-beat periodic tasks; an administrator's later
edits in the admin (time, enabled, arguments) are never overwritten.
"""

from dataclasses import dataclass, field

from django.db.models.signals import post_migrate


@dataclass(frozen=True)
class DefaultSchedule:
    name: str
    task: str
    crontab: dict  # minute, hour, day_of_week, day_of_month, month_of_year
    kwargs: dict = field(default_factory=dict)
    description: str = ""


_defaults: dict[str, DefaultSchedule] = {}


def register(schedule: DefaultSchedule) -> None:
    _defaults[schedule.name] = schedule


def defaults() -> list[DefaultSchedule]:
    return list(_defaults.values())


def install_defaults() -> list[str]:
    """Create the default schedules that are missing; return the names created."""
    import json

    from django.conf import settings
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    created = []
    for schedule in defaults():
        if PeriodicTask.objects.filter(name=schedule.name).exists():
            continue
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=schedule.crontab.get("minute", "0"),
            hour=schedule.crontab.get("hour", "*"),
            day_of_week=schedule.crontab.get("day_of_week", "*"),
            day_of_month=schedule.crontab.get("day_of_month", "*"),
            month_of_year=schedule.crontab.get("month_of_year", "*"),
            timezone=settings.TIME_ZONE,
        )
        PeriodicTask.objects.create(
            name=schedule.name,
            task=schedule.task,
            crontab=crontab,
            kwargs=json.dumps(schedule.kwargs),
            description=schedule.description,
        )
        created.append(schedule.name)
    return created


def _install_after_migrate(sender, app_config=None, using="default", **kwargs):
    if app_config is not None and app_config.label == "core":
        install_defaults()


def connect() -> None:
    from django.conf import settings

    register(
        DefaultSchedule(
            name="Daily reminder digests",
            task="apps.core.tasks.send_reminder_digests",
            crontab={"minute": "0", "hour": str(settings.REMINDER_DIGEST_HOUR)},
            description="Gathers what is due for each person into one e-mail and in-app digest a day.",
        )
    )
    register(
        DefaultSchedule(
            name="Daily export file expiry",
            task="apps.core.tasks.expire_export_files",
            crontab={"minute": "30", "hour": "2"},
            description="Deletes export and evidence pack files older than EXPORT_FILE_RETENTION_DAYS; "
            "their jobs stay, marked expired.",
        )
    )
    post_migrate.connect(_install_after_migrate, dispatch_uid="opsportal_install_default_schedules")
