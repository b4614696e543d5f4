"""Refunds in the reports center: aging of open cases and the chargeback recovery summary (``ReportRun``)."""

from django import forms
from django.utils import timezone

from apps.core.reports import ReportKind, RunSummary
from apps.refunds.models import RefundCase, ReportRun
from apps.refunds.services import report_run_request

STATUS = {ReportRun.Status.DONE: "succeeded"}
SCHEDULE = "Monthly refund aging and chargeback recovery"


class RecoveryForm(forms.Form):
    """The chargeback recovery summary of the month ending on a day, as CSV or XLSX."""

    as_of = forms.DateField(initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"}))
    format = forms.ChoiceField(choices=ReportRun.Format.choices, initial=ReportRun.Format.CSV)


class AgingForm(RecoveryForm):
    """Aging of open cases as of a day, for one case type or all, as CSV or XLSX."""

    case_type = forms.ChoiceField(required=False, choices=[("", "every type"), *RefundCase.Type.choices])


def summary(run: ReportRun) -> RunSummary:
    parameters = [f"as of {run.as_of:%Y-%m-%d}", run.get_format_display()]
    if run.case_type:
        parameters.append(run.get_case_type_display())
    return RunSummary(
        pk=run.pk,
        status=STATUS.get(run.status, run.status),
        requested_by=run.created_by.get_username() if run.created_by_id else "",
        requested_at=run.created_at,
        finished_at=run.finished_at,
        row_count=run.row_count,
        parameters=", ".join(parameters),
        formats=(run.format,) if run.file else (),
        message=run.error,
    )


def refunds_kind(*, key: str, kind: str, label: str, form_class, description: str) -> ReportKind:
    return ReportKind(
        key=key,
        label=label,
        form_class=form_class,
        view_permission="refunds.view_reportrun",
        run_permissions=("refunds.add_reportrun",),
        request=lambda *, actor, as_of, format, case_type="": report_run_request(
            actor=actor, kind=kind, as_of=as_of, format=format, case_type=case_type or ""
        ),
        runs=lambda: ReportRun.objects.filter(kind=kind).select_related("created_by"),
        summary=summary,
        open_file=lambda run, fmt: run.file if fmt == run.format else None,
        schedule_names=(SCHEDULE,),
        description=description,
    )


KEYS = {ReportRun.Kind.AGING: "refund_aging", ReportRun.Kind.RECOVERY: "chargeback_recovery"}

KINDS = [
    refunds_kind(
        key=KEYS[ReportRun.Kind.AGING],
        kind=ReportRun.Kind.AGING,
        label="Refund aging",
        form_class=AgingForm,
        description="Open refund, credit, return and chargeback cases by days open, per type and currency.",
    ),
    refunds_kind(
        key=KEYS[ReportRun.Kind.RECOVERY],
        kind=ReportRun.Kind.RECOVERY,
        label="Chargeback recovery",
        form_class=RecoveryForm,
        description="Chargebacks of the month: won, lost, accepted and disputed, amounts recovered and fees.",
    ),
]


def report_kind_key(run: ReportRun) -> str:
    """The reports center's key for a run (its downloads go through the reports center)."""
    return KEYS[run.kind]
