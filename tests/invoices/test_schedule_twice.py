"""Two beat schedulers by mistake: the scheduled AP aging report still runs once per day."""

from datetime import date

import pytest

from apps.invoices import tasks
from apps.invoices.models import AgingReportRun
from tests.invoices.test_concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_the_scheduled_aging_report_fired_twice_at_once_makes_one_run():
    returned = []

    outcomes = race(
        lambda: returned.append(tasks.run_scheduled_aging_report.apply(kwargs={"day": "2026-05-31"}).get()),
        lambda: returned.append(tasks.run_scheduled_aging_report.apply(kwargs={"day": "2026-05-31"}).get()),
    )

    assert outcomes == ["ok", "ok"]
    runs = AgingReportRun.objects.filter(as_of=date(2026, 5, 31), scheduled=True)
    assert runs.count() == 1
    assert sorted(returned, key=lambda value: value is None) == [runs.get().pk, None]
