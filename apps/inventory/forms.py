"""Admin forms that feed services: ad-hoc counts, stock movements, report runs."""

from django import forms
from django.contrib.auth import get_user_model

from apps.inventory.models import CycleCount, InventoryReportRun, Item, LedgerEntry, Location
from apps.inventory.services.stock import MANUAL_KINDS


def _codes(value: str) -> list[str]:
    return [part.strip() for part in value.replace("\n", ",").split(",") if part.strip()]


class AdHocCountForm(forms.Form):
    kind = forms.ChoiceField(choices=[c for c in CycleCount.Kind.choices if c[0] != CycleCount.Kind.SCHEDULED])
    skus = forms.CharField(
        label="SKUs", required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="For a count by items."
    )
    locations = forms.CharField(
        label="Location codes",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For a count by bins.",
    )
    variance_days = forms.IntegerField(label="Variances in the last (days)", initial=90, min_value=1, max_value=730)
    counter = forms.ModelChoiceField(queryset=get_user_model().objects.none(), required=False)
    due_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, counters=None, **kwargs):
        super().__init__(*args, **kwargs)
        if counters is not None:
            self.fields["counter"].queryset = counters

    def clean(self):
        data = super().clean()
        skus, codes = _codes(data.get("skus", "")), _codes(data.get("locations", ""))
        items = dict(Item.objects.filter(sku__in=skus).values_list("sku", "pk"))
        missing = [sku for sku in skus if sku not in items]
        if missing:
            self.add_error("skus", f"Unknown SKU(s): {', '.join(missing)}")
        locations = dict(Location.objects.filter(code__in=codes).values_list("code", "pk"))
        unknown = [code for code in codes if code not in locations]
        if unknown:
            self.add_error("locations", f"Unknown location(s): {', '.join(unknown)}")
        data["item_ids"] = list(items.values())
        data["location_ids"] = list(locations.values())
        return data


class StockMovementForm(forms.ModelForm):
    """Post a receipt, shipment, return restock or manual correction."""

    kind = forms.ChoiceField(choices=[(k, LedgerEntry.Kind(k).label) for k in MANUAL_KINDS])

    class Meta:
        model = LedgerEntry
        fields = ["item", "location", "kind", "quantity", "reference", "reason"]
        help_texts = {
            "quantity": "Positive for receipts, shipments and restocks; signed (+/-) for a manual correction.",
            "reason": "Required for a manual correction.",
        }


class ReportRunForm(forms.ModelForm):
    class Meta:
        model = InventoryReportRun
        fields = ["kind", "file_format", "date_from", "date_to"]
        widgets = {
            "date_from": forms.DateInput(attrs={"type": "date"}),
            "date_to": forms.DateInput(attrs={"type": "date"}),
        }
