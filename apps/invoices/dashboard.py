"""Accounts payable on the dashboard: invoices to approve, match exceptions, AP aging, exceptions and cycle time."""

from apps.core.dashboard import Panel, WorkQueue, changelist_url, figures, money, number
from apps.invoices import selectors
from apps.invoices.models import Invoice

INVOICES = "admin:invoices_invoice_changelist"


def _to_approve(*, user, today) -> int:
    return selectors.invoices_awaiting_approval_by(user).count()


def _exceptions(*, user, today) -> int:
    return Invoice.objects.filter(status=Invoice.Status.EXCEPTION).count()


QUEUES = [
    WorkQueue(
        key="invoices.to_approve",
        label="Invoices to approve",
        permissions=("invoices.view_invoice", "invoices.approve_invoice"),
        count=_to_approve,
        url=lambda user: changelist_url(INVOICES, approval="me"),
    ),
    WorkQueue(
        key="invoices.exceptions",
        label="Match exceptions",
        permissions=("invoices.view_invoiceexception", "invoices.change_invoiceexception"),
        count=_exceptions,
        url=lambda user: changelist_url("admin:invoices_invoiceexception_changelist"),
    ),
]


def ap_aging_panel(*, period) -> dict:
    """Open balances by days past due as of today, per currency, and the overdue amount behind the list."""
    report = selectors.ap_aging(as_of=period.today)
    overdue = selectors.overdue_by_currency()
    buckets = list(selectors.BUCKET_LABELS.items())
    summary = [
        {
            "label": f"Overdue ({row['count']} invoice{'s' if row['count'] != 1 else ''})",
            "value": money(row["amount"], row["currency"]),
            "url": changelist_url(INVOICES, overdue="yes", currency=row["currency"]),
        }
        for row in overdue
    ]
    chart = {
        "type": "bar",
        "labels": [label for _, label in buckets],
        "y_title": "open balance",
        "datasets": [
            {"label": total["currency"], "data": [number(total[name]) for name, _ in buckets]}
            for total in report.totals
        ],
    }
    table = {
        "columns": ["currency", *(label for _, label in buckets), "total"],
        "rows": [
            [
                total["currency"],
                *(money(total[name], total["currency"]) for name, _ in buckets),
                money(total["total"], total["currency"]),
            ]
            for total in report.totals
        ],
    }
    return figures(
        summary=summary,
        chart=chart if report.totals else None,
        table=table,
        note=f"As of {period.today:%d %b %Y}; amounts are never added across currencies.",
    )


def exceptions_and_cycle_panel(*, period) -> dict:
    """The period's exception rate and average days from submission to approval and from approval to payment."""
    kpis = selectors.invoice_cycle_kpis(date_from=period.date_from, date_to=period.date_to)
    open_exceptions = Invoice.objects.filter(status=Invoice.Status.EXCEPTION).count()
    rate = kpis["exception_rate_percent"]
    summary = [
        {
            "label": f"Exception rate ({kpis['exceptions']} of {kpis['matched']} matched)",
            "value": "—" if rate is None else f"{rate} %",
        },
        {
            "label": "Open match exceptions",
            "value": str(open_exceptions),
            "url": changelist_url(INVOICES, status__exact=Invoice.Status.EXCEPTION),
        },
        {
            "label": f"Days submitted → approved ({kpis['approved']} invoices)",
            "value": "—" if kpis["days_to_approve"] is None else str(kpis["days_to_approve"]),
        },
        {
            "label": f"Days approved → paid ({kpis['paid']} invoices)",
            "value": "—" if kpis["days_to_pay"] is None else str(kpis["days_to_pay"]),
        },
    ]
    steps = [("submitted → approved", kpis["days_to_approve"]), ("approved → paid", kpis["days_to_pay"])]
    return figures(
        summary=summary,
        chart={
            "type": "bar",
            "labels": [label for label, _ in steps],
            "y_title": "average days",
            "datasets": [{"label": "average days", "data": [number(days) for _, days in steps]}],
        },
        table={"columns": ["step", "average days"], "rows": [[label, number(days)] for label, days in steps]},
    )


PANELS = [
    Panel(
        key="invoices.ap_aging",
        title="AP aging",
        permissions=("invoices.view_invoice",),
        compute=ap_aging_panel,
        order=10,
    ),
    Panel(
        key="invoices.exceptions_cycle",
        title="Invoice exceptions and cycle time",
        permissions=("invoices.view_invoice",),
        compute=exceptions_and_cycle_panel,
        order=20,
    ),
]
