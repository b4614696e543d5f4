from datetime import date

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max, Min
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from apps.core.admin import EvidencePackActionMixin, ImportJobLinkMixin, LargeTableAdminMixin, PortalExportMixin
from apps.core.admin_actions import transition_action
from apps.core.money import CURRENCIES
from apps.core.paginator import EstimatedCountPaginator
from apps.invoices import reports, selectors, services
from apps.invoices.admin_forms import InvoiceForm, InvoiceLineFormSet, ServiceForm, save_invoice
from apps.invoices.filters import overdue, with_exception_reason
from apps.invoices.models import (
    AgingReportRun,
    CreditMemo,
    DisputeContact,
    ExceptionReason,
    GoodsReceipt,
    Invoice,
    InvoiceException,
    InvoiceLine,
    Payment,
    PurchaseOrder,
    PurchaseOrderLine,
    VendorMatchingPolicy,
)
from apps.sops.admin_mixins import GovernedBySOPAdminMixin
from apps.vendors.models import Vendor

S = Invoice.Status

# --- Big tables ---------------------------------------------------------------------------------


class OverdueFilter(admin.SimpleListFilter):
    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Overdue"), ("no", "Not overdue")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return overdue(queryset, self.value() == "yes")
        return queryset


class ExceptionReasonFilter(admin.SimpleListFilter):
    title = "exception reason"
    parameter_name = "exception_reason"

    def lookups(self, request, model_admin):
        return ExceptionReason.choices

    def queryset(self, request, queryset):
        return with_exception_reason(queryset, self.value()) if self.value() else queryset


class CurrencyFilter(admin.SimpleListFilter):
    """The currencies in use, without a DISTINCT over the invoices: vendors' and orders' currencies are few."""

    title = "currency"
    parameter_name = "currency"

    def lookups(self, request, model_admin):
        used = set(Vendor.objects.order_by().values_list("default_currency", flat=True).distinct())
        return [(code, code) for code in CURRENCIES if code in used or code == self.value()]

    def queryset(self, request, queryset):
        return queryset.filter(currency=self.value()) if self.value() else queryset


# --- Matching policies, orders, receipts --------------------------------------------------------


class MatchingPolicyForm(ServiceForm):
    class Meta:
        model = VendorMatchingPolicy
        fields = [
            "vendor",
            "match_mode",
            "quantity_tolerance_percent",
            "quantity_tolerance_absolute",
            "price_tolerance_percent",
            "price_tolerance_absolute",
        ]

    def call_service(self):
        data = dict(self.cleaned_data)
        vendor = data.pop("vendor")
        return services.matching_policy_save(actor=self.request.user, vendor_id=vendor.pk if vendor else None, **data)


@admin.register(VendorMatchingPolicy)
class VendorMatchingPolicyAdmin(admin.ModelAdmin):
    form = MatchingPolicyForm
    list_display = [
        "vendor",
        "match_mode",
        "quantity_tolerance_percent",
        "quantity_tolerance_absolute",
        "price_tolerance_percent",
        "price_tolerance_absolute",
    ]
    list_filter = ["match_mode"]
    list_select_related = ["vendor"]
    search_fields = ["vendor__code", "vendor__legal_name"]
    autocomplete_fields = ["vendor"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.request = request
        return form

    def save_model(self, request, obj, form, change):
        saved = form.call_service()
        obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None):
        return False


class PurchaseOrderLineInline(admin.TabularInline):
    model = PurchaseOrderLine
    fields = ["line_number", "item_code", "description", "quantity", "unit_price", "promised_date", "received"]
    readonly_fields = ["line_number", "received"]
    extra = 0
    can_delete = False

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    @admin.display(description="receipts")
    def received(self, line):
        if not line.pk:
            return "—"
        return format_html_join(", ", "{} on {}", ((r.quantity_received, r.received_date) for r in line.receipts.all()))

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("receipts")


class PurchaseOrderForm(forms.ModelForm):
    class Meta:
        model = PurchaseOrder
        fields = ["number", "vendor", "order_date", "currency", "notes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "currency" in self.fields:
            self.fields["currency"].required = False
            self.fields["currency"].help_text = "Leave empty for the vendor's currency."

    def _post_clean(self):
        from apps.invoices.admin_forms import only_construct

        only_construct(self)


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(ImportJobLinkMixin, admin.ModelAdmin):
    import_target = "invoices.purchaseorder"
    form = PurchaseOrderForm
    list_display = ["number", "vendor", "order_date", "currency", "status"]
    list_filter = ["status", ("order_date", admin.DateFieldListFilter)]
    list_select_related = ["vendor"]
    search_fields = ["number", "vendor__code", "vendor__legal_name"]
    autocomplete_fields = ["vendor"]
    inlines = [PurchaseOrderLineInline]
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def get_readonly_fields(self, request, obj=None):
        return ["number", "vendor", "order_date", "currency", "status"] if obj else []

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["notes", "updated_at", "updated_by"])

    def save_related(self, request, form, formsets, change):
        if change:
            return
        [lines] = formsets
        rows = [
            {k: f.cleaned_data.get(k) for k in ("item_code", "description", "quantity", "unit_price", "promised_date")}
            for f in lines.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        order = services.purchase_order_create(
            actor=request.user,
            vendor_id=form.cleaned_data["vendor"].pk,
            number=form.cleaned_data["number"],
            order_date=form.cleaned_data["order_date"],
            currency=form.cleaned_data.get("currency") or "",
            notes=form.cleaned_data.get("notes", ""),
            lines=rows,
        )
        form.instance.pk = order.pk
        form.instance.refresh_from_db()
        lines.new_objects, lines.changed_objects, lines.deleted_objects = list(order.lines.all()), [], []


@admin.register(PurchaseOrderLine)
class PurchaseOrderLineAdmin(admin.ModelAdmin):
    """Order lines are entered on their order; this list serves searches and the invoice line picker."""

    list_display = ["purchase_order", "line_number", "item_code", "description", "quantity", "unit_price"]
    list_select_related = ["purchase_order"]
    search_fields = ["purchase_order__number", "item_code", "description"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReceiptForm(ServiceForm):
    class Meta:
        model = GoodsReceipt
        fields = ["po_line", "received_date", "quantity_received", "quantity_damaged", "reference"]

    def call_service(self):
        data = dict(self.cleaned_data)
        return services.receipt_record(actor=self.request.user, po_line_id=data.pop("po_line").pk, **data)


@admin.register(GoodsReceipt)
class GoodsReceiptAdmin(ImportJobLinkMixin, admin.ModelAdmin):
    import_target = "invoices.goodsreceipt"
    form = ReceiptForm
    list_display = ["po_line", "received_date", "quantity_received", "quantity_damaged", "reference"]
    list_select_related = ["po_line__purchase_order"]
    search_fields = ["reference", "po_line__purchase_order__number"]
    list_filter = [("received_date", admin.DateFieldListFilter)]
    raw_id_fields = ["po_line"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.request = request
        return form

    def has_change_permission(self, request, obj=None):
        return False  # a wrong receipt is corrected by another receipt, never edited

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.pk = form.call_service().pk


# --- Invoices -----------------------------------------------------------------------------------


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    formset = InvoiceLineFormSet
    fields = ["po_line", "description", "quantity", "unit_price", "amount", "match_status", "match_detail"]
    readonly_fields = ["amount", "match_status", "match_detail"]
    raw_id_fields = ["po_line"]
    extra = 0

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.request = request
        return formset

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("po_line__purchase_order")

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or _editable(obj))

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and (obj is None or _editable(obj))

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class PaymentInline(_ReadOnlyInline):
    model = Payment
    fields = readonly_fields = ["payment_date", "amount", "method", "reference", "created_by"]


class CreditMemoInline(_ReadOnlyInline):
    model = CreditMemo
    fields = readonly_fields = ["number", "memo_date", "amount", "reason", "created_by"]


class DisputeContactInline(_ReadOnlyInline):
    model = DisputeContact
    fields = readonly_fields = ["contacted_at", "channel", "contact_name", "note", "created_by"]


EDITABLE = (S.DRAFT, S.SUBMITTED, S.MATCHED, S.EXCEPTION, S.APPROVED, S.SCHEDULED)


def _editable(invoice) -> bool:
    return invoice.status in EDITABLE


def _transitions():
    return {
        "submit": transition_action(
            services.invoice_submit, id_arg="invoice_id", verb="submitted", description="Submit selected invoices"
        ),
        "submit_duplicate": transition_action(
            services.invoice_submit_duplicate,
            id_arg="invoice_id",
            verb="submitted",
            description="Submit selected likely duplicates anyway",
            reason="Why it is not a duplicate",
        ),
        "override_match": transition_action(
            services.invoice_override_match,
            id_arg="invoice_id",
            verb="overridden",
            description="Override match exception of selected invoices",
            permissions=["approve"],
            reason="Override reason",
        ),
        "approve": transition_action(
            services.invoice_approve,
            id_arg="invoice_id",
            verb="approved",
            description="Approve selected invoices for payment",
            permissions=["approve"],
        ),
        "schedule": transition_action(
            services.invoice_schedule,
            id_arg="invoice_id",
            verb="scheduled",
            description="Schedule selected invoices for payment",
            permissions=["schedule"],
        ),
        "hold": transition_action(
            services.invoice_hold,
            id_arg="invoice_id",
            verb="put on hold",
            description="Put selected invoices on hold",
            reason="Hold reason",
        ),
        "dispute": transition_action(
            services.invoice_dispute,
            id_arg="invoice_id",
            verb="disputed",
            description="Dispute selected invoices",
            reason="Dispute reason",
        ),
        "release": transition_action(
            services.invoice_release,
            id_arg="invoice_id",
            verb="released",
            description="Release selected invoices from hold or dispute",
            reason="Reason",
        ),
        "cancel": transition_action(
            services.invoice_cancel,
            id_arg="invoice_id",
            verb="cancelled",
            description="Cancel selected invoices",
            reason="Cancel reason",
        ),
    }


class AwaitingMyApprovalFilter(admin.SimpleListFilter):
    """Matched invoices the signed-in person may approve (the dashboard's "Invoices to approve" links here)."""

    title = "approval"
    parameter_name = "approval"

    def lookups(self, request, model_admin):
        return [("me", "awaiting my approval")]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(pk__in=selectors.invoices_awaiting_approval_by(request.user).values("pk"))
        return queryset


class InvoiceAdminBase(
    EvidencePackActionMixin, LargeTableAdminMixin, GovernedBySOPAdminMixin, PortalExportMixin, admin.ModelAdmin
):
    sop_area = "invoices"
    form = InvoiceForm
    list_display = [
        "number",
        "vendor",
        "invoice_date",
        "due_date",
        "total_display",
        "open_balance_display",
        "status",
        "match_result",
        "flags",
    ]
    list_display_links = ["number"]
    list_filter = [
        "status",
        "match_result",
        AwaitingMyApprovalFilter,
        ExceptionReasonFilter,
        OverdueFilter,
        ("due_date", admin.DateFieldListFilter),
        CurrencyFilter,
    ]  # no vendor list (thousands of links): search finds a vendor's invoices by its code or name
    list_select_related = ["vendor"]
    search_fields = ["=number"]
    search_related = {"vendor": ["=code", "legal_name"]}
    autocomplete_fields = ["vendor"]
    raw_id_fields = ["purchase_order"]
    list_per_page = 50
    inlines = [InvoiceLineInline, PaymentInline, CreditMemoInline, DisputeContactInline]
    change_list_template = "admin/invoices/invoice/change_list.html"
    change_form_template = "admin/invoices/invoice/change_form.html"
    actions = list(_transitions().values())
    fieldsets = [
        (
            None,
            {"fields": ["vendor", "number", "purchase_order", "invoice_date", "due_date", "currency", "tax", "notes"]},
        ),
        (
            "Amounts",
            {"fields": ["subtotal", "total", "paid_amount", "credited_amount", "open_balance_display"]},
        ),
        (
            "Status and match",
            {
                "fields": [
                    "status",
                    "match_result",
                    "exception_reasons_display",
                    "match_override_reason",
                    "match_overridden_by",
                    "duplicate_display",
                    "duplicate_override_reason",
                ]
            },
        ),
        (
            "Approval and payment",
            {
                "fields": [
                    ("created_by", "created_at"),
                    ("submitted_by", "submitted_at"),
                    ("approved_by", "approved_at"),
                    ("second_approved_by", "second_approved_at"),
                    ("scheduled_by", "scheduled_payment_date"),
                    "paid_at",
                    "hold_reason",
                    "dispute_reason",
                    "cancel_reason",
                ]
            },
        ),
        ("Trail", {"fields": ["audit_links", "governing_sop"]}),
    ]
    DERIVED = [
        "subtotal",
        "total",
        "paid_amount",
        "credited_amount",
        "open_balance_display",
        "status",
        "match_result",
        "exception_reasons_display",
        "match_override_reason",
        "match_overridden_by",
        "duplicate_display",
        "duplicate_override_reason",
        "created_by",
        "created_at",
        "submitted_by",
        "submitted_at",
        "approved_by",
        "approved_at",
        "second_approved_by",
        "second_approved_at",
        "scheduled_by",
        "scheduled_payment_date",
        "paid_at",
        "hold_reason",
        "dispute_reason",
        "cancel_reason",
        "audit_links",
        "governing_sop",
    ]

    # --- Display ---

    @admin.display(description="total", ordering="total")
    def total_display(self, obj):
        return f"{obj.total:,.2f} {obj.currency}"

    @admin.display(description="open balance")
    def open_balance_display(self, obj):
        return f"{obj.open_balance:,.2f} {obj.currency}"

    @admin.display(description="flags")
    def flags(self, obj):
        marks = []
        if obj.suspected_duplicate_of_id and not obj.duplicate_override_reason:
            marks.append("likely duplicate")
        if obj.status in Invoice.OPEN_STATUSES and obj.due_date < timezone.localdate():
            marks.append("overdue")
        return ", ".join(marks)

    @admin.display(description="exception reasons")
    def exception_reasons_display(self, obj):
        labels = dict(ExceptionReason.choices)
        return ", ".join(labels.get(code, code) for code in obj.exception_reasons.split(",") if code) or "—"

    @admin.display(description="likely duplicate of")
    def duplicate_display(self, obj):
        if not obj.suspected_duplicate_of_id:
            return "—"
        url = reverse("admin:invoices_invoice_change", args=[obj.suspected_duplicate_of_id])
        return format_html('<a href="{}">{}</a>', url, obj.suspected_duplicate_of)

    @admin.display(description="audit trail")
    def audit_links(self, obj):
        if not obj.pk:
            return "—"
        events = reverse("admin:core_auditevent_changelist") + f"?target_id={obj.pk}&q={obj.number}"
        try:
            changes = reverse("admin:auditlog_logentry_changelist") + f"?object_id={obj.pk}"
        except NoReverseMatch:
            changes = ""
        links = [format_html('<a href="{}">Events (approvals, transitions)</a>', events)]
        if changes:
            links.append(format_html('<a href="{}">Field changes</a>', changes))
        links.append(
            format_html('<a href="{}">Admin history</a>', reverse("admin:invoices_invoice_history", args=[obj.pk]))
        )
        return format_html_join(" · ", "{}", ((link,) for link in links))

    @admin.display(description="governing SOP")
    def governing_sop(self, obj):
        try:
            url = reverse("admin:sops_sopdocument_changelist") + "?area__exact=invoices"
        except NoReverseMatch:
            return "—"
        return format_html('<a href="{}">Accounts payable SOPs</a>', url)

    # --- Forms and saving through services ---

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.DERIVED
        if not _editable(obj):
            return [*self.DERIVED, "vendor", "number", "purchase_order", "invoice_date", "due_date", "currency", "tax"]
        return [*self.DERIVED, "vendor"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        for name, text in (
            ("due_date", "Leave empty: invoice date plus the vendor's payment terms."),
            ("currency", "Leave empty: the purchase order's or the vendor's currency."),
        ):
            if name in form.base_fields:
                form.base_fields[name].required = False
                form.base_fields[name].help_text = text
        return form

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("vendor")

    def save_model(self, request, obj, form, change):
        """Saved together with the lines in ``save_related``, through the invoice service."""

    def save_related(self, request, form, formsets, change):
        lines = next((fs for fs in formsets if fs.model is InvoiceLine), None)
        saved = save_invoice(request, form.instance, lines)
        form.instance.pk = saved.pk
        form.instance.refresh_from_db()
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def has_delete_permission(self, request, obj=None):
        return False  # invoices are cancelled, never deleted

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or obj.status != S.CANCELLED)

    def has_approve_permission(self, request):
        return request.user.has_perm("invoices.approve_invoice")

    def has_schedule_permission(self, request):
        return request.user.has_perm("invoices.schedule_invoice")

    # --- Date hierarchy without DISTINCT ---

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "date_nav": self._date_nav(request)}
        return super().changelist_view(request, extra_context)

    def _date_nav(self, request):
        """Years from MIN/MAX (two index lookups) and the twelve months of a chosen year: no SELECT DISTINCT."""
        bounds = Invoice.objects.aggregate(first=Min("invoice_date"), last=Max("invoice_date"))
        if not bounds["first"]:
            return None
        params = request.GET.copy()
        year = params.get("invoice_date__year")
        for key in ("invoice_date__year", "invoice_date__month", "invoice_date__day", "p"):
            params.pop(key, None)
        base = params.urlencode()
        join = "&" if base else ""
        if year and year.isdigit():
            items = [
                (f"?{base}{join}invoice_date__year={year}&invoice_date__month={m}", date(2000, m, 1).strftime("%b"))
                for m in range(1, 13)
            ]
            return {"back": (f"?{base}", "All dates"), "title": year, "items": items}
        years = range(bounds["last"].year, bounds["first"].year - 1, -1)
        return {"back": None, "title": "", "items": [(f"?{base}{join}invoice_date__year={y}", str(y)) for y in years]}

    def get_changelist(self, request, **kwargs):
        from django.contrib.admin.views.main import ChangeList

        class DateFilteredChangeList(ChangeList):
            """Honours ?invoice_date__year / __month like the admin's date hierarchy would."""

            def get_filters_params(self, params=None):
                lookup = super().get_filters_params(params)
                for key in ("invoice_date__year", "invoice_date__month", "invoice_date__day"):
                    lookup.pop(key, None)
                return lookup

            def get_queryset(self, request, exclude_parameters=None):
                queryset = super().get_queryset(request, exclude_parameters)
                for key in ("invoice_date__year", "invoice_date__month", "invoice_date__day"):
                    value = request.GET.get(key)
                    if value and value.isdigit():
                        queryset = queryset.filter(**{key: int(value)})
                return queryset

        return DateFilteredChangeList

    def lookup_allowed(self, lookup, value, request=None):
        if lookup in ("invoice_date__year", "invoice_date__month", "invoice_date__day"):
            return True
        return super().lookup_allowed(lookup, value, request)

    # --- AP aging page ---

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        return [
            path("ap-aging/", self.admin_site.admin_view(self.aging_view), name="{}_{}_aging".format(*info)),
            *super().get_urls(),
        ]

    def aging_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        errors = []
        try:
            as_of = date.fromisoformat(request.GET["as_of"]) if request.GET.get("as_of") else timezone.localdate()
        except ValueError:
            as_of, errors = timezone.localdate(), ["as of: give a date as YYYY-MM-DD."]
        vendor_id = request.GET.get("vendor") or None
        vendor_id = int(vendor_id) if vendor_id and vendor_id.isdigit() else None
        currency = request.GET.get("currency") or None
        if request.method == "POST":
            try:
                vendor = Vendor.objects.filter(pk=vendor_id).first() if vendor_id else None
                run = reports.aging_run_request(actor=request.user, as_of=as_of, vendor=vendor, currency=currency or "")
            except (PermissionDenied, ValidationError) as exc:
                self.message_user(request, f"Not started: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{run} requested: the files appear in AP aging report runs when ready.")
                return HttpResponseRedirect(reverse("admin:invoices_agingreportrun_changelist"))
        report = selectors.ap_aging(as_of=as_of, vendor_id=vendor_id, currency=currency)
        context = {
            **self.admin_site.each_context(request),
            "title": f"AP aging as of {as_of:%d %b %Y}",
            "opts": self.model._meta,
            "as_of": as_of,
            "vendor_id": vendor_id or "",
            "currency": currency or "",
            "currencies": CURRENCIES,
            "report": report,
            "buckets": list(selectors.BUCKET_LABELS.items()),
            "errors": errors,
            "can_run": request.user.has_perm("invoices.add_agingreportrun"),
            "vendors": Vendor.objects.only("pk", "code").order_by("code"),
        }
        return TemplateResponse(request, "admin/invoices/aging.html", context)


@admin.register(Invoice)
class InvoiceAdmin(ImportJobLinkMixin, InvoiceAdminBase):
    import_target = "invoices.invoice"
    change_list_template = InvoiceAdminBase.change_list_template  # aging and exception queue links, and Import


@admin.register(InvoiceException)
class InvoiceExceptionAdmin(InvoiceAdminBase):
    """The exception queue: invoices whose match found differences outside tolerance, oldest first."""

    list_display = [
        "number",
        "vendor",
        "invoice_date",
        "due_date",
        "total_display",
        "exception_reasons_display",
        "exception_since",
        "submitted_by",
    ]
    list_select_related = ["vendor", "submitted_by"]
    list_filter = [ExceptionReasonFilter, OverdueFilter, CurrencyFilter]
    actions = [_transitions()[name] for name in ("override_match", "dispute", "hold", "release", "cancel")]
    ordering = ["exception_since", "id"]
    change_list_template = "admin/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=S.EXCEPTION)

    def has_add_permission(self, request):
        return False

    def changelist_view(self, request, extra_context=None):
        return admin.ModelAdmin.changelist_view(self, request, extra_context)

    def get_changelist(self, request, **kwargs):
        return admin.ModelAdmin.get_changelist(self, request, **kwargs)


# --- Credits and payments -----------------------------------------------------------------------


class CreditMemoForm(ServiceForm):
    class Meta:
        model = CreditMemo
        fields = ["invoice", "number", "memo_date", "amount", "reason"]

    def call_service(self):
        data = dict(self.cleaned_data)
        return services.credit_memo_apply(actor=self.request.user, invoice_id=data.pop("invoice").pk, **data)


@admin.register(CreditMemo)
class CreditMemoAdmin(admin.ModelAdmin):
    form = CreditMemoForm
    list_display = ["number", "vendor", "invoice", "memo_date", "amount", "currency"]
    list_select_related = ["vendor", "invoice__vendor"]
    search_fields = ["number", "vendor__code", "invoice__number"]
    raw_id_fields = ["invoice"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.request = request
        return form

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.pk = form.call_service().pk


class PaymentForm(ServiceForm):
    class Meta:
        model = Payment
        fields = ["invoice", "payment_date", "amount", "method", "reference"]

    def call_service(self):
        data = dict(self.cleaned_data)
        return services.payment_record(actor=self.request.user, invoice_id=data.pop("invoice").pk, **data)


@admin.register(Payment)
class PaymentAdmin(ImportJobLinkMixin, admin.ModelAdmin):
    import_target = "invoices.payment"
    form = PaymentForm
    list_display = ["reference", "invoice", "vendor", "payment_date", "amount", "method"]
    list_select_related = ["invoice__vendor"]
    list_filter = ["method", ("payment_date", admin.DateFieldListFilter)]
    search_fields = ["reference", "invoice__number", "invoice__vendor__code"]
    raw_id_fields = ["invoice"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    @admin.display(description="vendor")
    def vendor(self, obj):
        return obj.invoice.vendor.code

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.request = request
        return form

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("payment_date", timezone.localdate())
        invoice = Invoice.objects.filter(pk=request.GET.get("invoice") or 0).first()
        if invoice is not None:
            initial["amount"] = invoice.open_balance
        return initial

    def has_change_permission(self, request, obj=None):
        return False  # a payment is money out: corrected by a credit or a refund, never edited

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.pk = form.call_service().pk


# --- Report runs --------------------------------------------------------------------------------


class AgingRunForm(ServiceForm):
    class Meta:
        model = AgingReportRun
        fields = ["as_of", "vendor", "currency"]

    def clean(self):
        return forms.ModelForm.clean(self)  # requesting a run has no rule to dry-run


@admin.register(AgingReportRun)
class AgingReportRunAdmin(admin.ModelAdmin):
    form = AgingRunForm
    list_display = ["__str__", "vendor", "currency", "scheduled", "status", "row_count", "downloads", "created_by"]
    list_filter = ["status", "scheduled"]
    list_select_related = ["vendor", "created_by"]
    autocomplete_fields = ["vendor"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["as_of", "vendor", "currency"]
        return ["as_of", "vendor", "currency", "scheduled", "status", "row_count", "downloads", "error", "finished_at"]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj) if obj is not None else []

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="files")
    def downloads(self, obj):
        if obj.status != AgingReportRun.Status.DONE:
            return obj.get_status_display()
        # Through the reports center: needs export_records, and each download is an audited export.
        csv_url, xlsx_url = (
            reverse("admin:reports_center_download", args=["ap_aging", obj.pk, f]) for f in ("csv", "xlsx")
        )
        return format_html('<a href="{}">CSV</a> · <a href="{}">XLSX</a>', csv_url, xlsx_url)

    def save_model(self, request, obj, form, change):
        run = reports.aging_run_request(
            actor=request.user,
            as_of=form.cleaned_data["as_of"],
            vendor=form.cleaned_data.get("vendor"),
            currency=form.cleaned_data.get("currency") or "",
        )
        obj.pk = run.pk
        obj.refresh_from_db()
