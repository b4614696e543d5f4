"""
Admin forms that report a service's refusal on the form, not as a server error.

The admin saves through services. So that a refused save shows its reasons next to the fields, the
form (or the invoice's line formset) first runs the service inside a savepoint that is always rolled
back; the admin then runs it for real in ``save_model`` / ``save_related``.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import BaseInlineFormSet, construct_instance

from apps.core.exceptions import TransitionNotAllowed
from apps.invoices import services
from apps.invoices.models import Invoice

INVOICE_HEADER = ("number", "invoice_date", "due_date", "currency", "tax", "purchase_order", "notes")


def dry_run(call) -> None:
    """Run ``call`` and undo everything it wrote; its errors propagate."""
    savepoint = transaction.savepoint()
    try:
        call()
    finally:
        transaction.savepoint_rollback(savepoint)


def refusal_messages(exc) -> dict[str | None, list[str]]:
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        return {field: [str(m) for e in errors for m in e.messages] for field, errors in exc.error_dict.items()}
    if isinstance(exc, ValidationError):
        return {None: exc.messages}
    return {None: [str(exc)]}


class ServiceForm(forms.ModelForm):
    """A model form whose ``clean`` dry-runs ``call_service``; the admin sets ``request`` on the class."""

    request = None

    def call_service(self):  # pragma: no cover - each form says what it saves
        raise NotImplementedError

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            dry_run(self.call_service)
        except (ValidationError, TransitionNotAllowed, services.PermissionDenied) as exc:
            for field, messages in refusal_messages(exc).items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
        return cleaned

    def _post_clean(self):
        only_construct(self)


def only_construct(form) -> None:
    """Put the form's values on its instance without model validation: the service validates (once)."""
    opts = form._meta
    form.instance = construct_instance(form, form.instance, opts.fields, opts.exclude)


class InvoiceForm(forms.ModelForm):
    def _post_clean(self):
        only_construct(self)


class InvoiceLineFormSet(BaseInlineFormSet):
    """The invoice's lines; on save the header and lines go to the invoice service together."""

    request = None

    def lines(self) -> tuple[list[dict], bool]:
        rows, changed = [], False
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data:
                continue
            if data.get("DELETE"):
                changed = changed or bool(form.instance.pk)
                continue
            changed = changed or form.has_changed()
            rows.append(
                {
                    "po_line": data.get("po_line"),
                    "description": data.get("description") or "",
                    "quantity": data.get("quantity"),
                    "unit_price": data.get("unit_price"),
                }
            )
        return rows, changed

    def clean(self):
        super().clean()
        if any(self.errors) or not self.request:
            return
        try:
            dry_run(lambda: save_invoice(self.request, self.instance, self))
        except (ValidationError, TransitionNotAllowed, services.PermissionDenied) as exc:
            raise forms.ValidationError(
                [
                    f"{field.replace('_', ' ').capitalize()}: {m}" if field else m
                    for field, ms in refusal_messages(exc).items()
                    for m in ms
                ]
            ) from exc


def save_invoice(request, instance: Invoice, formset: InvoiceLineFormSet | None):
    """Create or change the invoice from the admin's form values through the service."""
    lines, lines_changed = formset.lines() if formset is not None else ([], False)
    if instance._state.adding:
        return services.invoice_create(
            actor=request.user,
            vendor_id=instance.vendor_id,
            number=instance.number,
            invoice_date=instance.invoice_date,
            due_date=instance.due_date,
            currency=instance.currency or "",
            purchase_order=instance.purchase_order_id,
            tax=instance.tax if instance.tax is not None else 0,
            notes=instance.notes,
            lines=lines,
        )
    stored = Invoice.objects.get(pk=instance.pk)
    changes = {}
    for name in INVOICE_HEADER:
        attribute = "purchase_order_id" if name == "purchase_order" else name
        if getattr(instance, attribute) != getattr(stored, attribute):
            changes[name] = getattr(instance, attribute)
    if lines_changed:
        changes["lines"] = lines
    if not changes:
        return stored
    return services.invoice_update(invoice_id=instance.pk, actor=request.user, **changes)
