"""Refunds on the dashboard: cases to approve or process, backlog by age, SLA attainment, chargeback win rate."""

from apps.core.dashboard import Panel, WorkQueue, changelist_url, figures, money
from apps.refunds import selectors
from apps.refunds.filters import over_sla_condition
from apps.refunds.models import RefundCase

CASES = "admin:refunds_refundcase_changelist"


def _with_status(status):
    def count(*, user, today) -> int:
        return RefundCase.objects.filter(status=status).count()

    return count


QUEUES = [
    WorkQueue(
        key="refunds.to_approve",
        label="Refund cases to approve",
        permissions=("refunds.view_refundcase", "refunds.approve_refund"),
        count=_with_status(RefundCase.Status.REQUESTED),
        url=lambda user: changelist_url(CASES, status__exact=RefundCase.Status.REQUESTED),
    ),
    WorkQueue(
        key="refunds.to_process",
        label="Refund cases to process",
        permissions=("refunds.view_refundcase", "refunds.process_refund"),
        count=_with_status(RefundCase.Status.APPROVED),
        url=lambda user: changelist_url(CASES, status__exact=RefundCase.Status.APPROVED),
    ),
]


def backlog_panel(*, period) -> dict:
    """Open cases by days past due (counts link into the list's age filter), SLA attainment and chargeback wins."""
    rows = selectors.open_backlog_by_age(today=period.today)
    buckets = list(selectors.BUCKET_LABELS.items())
    counts = {name: sum(row[f"{name}_count"] for row in rows) for name, _ in buckets}
    sla = selectors.sla_attainment(date_from=period.date_from, date_to=period.date_to)
    over_sla = RefundCase.objects.filter(over_sla_condition(period.today)).count()
    recovery = selectors.chargeback_recovery(date_from=period.date_from, date_to=period.date_to)
    won, lost = sum(row["won"] for row in recovery), sum(row["lost"] for row in recovery)
    win_rate = f"{won * 100 / (won + lost):.1f} %" if won + lost else "—"
    summary = [
        {"label": f"Open: {label}", "value": str(counts[name]), "url": changelist_url(CASES, age=name)}
        for name, label in buckets
    ]
    summary += [
        {
            "label": "Over SLA (open or processed late)",
            "value": str(over_sla),
            "url": changelist_url(CASES, sla="over"),
        },
        {
            "label": f"SLA attainment ({sla['within']} of {sla['total']} processed on time)",
            "value": "—" if sla["percent"] is None else f"{sla['percent']} %",
        },
        {"label": f"Chargeback win rate ({won} won, {lost} lost)", "value": win_rate},
    ]
    chart = {
        "type": "bar",
        "labels": [label for _, label in buckets],
        "y_title": "open cases",
        "datasets": [{"label": "open cases", "data": [counts[name] for name, _ in buckets]}],
    }
    table = {
        "columns": ["currency", *(label for _, label in buckets), "total"],
        "rows": [
            [
                row["currency"],
                *(f"{row[f'{name}_count']} · {money(row[name], row['currency'])}" for name, _ in buckets),
                f"{row['count']} · {money(row['total'], row['currency'])}",
            ]
            for row in rows
        ],
    }
    return figures(summary=summary, chart=chart if rows else None, table=table)


PANELS = [
    Panel(
        key="refunds.backlog",
        title="Refund and chargeback backlog",
        permissions=("refunds.view_refundcase",),
        compute=backlog_panel,
        order=30,
    ),
]
