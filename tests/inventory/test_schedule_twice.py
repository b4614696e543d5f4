"""Two beat schedulers by mistake: the monthly inventory reports still run once per period."""

import pytest
from django.db import IntegrityError
from django.utils import timezone

from apps.inventory import tasks
from apps.inventory.models import InventoryReportRun
from apps.inventory.services.reports import previous_month
from tests.invoices.test_concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_the_monthly_reports_fired_twice_at_once_make_one_run_each():
    created = []

    outcomes = race(
        lambda: created.extend(tasks.monthly_inventory_reports.apply().get()),
        lambda: created.extend(tasks.monthly_inventory_reports.apply().get()),
    )

    assert outcomes == ["ok", "ok"]
    date_from, date_to = previous_month(timezone.localdate())
    runs = InventoryReportRun.objects.filter(date_from=date_from, date_to=date_to, scheduled=True)
    assert sorted(runs.values_list("kind", flat=True)) == ["count_accuracy", "shrinkage"]
    assert sorted(created) == sorted(runs.values_list("pk", flat=True))


def test_the_database_refuses_a_second_scheduled_run_for_the_same_period():
    date_from, date_to = previous_month(timezone.localdate())
    fields = {"kind": "shrinkage", "file_format": "csv", "date_from": date_from, "date_to": date_to}
    InventoryReportRun.objects.create(scheduled=True, **fields)
    InventoryReportRun.objects.create(**fields)  # an on-demand run of the same period is fine
    with pytest.raises(IntegrityError):
        InventoryReportRun.objects.create(scheduled=True, **fields)
