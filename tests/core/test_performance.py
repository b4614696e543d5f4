"""Query-count guards for lists over big tables (the timings themselves are in bench/bench_scale.py)."""

import pytest
from auditlog.models import LogEntry
from django.contrib import admin
from django.db import connection
from django.db.models import Max, Min
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core import audit
from apps.core.models import AuditEvent
from apps.core.paginator import COUNT_CAP, CappedCount, capped_count, estimated_table_rows, with_estimated_dates

PAGE_QUERY_LIMIT = 8

pytestmark = pytest.mark.django_db


def _queries(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return [query["sql"] for query in ctx.captured_queries]


def assert_changelist_scales(client, url: str, model) -> list[str]:
    """The list costs the same queries at 20 and 100 rows a page, at most PAGE_QUERY_LIMIT in all (the session,
    the user with their permissions and the header's count included), with no full COUNT and no DISTINCT over
    the model's table. Returns the SQL."""
    model_admin = admin.site.get_model_admin(model)
    client.get(url)  # content types cached, as in a running server
    per_size = {}
    saved = model_admin.list_per_page
    try:
        for size in (20, 100):
            model_admin.list_per_page = size
            per_size[size] = _queries(client, url)
    finally:
        model_admin.list_per_page = saved
    assert len(per_size[20]) == len(per_size[100]), per_size
    assert len(per_size[100]) <= PAGE_QUERY_LIMIT, per_size[100]
    table = model._meta.db_table
    sqls = per_size[100]
    assert not [s for s in sqls if "COUNT(" in s.upper() and f'"{table}"' in s and "LIMIT" not in s.upper()]
    assert not [s for s in sqls if "DISTINCT" in s.upper() and f'FROM "{table}"' in s]
    return sqls


def test_audit_event_list_scales_without_distinct(client, make_user):
    for n in range(30):
        audit.record(action=f"perf.action{n % 3}", data={"n": n})
    client.force_login(make_user("auditor"))

    sqls = assert_changelist_scales(client, "/admin/core/auditevent/", AuditEvent)

    page = client.get("/admin/core/auditevent/").content.decode()
    assert "perf.action2" in page  # the action filter lists the values found by walking the index
    assert any("WITH RECURSIVE" in s for s in sqls)


def test_record_change_list_scales_and_filters_by_model_without_distinct(client, make_user):
    for n in range(25):
        make_user(None, username=f"perf-user-{n}")  # users are on the audit trail: one change each
    client.force_login(make_user("auditor"))

    assert_changelist_scales(client, "/admin/auditlog/logentry/", LogEntry)

    page = client.get("/admin/auditlog/logentry/").content.decode()
    assert "content_type=" in page


def test_the_date_drill_down_reads_the_first_and_last_date_once_per_page(client, make_user):
    for n in range(3):
        audit.record(action="perf.dates", data={"n": n})
    client.force_login(make_user("auditor"))

    sqls = _queries(client, "/admin/core/auditevent/")

    assert len([s for s in sqls if "MIN(" in s.upper() and '"core_auditevent"' in s]) == 1
    events = with_estimated_dates(AuditEvent.objects.all())
    with CaptureQueriesContext(connection) as ctx:
        events.aggregate(first=Min("timestamp"), last=Max("timestamp"))
        events.datetimes("timestamp", "month")
        events.aggregate(first=Min("timestamp"), last=Max("id"))  # other aggregates are not taken for it
    assert len(ctx.captured_queries) == 2


def test_capped_count_stops_at_the_cap():
    for n in range(4):
        audit.record(action="perf.count", data={"n": n})
    events = AuditEvent.objects.filter(action="perf.count")

    assert capped_count(events, cap=10) == 4
    capped = capped_count(events, cap=3)
    assert isinstance(capped, CappedCount) and capped == 4 and str(capped) == f"{COUNT_CAP:,}+"


def test_date_drill_down_lists_periods_from_min_and_max_only():
    audit.record(action="perf.first")
    first = AuditEvent.objects.get(action="perf.first")
    events = with_estimated_dates(AuditEvent.objects.all())

    with CaptureQueriesContext(connection) as ctx:
        years = events.datetimes("timestamp", "year")
    assert [year.year for year in years] == [timezone.localtime(first.timestamp).year]
    assert len(ctx.captured_queries) == 1 and "DISTINCT" not in ctx.captured_queries[0]["sql"].upper()
    assert type(events.filter(action="perf.first")) is type(events)  # kept through filters


@pytest.mark.postgres
def test_unfiltered_tables_are_counted_from_planner_statistics():
    for n in range(5):
        audit.record(action="perf.estimate", data={"n": n})
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE core_auditevent")

    assert estimated_table_rows(AuditEvent) == AuditEvent.objects.count()


def test_audit_event_api_pages_cost_the_same_queries(api_as):
    client = api_as("auditor")
    for n in range(30):
        audit.record(action="perf.api", data={"n": n})
    client.get("/api/v1/audit-events/?page_size=5")

    with CaptureQueriesContext(connection) as small:
        first = client.get("/api/v1/audit-events/?page_size=5").json()
    with CaptureQueriesContext(connection) as large:
        client.get("/api/v1/audit-events/?page_size=25")

    assert len(small.captured_queries) == len(large.captured_queries)
    assert "cursor=" in first["next"]
