"""Two beat schedulers by mistake: the monthly refund reports still run once per month."""

from datetime import date

import pytest

from apps.refunds import tasks
from apps.refunds.models import ReportRun
from tests.invoices.test_concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_the_monthly_reports_fired_twice_at_once_make_one_run_each():
    created = []

    outcomes = race(
        lambda: created.append(tasks.schedule_monthly_reports.apply(kwargs={"day": "2026-07-01"}).get()),
        lambda: created.append(tasks.schedule_monthly_reports.apply(kwargs={"day": "2026-07-01"}).get()),
    )

    assert outcomes == ["ok", "ok"]
    expected = len(ReportRun.Kind.values) * len(ReportRun.Format.values)
    runs = ReportRun.objects.filter(as_of=date(2026, 6, 30), scheduled=True)
    assert runs.count() == expected
    assert sorted(runs.values_list("kind", "format")) == sorted(
        (kind, fmt) for kind in ReportRun.Kind.values for fmt in ReportRun.Format.values
    )
    assert sum(created) == expected  # each run created by exactly one of the two
