"""The dashboard on the admin index: registry, period, role differences, query bound, cache and its refresh."""

import json
import re

import pytest
from django.core.cache import cache
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from apps.core import dashboard, tasks
from apps.core.dashboard import PERIODS, Period, parse_period

APPROVAL_QUEUES = {"invoices.to_approve", "refunds.to_approve", "inventory.to_approve"}
ALL_PANELS = {
    "invoices.ap_aging",
    "invoices.exceptions_cycle",
    "refunds.backlog",
    "inventory.accuracy_shrinkage",
    "vendors.scorecards",
    "sops.compliance",
}


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def _dashboard(client, user, query=""):
    client.force_login(user)
    response = client.get(f"/admin/{query}")
    assert response.status_code == 200
    return response


def _queue_keys(response):
    return {queue["key"] for queue in response.context["dashboard"]["work"]}


def _panel_keys(response):
    return {panel["key"] for panel in response.context["dashboard"]["panels"]}


def test_every_domain_app_plugs_in_its_queues_and_panels():
    assert {panel.key for panel in dashboard.panels()} == ALL_PANELS
    assert APPROVAL_QUEUES | {"core.unread_notifications", "refunds.to_process", "sops.to_acknowledge"} <= {
        queue.key for queue in dashboard.queues()
    }


@pytest.mark.parametrize(
    ("value", "days"), [("30", 30), ("90", 90), ("365", 365), ("7", 30), ("abc", 30), (None, 30), ("", 30)]
)
def test_the_period_is_one_of_three_and_anything_else_is_the_default(value, days):
    assert parse_period(value) == days


def test_a_period_covers_its_days_up_to_today():
    period = Period(days=30, today=timezone.localdate().replace(year=2026, month=11, day=23))
    assert (period.date_from.isoformat(), period.date_to.isoformat()) == ("2026-10-25", "2026-11-23")


def test_a_bad_period_shows_the_default_period_and_no_error_page(client, make_user):
    response = _dashboard(client, make_user("approver"), "?period=13")
    assert response.context["dashboard"]["period"] == 30
    assert b'data-period="30" aria-current="true"' in response.content


def test_the_chosen_period_is_used(client, make_user):
    response = _dashboard(client, make_user("approver"), "?period=365")
    assert response.context["dashboard"]["period"] == 365


def test_auditors_see_kpi_panels_and_no_work_queues(client, make_user):
    response = _dashboard(client, make_user("auditor"))
    assert _queue_keys(response) == set()
    assert _panel_keys(response) == ALL_PANELS
    assert b'id="my-work"' not in response.content


def test_associates_see_their_work_but_no_approval_queues(client, make_user):
    keys = _queue_keys(_dashboard(client, make_user("associate")))
    assert not keys & APPROVAL_QUEUES
    assert {"refunds.to_process", "inventory.assigned", "invoices.exceptions", "sops.to_acknowledge"} <= keys


def test_approvers_see_approval_queues(client, make_user):
    keys = _queue_keys(_dashboard(client, make_user("approver")))
    assert keys >= APPROVAL_QUEUES
    assert "refunds.to_process" not in keys


def test_panels_need_the_view_permission_of_the_model_behind_them(client, make_user):
    sop_owner = _panel_keys(_dashboard(client, make_user("sop_owner")))
    assert "sops.compliance" in sop_owner
    assert not sop_owner & {"invoices.ap_aging", "refunds.backlog", "inventory.accuracy_shrinkage"}
    vendor_manager = _panel_keys(_dashboard(client, make_user("vendor_manager")))
    assert {"vendors.scorecards", "invoices.ap_aging"} <= vendor_manager
    assert "refunds.backlog" not in vendor_manager


def test_staff_without_a_role_see_neither_queues_nor_panels(client, make_user):
    response = _dashboard(client, make_user(None))
    assert _queue_keys(response) == set() and _panel_keys(response) == set()


def test_the_app_list_is_still_on_the_index(client, make_user):
    response = _dashboard(client, make_user("approver"))
    assert response.context["app_list"]
    assert b'id="apps-title"' in response.content and b"/admin/invoices/invoice/" in response.content


def test_charts_come_from_static_files_with_their_data_on_the_page(client, make_user):
    response = _dashboard(client, make_user("auditor"))
    content = response.content.decode()
    assert "/static/vendor/chartjs/chart.umd.min.js" in content and "/static/core/dashboard.js" in content
    assert "cdn" not in content.lower()
    charts = json.loads(re.search(r'<script id="dashboard-charts"[^>]*>(.*?)</script>', content, re.S).group(1))
    assert isinstance(charts, dict)


def test_the_reports_center_is_linked_when_it_exists(client, make_user):
    from django.urls import NoReverseMatch, reverse

    content = _dashboard(client, make_user("auditor")).content.decode()
    try:
        url = reverse("admin:reports_center")
    except NoReverseMatch:
        assert "Reports center" not in content
    else:
        assert f'href="{url}"' in content


def test_the_dashboard_answers_with_a_bounded_number_of_queries(client, make_user, django_assert_max_num_queries):
    client.force_login(make_user(None, is_superuser=True))  # every queue and every panel
    with django_assert_max_num_queries(50):
        client.get("/admin/")  # computes and caches every panel: a few queries each, whatever the data size
    with django_assert_max_num_queries(20):  # session, user, one COUNT per work queue, recent actions
        response = client.get("/admin/")
    assert response.status_code == 200


def test_panel_figures_are_served_from_the_cache_until_refreshed(client, make_user):
    from tests.vendors.factories import VendorFactory

    auditor = make_user("auditor")
    VendorFactory(code="V-LEAD", latest_score="95.00", latest_standing="excellent")
    first = _dashboard(client, auditor)
    panel = next(p for p in first.context["dashboard"]["panels"] if p["key"] == "vendors.scorecards")
    assert panel["summary"][0]["value"] == "1"

    VendorFactory(code="V-NEXT", latest_score="80.00", latest_standing="good")
    cached = next(
        p for p in _dashboard(client, auditor).context["dashboard"]["panels"] if p["key"] == "vendors.scorecards"
    )
    assert cached["summary"][0]["value"] == "1"

    assert tasks.refresh_dashboard() == len(ALL_PANELS) * len(PERIODS)
    fresh = next(
        p for p in _dashboard(client, auditor).context["dashboard"]["panels"] if p["key"] == "vendors.scorecards"
    )
    assert fresh["summary"][0]["value"] == "2"


def test_the_refresh_has_a_default_beat_schedule(db):
    task = PeriodicTask.objects.get(name="Dashboard figures refresh")
    assert task.task == "apps.core.tasks.refresh_dashboard"
    assert task.crontab.minute == "*/15" and task.enabled


# --- The refresh task in a real worker ----------------------------------------------------------


@pytest.fixture(scope="module")
def celery_worker_thread(django_db_setup, django_db_blocker):
    """One worker for the module, consuming this test run's own queue (see settings)."""
    from celery.contrib.testing.worker import start_worker

    from opsportal.celery import app

    with (
        django_db_blocker.unblock(),
        start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20, loglevel="WARNING"),
    ):
        yield


@pytest.mark.worker
def test_the_worker_refreshes_the_cached_panel_figures(celery_worker_thread, transactional_db, make_user):
    from tests.vendors.factories import VendorFactory

    VendorFactory(code="V-TOP", latest_score="97.00", latest_standing="excellent")
    today = timezone.localdate()

    stored = tasks.refresh_dashboard.delay(today.isoformat()).get(timeout=30)

    assert stored == len(ALL_PANELS) * len(PERIODS)
    panel = next(p for p in dashboard.panels() if p.key == "vendors.scorecards")
    for days in PERIODS:
        cached = cache.get(dashboard._cache_key(panel, Period(days=days, today=today)))
        assert cached["summary"][0]["value"] == "1"
        assert cached["chart"]["labels"] == ["V-TOP (leader)"]
