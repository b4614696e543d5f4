"""Reminder sources of the inventory app: counts due, counts awaiting approval, reorder alerts."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Q

from apps.core.models import ReminderItem
from apps.core.reminders import Reminder
from apps.inventory import selectors
from apps.inventory.models import CycleCount, ReorderAlert
from apps.inventory.services.alerts import alert_recipients


def _count_url(count) -> str:
    return f"/admin/inventory/cyclecount/{count.pk}/change/"


@dataclass(frozen=True)
class CountsDue:
    """Counts whose due date has come: their counter (or recounter, for a recount) is reminded."""

    key: str = "inventory.counts_due"
    label: str = "Cycle counts due"

    def collect(self, *, today: date) -> Iterable[Reminder]:
        counts = CycleCount.objects.filter(
            status__in=[CycleCount.Status.SCHEDULED, CycleCount.Status.COUNTING, CycleCount.Status.RECOUNT],
            due_date__lte=today,
        ).select_related("warehouse")
        for count in counts:
            person = count.recounter_id if count.status == CycleCount.Status.RECOUNT else count.counter_id
            if person is None:
                continue
            what = "recount" if count.status == CycleCount.Status.RECOUNT else "count"
            where = f"{count.warehouse} zone {count.zone}" if count.zone else str(count.warehouse)
            yield Reminder(
                recipient_id=person,
                object_key=f"inventory.cyclecount:{count.pk}",
                title=f"Cycle {what} {count.number} at {where} was due {count.due_date}",
                url=_count_url(count),
            )


@dataclass(frozen=True)
class CountsAwaitingApproval:
    """Counts submitted more than a day ago and not yet approved: reviewers (not their counters) are reminded."""

    key: str = "inventory.counts_awaiting_approval"
    label: str = "Cycle counts awaiting approval"
    sla_days: int = 1

    def collect(self, *, today: date) -> Iterable[Reminder]:
        counts = list(
            CycleCount.objects.filter(
                status=CycleCount.Status.SUBMITTED, submitted_at__date__lte=today - timedelta(days=self.sla_days)
            )
        )
        if not counts:
            return
        reviewers = list(selectors.users_with_perm("inventory.approve_count").values_list("pk", flat=True))
        for count in counts:
            for person in reviewers:
                if person in (count.counter_id, count.recounter_id):
                    continue
                yield Reminder(
                    recipient_id=person,
                    object_key=f"inventory.cyclecount:{count.pk}",
                    title=f"Cycle count {count.number} awaits approval since {count.submitted_at:%d %b}",
                    url=f"/admin/inventory/cyclecount/{count.pk}/review/",
                )


@dataclass(frozen=True)
class ReorderAlerts:
    """Open reorder alerts, each told to each person once (not again every day while it stays open)."""

    key: str = "inventory.reorder_alerts"
    label: str = "Items at or below reorder point"

    def collect(self, *, today: date) -> Iterable[Reminder]:
        alerts = list(ReorderAlert.objects.filter(resolved_at__isnull=True).select_related("item"))
        if not alerts:
            return
        people = list(alert_recipients().values_list("pk", flat=True))
        keys = {alert.pk: f"inventory.reorderalert:{alert.pk}" for alert in alerts}
        told = set(
            ReminderItem.objects.filter(source=self.key, object_key__in=keys.values())
            .filter(~Q(day=today))
            .values_list("recipient_id", "object_key")
        )
        for alert in alerts:
            for person in people:
                if (person, keys[alert.pk]) in told:
                    continue
                yield Reminder(
                    recipient_id=person,
                    object_key=keys[alert.pk],
                    title=f"{'Critical item' if alert.is_critical else 'Item'} {alert.item.sku} is at or below "
                    f"its reorder point",
                    url=f"/admin/inventory/reorderalert/{alert.pk}/change/",
                )


SOURCES = [CountsDue(), CountsAwaitingApproval(), ReorderAlerts()]
