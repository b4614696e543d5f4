"""SOPs on the dashboard: versions to acknowledge or review, compliance and reviews overdue."""

from apps.core.dashboard import Panel, WorkQueue, changelist_url, figures
from apps.sops import selectors
from apps.sops.models import SOPDocument, SOPVersion

VERSIONS = "admin:sops_sopversion_changelist"


def _to_acknowledge(*, user, today) -> int:
    return selectors.sop_versions_to_acknowledge(user=user).count()


def _to_review(*, user, today) -> int:
    return SOPVersion.objects.filter(status=SOPVersion.Status.IN_REVIEW).count()


QUEUES = [
    WorkQueue(
        key="sops.to_acknowledge",
        label="SOPs to acknowledge",
        permissions=("sops.view_sopversion", "sops.add_acknowledgement"),
        count=_to_acknowledge,
        url=lambda user: changelist_url(VERSIONS, acknowledge="me"),
    ),
    WorkQueue(
        key="sops.to_review",
        label="SOP versions to review",
        permissions=("sops.view_sopversion", "sops.publish_sop"),
        count=_to_review,
        url=lambda user: changelist_url(VERSIONS, status=SOPVersion.Status.IN_REVIEW),
    ),
]


def compliance_panel(*, period) -> dict:
    """Share of each published SOP's audience that acknowledged the version in force, and reviews overdue."""
    rows = [row for row in selectors.sop_compliance_report() if row.compliance.percent is not None]
    audience = sum(row.compliance.audience_count for row in rows)
    acknowledged = sum(row.compliance.acknowledged_count for row in rows)
    overdue = SOPDocument.objects.filter(next_review_date__lt=period.today).count()
    overall = acknowledged * 100 // audience if audience else None
    summary = [
        {
            "label": f"Compliance ({acknowledged} of {audience} acknowledgements)",
            "value": "—" if overall is None else f"{overall} %",
            "url": changelist_url("admin:sops_sopdocument_compliance"),
        },
        {
            "label": "Reviews overdue",
            "value": str(overdue),
            "url": changelist_url("admin:sops_sopdocument_changelist", review="overdue"),
        },
    ]
    return figures(
        summary=summary,
        chart={
            "type": "bar",
            "labels": [row.document.code for row in rows],
            "y_title": "acknowledged %",
            "y_max": 100,
            "datasets": [{"label": "acknowledged %", "data": [str(row.compliance.percent) for row in rows]}],
        }
        if rows
        else None,
        table={
            "columns": ["SOP", "acknowledged", "audience", "%"],
            "rows": [
                [
                    row.document.code,
                    str(row.compliance.acknowledged_count),
                    str(row.compliance.audience_count),
                    f"{row.compliance.percent} %",
                ]
                for row in rows
            ],
        },
    )


PANELS = [
    Panel(
        key="sops.compliance",
        title="SOP compliance",
        permissions=("sops.view_sopdocument", "sops.view_acknowledgement"),
        compute=compliance_panel,
        order=60,
    ),
]
