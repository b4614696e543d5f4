"""Accounts payable in the reports center: the AP aging report runs (``AgingReportRun``)."""

from django import forms
from django.utils import timezone

from apps.core.money import CURRENCY_CHOICES
from apps.core.reports import ReportKind, RunSummary
from apps.invoices.models import AgingReportRun
from apps.invoices.reports import aging_run_request

STATUS = {AgingReportRun.Status.DONE: "succeeded"}


class AgingForm(forms.Form):
    """AP aging as of a day, optionally for one vendor (by code) and one currency."""

    as_of = forms.DateField(initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"}))
    vendor = forms.CharField(required=False, max_length=32, help_text="Vendor code; empty for every vendor")
    currency = forms.ChoiceField(required=False, choices=[("", "every currency"), *CURRENCY_CHOICES])

    def clean_vendor(self):
        from apps.vendors.models import Vendor

        code = self.cleaned_data["vendor"].strip()
        if not code:
            return None
        vendor = Vendor.objects.filter(code__iexact=code).first()
        if vendor is None:
            raise forms.ValidationError(f"No vendor has the code {code!r}.")
        return vendor


def summary(run: AgingReportRun) -> RunSummary:
    parameters = [f"as of {run.as_of:%Y-%m-%d}"]
    if run.vendor_id:
        parameters.append(f"vendor {run.vendor.code}")
    if run.currency:
        parameters.append(f"currency {run.currency}")
    return RunSummary(
        pk=run.pk,
        status=STATUS.get(run.status, run.status),
        requested_by=run.created_by.get_username() if run.created_by_id else "",
        requested_at=run.created_at,
        finished_at=run.finished_at,
        row_count=run.row_count,
        parameters=", ".join(parameters),
        formats=tuple(fmt for fmt in ("csv", "xlsx") if getattr(run, f"{fmt}_file")),
        message=run.error.strip().splitlines()[-1] if run.error.strip() else "",
    )


KINDS = [
    ReportKind(
        key="ap_aging",
        label="AP aging",
        form_class=AgingForm,
        view_permission="invoices.view_agingreportrun",
        run_permissions=("invoices.add_agingreportrun",),
        request=lambda *, actor, as_of, vendor=None, currency="": aging_run_request(
            actor=actor, as_of=as_of, vendor=vendor, currency=currency or ""
        ),
        runs=lambda: AgingReportRun.objects.select_related("created_by", "vendor"),
        summary=summary,
        open_file=lambda run, fmt: {"csv": run.csv_file, "xlsx": run.xlsx_file}.get(fmt),
        schedule_names=("Weekly AP aging report",),
        description="Open balances by vendor and currency in the buckets current, 1-30, 31-60, 61-90 and 90+.",
    )
]
