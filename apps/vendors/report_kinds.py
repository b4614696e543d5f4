"""Vendors in the reports center: the scorecard ranking as a stored report run."""

from django import forms

from apps.core.reports import generic_kind
from apps.vendors.reports import HEADERS, scorecard_rows


class ScorecardsForm(forms.Form):
    """The ranking takes no parameters: every vendor by its latest finalized review."""


KINDS = [
    generic_kind(
        key="vendor_scorecards",
        label="Vendor scorecards",
        form_class=ScorecardsForm,
        view_permission="vendors.view_vendor",
        build=lambda parameters: (HEADERS, scorecard_rows()),
        description="Every vendor ranked by its latest finalized review, with standing.",
    )
]
