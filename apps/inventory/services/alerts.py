"""Reorder alerts: one open alert per item at or below its reorder point, until it recovers."""

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.models import Notification
from apps.inventory import selectors
from apps.inventory.models import ReorderAlert

ALERT_PERM = "inventory.view_reorderalert"


def alert_recipients():
    """Who hears of reorder alerts: the people who set reorder points (change items) and see alerts."""
    return selectors.users_with_perm("inventory.change_item").filter(
        pk__in=selectors.users_with_perm(ALERT_PERM).values("pk")
    )


def _open(item, available, now) -> ReorderAlert | None:
    try:
        with transaction.atomic():
            return ReorderAlert.objects.create(
                item=item,
                opened_at=now,
                available_quantity=available,
                reorder_point=item.reorder_point,
                reorder_quantity=item.reorder_quantity,
                is_critical=item.is_critical,
            )
    except IntegrityError:
        return None  # already open (perhaps opened by a concurrent run)


@transaction.atomic
def reorder_alerts_refresh(*, item_ids=None, critical_only: bool = False) -> dict[str, int]:
    """Open an alert for each item at or below its reorder point that has none; close recovered ones.

    Safe to run again and concurrently: the database allows one open alert per item. Critical
    items' new alerts are told to the people concerned at once; the others wait for the daily digest.
    """
    now = timezone.now()
    below = selectors.items_below_reorder_point(item_ids=item_ids)
    if critical_only:
        below = [(item, available) for item, available in below if item.is_critical]
    below_ids = {item.pk for item, _ in below}
    already = set(
        ReorderAlert.objects.filter(resolved_at__isnull=True, item_id__in=below_ids).values_list("item_id", flat=True)
    )
    opened = [alert for item, available in below if item.pk not in already if (alert := _open(item, available, now))]
    recovered_qs = (
        ReorderAlert.objects.select_for_update().filter(resolved_at__isnull=True).exclude(item_id__in=below_ids)
    )
    if item_ids is not None:
        recovered_qs = recovered_qs.filter(item_id__in=list(item_ids))
    resolved = 0
    if not critical_only:
        recovered = list(recovered_qs.select_related("item"))
        available = selectors.available_by_item(item_ids=[alert.item_id for alert in recovered])
        for alert in recovered:
            alert.resolved_at = now
            alert.resolved_quantity = available.get(alert.item_id, selectors.ZERO)
            alert.save(update_fields=["resolved_at", "resolved_quantity", "updated_at"])
            resolved += 1
    critical = [alert.pk for alert in opened if alert.is_critical]
    if critical:
        from apps.inventory.tasks import notify_critical_reorder_alerts

        notify_critical_reorder_alerts.delay_on_commit(critical)
    return {"opened": len(opened), "resolved": resolved, "critical": len(critical)}


def reorder_alerts_check_on_commit(*, item_ids) -> None:
    """After stock moved: check the critical items among ``item_ids`` as soon as the change commits."""
    from apps.inventory.models import Item

    critical = list(Item.objects.filter(pk__in=list(item_ids), is_critical=True).values_list("pk", flat=True))
    if critical:
        from apps.inventory.tasks import check_reorder_alerts

        check_reorder_alerts.delay_on_commit(item_ids=critical)


@transaction.atomic
def reorder_alerts_notify(*, alert_ids) -> int:
    """Tell the people concerned of new critical alerts now (once): an in-app notification and an e-mail."""
    alerts = list(
        ReorderAlert.objects.select_for_update(of=("self",))
        .filter(pk__in=list(alert_ids), resolved_at__isnull=True, notified_at__isnull=True)
        .select_related("item")
    )
    if not alerts:
        return 0
    people = list(alert_recipients())
    sent = 0
    for alert in alerts:
        title = f"Critical item {alert.item.sku} is at or below its reorder point"
        url = f"/admin/inventory/reorderalert/{alert.pk}/change/"
        for person in people:
            Notification.objects.create(recipient=person, title=title, url=url)
            if person.email:
                send_mail(
                    subject=f"Ops Portal: {title}",
                    message=f"{alert.item} needs reordering (reorder quantity {alert.reorder_quantity}).\n{url}",
                    from_email=None,
                    recipient_list=[person.email],
                )
            sent += 1
        alert.notified_at = timezone.now()
        alert.save(update_fields=["notified_at", "updated_at"])
    return sent
