"""Reorder alerts (one per item until it recovers, critical at once), reminders once a day, reports, tasks."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from apps.core.models import Notification, ReminderItem
from apps.core.services.reminders import reminders_send_digests
from apps.inventory import tasks
from apps.inventory.models import CycleCount, InventoryReportRun, Item, ReorderAlert
from apps.inventory.services import (
    cycle_count_enter,
    cycle_count_start,
    cycle_count_submit,
    inventory_report_generate,
    inventory_report_request,
    reorder_alerts_notify,
    reorder_alerts_refresh,
    stock_move,
)
from tests.inventory.conftest import entries

pytestmark = pytest.mark.django_db


def test_one_alert_per_item_until_it_recovers(people, shelf):
    item, location = shelf["items"][1], shelf["bins"][1]  # 20 on hand
    Item.objects.filter(pk=item.pk).update(reorder_point=Decimal("20"), reorder_quantity=Decimal("50"))

    assert reorder_alerts_refresh()["opened"] == 1  # at the reorder point counts
    assert reorder_alerts_refresh() == {"opened": 0, "resolved": 0, "critical": 0}
    stock_move(item_id=item.pk, location_id=location.pk, kind="receipt", quantity=1, actor=people["controller"])
    assert reorder_alerts_refresh()["resolved"] == 1
    alert = ReorderAlert.objects.get()
    assert alert.resolved_quantity == Decimal("21") and alert.available_quantity == Decimal("20")
    stock_move(item_id=item.pk, location_id=location.pk, kind="shipment", quantity=5, actor=people["controller"])
    assert reorder_alerts_refresh()["opened"] == 1
    assert ReorderAlert.objects.filter(resolved_at__isnull=True).count() == 1


def test_reserved_stock_is_not_available(people, shelf):
    from apps.inventory.models import StockLevel

    item = shelf["items"][0]  # 100 on hand
    StockLevel.objects.filter(item=item).update(reserved_quantity=Decimal("95"))
    Item.objects.filter(pk=item.pk).update(reorder_point=Decimal("10"))
    reorder_alerts_refresh()
    assert ReorderAlert.objects.get().available_quantity == Decimal("5")


def test_critical_items_alert_at_once_and_only_once(people, shelf, django_capture_on_commit_callbacks):
    item, location = shelf["items"][1], shelf["bins"][1]
    Item.objects.filter(pk=item.pk).update(reorder_point=Decimal("10"), is_critical=True)
    with django_capture_on_commit_callbacks() as queued:
        stock_move(item_id=item.pk, location_id=location.pk, kind="shipment", quantity=12, actor=people["controller"])
    assert len(queued) == 1  # the check is sent after the movement commits
    result = tasks.check_reorder_alerts.apply(kwargs={"item_ids": [item.pk]}).get()
    assert result["critical"] == 1
    alert = ReorderAlert.objects.get()
    assert reorder_alerts_notify(alert_ids=[alert.pk]) == 1  # the controller
    assert reorder_alerts_notify(alert_ids=[alert.pk]) == 0
    assert Notification.objects.filter(recipient=people["controller"], title__contains=item.sku).count() == 1
    assert [m.to for m in mail.outbox] == [[people["controller"].email]]


def test_reorder_alerts_in_the_digest_once_not_every_day(people, shelf):
    Item.objects.filter(pk=shelf["items"][1].pk).update(reorder_point=Decimal("25"))
    reorder_alerts_refresh()
    today = timezone.localdate()
    reminders_send_digests(today=today)
    reminders_send_digests(today=today)
    reminders_send_digests(today=today + timedelta(days=1))
    items = ReminderItem.objects.filter(source="inventory.reorder_alerts")
    assert list(items.values_list("recipient", flat=True)) == [people["controller"].pk]


def test_counts_due_remind_their_counter_once_a_day(people, open_count):
    CycleCount.objects.filter(pk=open_count.pk).update(due_date=timezone.localdate())
    today = timezone.localdate()
    reminders_send_digests(today=today)
    reminders_send_digests(today=today)
    items = ReminderItem.objects.filter(source="inventory.counts_due")
    assert [(i.recipient_id, i.day) for i in items] == [(people["counter"].pk, today)]
    reminders_send_digests(today=today + timedelta(days=1))
    assert ReminderItem.objects.filter(source="inventory.counts_due").count() == 2


def test_counts_awaiting_approval_remind_reviewers_but_not_the_counter(people, open_count, make_user):
    cycle_count_start(count_id=open_count.pk, actor=people["counter"])
    cycle_count_enter(
        count_id=open_count.pk,
        actor=people["counter"],
        entries=entries(open_count, {"SKU-1": 100, "SKU-2": 20, "SKU-3": 0}),
    )
    cycle_count_submit(count_id=open_count.pk, actor=people["counter"])
    reminders_send_digests(today=timezone.localdate())
    assert not ReminderItem.objects.filter(source="inventory.counts_awaiting_approval").exists()  # within its SLA
    reminders_send_digests(today=timezone.localdate() + timedelta(days=1))
    recipients = set(
        ReminderItem.objects.filter(source="inventory.counts_awaiting_approval").values_list("recipient", flat=True)
    )
    assert recipients == {people["approver"].pk, people["controller"].pk}


def test_report_runs_write_csv_and_xlsx_once(people, shelf):
    Item.objects.filter(pk=shelf["items"][2].pk).update(reorder_point=Decimal("5"))
    today = timezone.localdate()
    for kind in InventoryReportRun.Kind.values:
        for fmt in ("csv", "xlsx"):
            run = inventory_report_request(
                actor=people["controller"], kind=kind, date_from=today, date_to=today, file_format=fmt
            )
            run = inventory_report_generate(report_id=run.pk)
            assert run.status == "done" and run.file.name.endswith(fmt), (kind, fmt, run.error)
            assert inventory_report_generate(report_id=run.pk).file.name == run.file.name
    below = InventoryReportRun.objects.get(kind="below_reorder", file_format="csv")
    assert "SKU-3" in below.file.read().decode()


def test_scheduling_task_and_monthly_reports_task(people, shelf):
    numbers = tasks.schedule_due_counts.apply().get()
    assert len(numbers) == 1 and numbers[0].startswith("CC-")
    assert tasks.schedule_due_counts.apply().get() == []
    assert len(tasks.monthly_inventory_reports.apply().get()) == 2


def test_default_schedules_are_registered():
    from apps.core import schedules

    names = {schedule.task for schedule in schedules.defaults()}
    assert {
        "apps.inventory.tasks.schedule_due_counts",
        "apps.inventory.tasks.refresh_reorder_alerts",
        "apps.inventory.tasks.monthly_inventory_reports",
    } <= names
