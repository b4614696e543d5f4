"""Importing customer orders and refund cases: through the refunds services, all or nothing, idempotent."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from apps.core.models import ImportJob
from apps.core.services.imports import import_job_confirm, import_job_create, import_job_run
from apps.refunds.models import Order, RefundCase
from tests.refunds.factories import OrderFactory

TODAY = timezone.localdate()
DAY = (TODAY - timedelta(days=2)).isoformat()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def upload(actor, content, *, target, dry_run=False, name="file.csv"):
    job = import_job_create(
        actor=actor,
        target=target,
        uploaded_file=SimpleUploadedFile(name, content.encode("utf-8")),
        dry_run=dry_run,
    )
    import_job_run(job_id=job.pk)  # what the worker does with the queued job
    job.refresh_from_db()
    return job


def report(job) -> list[str]:
    """The error report's rows as "row,column,value,message" lines (unquoted)."""
    rows = list(csv.reader(io.StringIO(job.error_report.open("rb").read().decode())))
    assert rows[0] == ["row", "column", "value", "message"]
    return [",".join(row) for row in rows[1:]]


ORDERS = (
    "Order ID,Customer,Email,Date,Sales channel,Currency,Order total,Paid\n"
    f"SO-1001,Ann Lee,ann@example.com,{DAY},web,EUR,120.00,120.00\n"
    f"SO-1002,Bo Chen,bo@example.com,{DAY},web,EUR,80.50,80.50\n"
)


# --- Orders -------------------------------------------------------------------------------------


def test_orders_dry_run_then_confirm_writes_them_as_the_importing_user(associate):
    job = upload(associate, ORDERS, target="refunds.order", dry_run=True)
    assert job.status == ImportJob.Status.SUCCEEDED, job.message
    assert job.summary == {"new": 2, "updated": 0, "unchanged": 0, "errors": 0}
    assert not Order.objects.exists()

    import_job_confirm(job_id=job.pk, actor=associate)
    import_job_run(job_id=job.pk)

    first = Order.objects.get(reference="SO-1001")
    assert (first.customer_name, first.customer_email, first.currency) == ("Ann Lee", "ann@example.com", "EUR")
    assert first.total == first.amount_paid == Decimal("120.00")
    assert first.order_date.isoformat() == DAY and first.channel.code == "web"
    assert first.created_by == associate
    entry = LogEntry.objects.get_for_object(first).get(action=LogEntry.Action.CREATE)
    assert entry.actor == associate and entry.additional_data["path"] == "import"


def test_the_same_orders_twice_change_nothing_and_a_changed_row_updates(associate):
    upload(associate, ORDERS, target="refunds.order")
    again = upload(associate, ORDERS, target="refunds.order")
    assert again.summary == {"new": 0, "updated": 0, "unchanged": 2, "errors": 0}

    changed = upload(associate, ORDERS.replace("Bo Chen", "Bo Chen-Li"), target="refunds.order")
    assert changed.summary == {"new": 0, "updated": 1, "unchanged": 1, "errors": 0}
    assert Order.objects.get(reference="SO-1002").customer_name == "Bo Chen-Li"
    assert Order.objects.count() == 2


def test_an_order_cannot_be_imported_below_what_is_already_committed_to_refunds(associate, request_case):
    order = OrderFactory(reference="SO-7", total=Decimal("200.00"), amount_paid=Decimal("200.00"))
    request_case(order, "150.00")
    content = (
        "reference,customer_name,customer_email,order_date,channel,currency,total,amount_paid\n"
        f"SO-7,Jane Doe,{order.customer_email},{order.order_date},web,EUR,200.00,100.00\n"
    )
    job = upload(associate, content, target="refunds.order")
    assert job.status == ImportJob.Status.FAILED
    assert any(line.startswith("2,amount_paid,100.00,150.00 EUR is already refunded") for line in report(job))
    order.refresh_from_db()
    assert order.amount_paid == Decimal("200.00")


@pytest.mark.parametrize(
    "content, expected",
    [
        (
            "reference,customer_name,customer_email,order_date,channel,currency,total,colour\n"
            f"SO-1,A,a@example.com,{DAY},web,EUR,1.00,red\n",
            ",,,Unknown column(s): colour.",
        ),
        (
            "reference,customer_name,order_date,channel,currency,total\nSO-1,A,2026-01-01,web,EUR,1.00\n",
            ",,,Missing required column(s): customer_email.",
        ),
        (
            "reference,customer_name,customer_email,order_date,channel,currency,total\n"
            f"SO-1,A,a@example.com,{DAY},web,EUR,lots\n",
            "2,total,lots,'lots' is not an amount.",
        ),
        (
            "reference,customer_name,customer_email,order_date,channel,currency,total\n"
            "SO-1,A,a@example.com,31/12/2025,web,EUR,1.00\n",
            "2,order_date,31/12/2025,'31/12/2025' is not a date: write it as YYYY-MM-DD.",
        ),
        (
            "reference,customer_name,customer_email,order_date,channel,currency,total\n"
            f"SO-1,A,not-an-address,{DAY},web,EUR,1.00\n",
            "2,customer_email,not-an-address,'not-an-address' is not an e-mail address.",
        ),
        (
            "reference,customer_name,customer_email,order_date,channel,currency,total\n"
            f"SO-1,A,a@example.com,{DAY},mail-order,EUR,1.00\n",
            "2,channel,mail-order,There is no sales channel with code 'mail-order'.",
        ),
        (
            "reference,customer_name,customer_email,order_date,channel,currency,total\n"
            f"SO-1,A,a@example.com,{DAY},web,EUR,1.00\n"
            f"so-1,B,b@example.com,{DAY},web,EUR,2.00\n",
            "3,reference,so-1,Row 2 already has this reference: give each record once per file.",
        ),
    ],
    ids=["unknown column", "missing column", "wrong type", "bad date", "bad e-mail", "unknown channel", "twice"],
)
def test_bad_order_files_get_a_clear_message_and_nothing_is_written(associate, content, expected):
    job = upload(associate, content, target="refunds.order")
    assert job.status == ImportJob.Status.FAILED
    lines = report(job)
    assert any(line.startswith(expected) for line in lines), lines
    assert not Order.objects.exists()


# --- Refund cases -------------------------------------------------------------------------------


def cases_file(*rows):
    header = "Order Number,Ticket,Case type,Amount,Reason code,Notes\n"
    return header + "".join(",".join(row) + "\n" for row in rows)


def test_refund_cases_are_requested_through_the_service_once(associate, order):
    content = cases_file([order.reference, "T-1", "refund", "100.00", "damaged", "first"])
    job = upload(associate, content, target="refunds.refundcase")
    assert job.status == ImportJob.Status.SUCCEEDED, job.message

    case = RefundCase.objects.get(order=order, external_reference="T-1")
    assert case.status == RefundCase.Status.REQUESTED and case.requested_by == associate
    assert case.reference.startswith("RF-") and case.reason.code == "damaged" and case.notes == "first"
    order.refresh_from_db()
    assert order.committed_amount == Decimal("100.00")  # reserved on the order, as the service does

    again = upload(associate, content, target="refunds.refundcase")
    assert again.summary == {"new": 0, "updated": 0, "unchanged": 1, "errors": 0}
    order.refresh_from_db()
    assert RefundCase.objects.count() == 1 and order.committed_amount == Decimal("100.00")


def test_a_case_above_what_remains_refundable_fails_the_whole_file(associate, order, request_case):
    request_case(order, "900.00")  # 1000.00 paid: 100.00 remains
    content = cases_file(
        [order.reference, "T-1", "refund", "50.00", "damaged", ""],
        [order.reference, "T-2", "refund", "60.00", "damaged", ""],  # 50 + 60 > 100
    )
    job = upload(associate, content, target="refunds.refundcase")

    assert job.status == ImportJob.Status.FAILED
    lines = report(job)
    assert any(line.startswith("3,amount,60.00,60.00 EUR exceeds the refundable amount remaining") for line in lines)
    assert not RefundCase.objects.filter(external_reference__in=["T-1", "T-2"]).exists()
    order.refresh_from_db()
    assert order.committed_amount == Decimal("900.00")


def test_an_imported_case_changes_only_through_its_transitions(associate, order):
    upload(
        associate, cases_file([order.reference, "T-1", "refund", "100.00", "damaged", ""]), target="refunds.refundcase"
    )
    job = upload(
        associate, cases_file([order.reference, "T-1", "refund", "120.00", "damaged", ""]), target="refunds.refundcase"
    )
    assert job.status == ImportJob.Status.FAILED
    assert any("2,amount,120.00,Case RF-" in line and "transitions" in line for line in report(job)), report(job)
    assert RefundCase.objects.get(external_reference="T-1").amount == Decimal("100.00")


def test_cases_name_known_orders_and_no_returns(associate, order):
    content = cases_file(
        ["SO-UNKNOWN", "T-1", "refund", "10.00", "damaged", ""],
        [order.reference, "T-2", "return", "10.00", "damaged", ""],
        [order.reference, "T-3", "store credit", "10.00", "retired", ""],
    )
    job = upload(associate, content, target="refunds.refundcase")
    lines = report(job)
    assert "2,order,SO-UNKNOWN,There is no order with reference 'SO-UNKNOWN'." in lines
    assert "3,type,return,Returns are requested with their lines in the admin or the API." in lines
    assert "4,reason,retired,'retired' is not an active reason code." in lines
    assert not RefundCase.objects.exists()


# --- Who may import -----------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["refunds.order", "refunds.refundcase"])
def test_auditors_and_approvers_never_import_refund_records(make_user, setup, target):
    for role in ("auditor", "approver"):
        with pytest.raises(PermissionDenied):
            import_job_create(
                actor=make_user(role), target=target, uploaded_file=SimpleUploadedFile("x.csv", b"reference\nA\n")
            )
    assert not ImportJob.objects.exists()


def test_the_order_and_case_lists_have_an_import_button_for_associates_only(client, associate, make_user):
    client.force_login(associate)
    for name in ("admin:refunds_order_changelist", "admin:refunds_refundcase_changelist"):
        page = client.get(reverse(name)).content.decode()
        assert "import_link" in page and "target=refunds." in page
    client.force_login(make_user("auditor"))
    assert "import_link" not in client.get(reverse("admin:refunds_order_changelist")).content.decode()


def test_the_returns_list_offers_no_import_because_returns_need_their_lines(client, associate):
    client.force_login(associate)
    page = client.get(reverse("admin:refunds_return_changelist")).content.decode()
    assert "import_link" not in page
    assert "import_link" in client.get(reverse("admin:refunds_refundcase_changelist")).content.decode()
