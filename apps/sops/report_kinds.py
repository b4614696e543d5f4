"""SOPs in the reports center: acknowledgement compliance per published SOP."""

from django import forms

from apps.core.reports import generic_kind
from apps.sops.models import Area
from apps.sops.selectors import sop_compliance_report

COMPLIANCE_HEADERS = [
    "code",
    "title",
    "area",
    "version in force",
    "audience",
    "acknowledged",
    "acknowledged %",
    "missing",
]


class ComplianceForm(forms.Form):
    """Compliance of every published SOP, or of one area's."""

    area = forms.ChoiceField(required=False, choices=[("", "every area"), *Area.choices])


def compliance_rows(parameters: dict):
    rows = []
    for row in sop_compliance_report(area=parameters.get("area") or None):
        document, compliance = row.document, row.compliance
        rows.append(
            [
                document.code,
                document.title,
                document.get_area_display(),
                document.current_version.number if document.current_version_id else None,
                compliance.audience_count,
                compliance.acknowledged_count,
                compliance.percent,
                " ".join(user.get_username() for user in row.missing_users),
            ]
        )
    return COMPLIANCE_HEADERS, rows


KINDS = [
    generic_kind(
        key="sop_compliance",
        label="SOP compliance",
        form_class=ComplianceForm,
        view_permission="sops.view_acknowledgement",
        build=compliance_rows,
        description="Per published SOP: how much of its audience acknowledged the version in force, and who not.",
    )
]
