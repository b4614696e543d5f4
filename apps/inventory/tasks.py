"""Thin Celery tasks: take ids, call a service. Each is safe to run twice."""

from celery import shared_task


@shared_task
def schedule_due_counts(day: str | None = None) -> list[str]:
    """Daily: create the cycle counts that ABC frequencies make due."""
    from datetime import date

    from apps.inventory.services import cycle_counts_schedule_due

    counts = cycle_counts_schedule_due(today=date.fromisoformat(day) if day else None)
    return [count.number for count in counts]


@shared_task
def refresh_reorder_alerts() -> dict:
    """Daily (before the digests): open alerts for items at or below reorder point, close recovered ones."""
    from apps.inventory.services import reorder_alerts_refresh

    return reorder_alerts_refresh()


@shared_task
def check_reorder_alerts(item_ids: list[int]) -> dict:
    """After a movement of critical items: alert at once when they reach their reorder point."""
    from apps.inventory.services import reorder_alerts_refresh

    return reorder_alerts_refresh(item_ids=item_ids, critical_only=True)


@shared_task
def notify_critical_reorder_alerts(alert_ids: list[int]) -> int:
    from apps.inventory.services import reorder_alerts_notify

    return reorder_alerts_notify(alert_ids=alert_ids)


@shared_task
def generate_inventory_report(report_id: int) -> str:
    from apps.inventory.services import inventory_report_generate

    return inventory_report_generate(report_id=report_id).status


@shared_task
def monthly_inventory_reports() -> list[int]:
    """Monthly: count accuracy and shrinkage of the previous month."""
    from apps.inventory.services.reports import inventory_reports_monthly

    return [run.pk for run in inventory_reports_monthly()]
