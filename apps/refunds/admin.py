"""
The refunds desk: orders with their refund history, and cases with one list per type.

Saving a new case and every transition call the services; customer names and e-mails are masked
for people without ``refunds.view_customer_pii``.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from apps.core.admin import EvidencePackActionMixin, ImportJobLinkMixin, LargeTableAdminMixin, PortalExportMixin
from apps.core.admin_actions import transition_action
from apps.core.admin_list import admin_change_url
from apps.core.exceptions import TransitionNotAllowed
from apps.refunds import hooks, selectors, services
from apps.refunds.filters import open_in_bucket, over_sla_condition
from apps.refunds.models import (
    ApproverLimit,
    CaseApproval,
    CaseAttachment,
    Channel,
    Chargeback,
    Order,
    OrderLine,
    Payout,
    ReasonCode,
    Refund,
    RefundCase,
    RefundPolicy,
    ReportRun,
    Return,
    ReturnLine,
    StoreCredit,
)
from apps.refunds.pii import can_see_pii, mask_email, mask_name
from apps.refunds.report_kinds import report_kind_key
from apps.refunds.resources import OrderResource

# --- Configuration ------------------------------------------------------------------------------


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "return_window_days"]
    search_fields = ["name", "code"]


@admin.register(ReasonCode)
class ReasonCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "label", "case_type", "active"]
    list_filter = ["active", "case_type"]
    search_fields = ["code", "label"]


@admin.register(RefundPolicy)
class RefundPolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "dual_approval_threshold", "sla_days_refund", "sla_days_store_credit", "sla_days_return"]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not RefundPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApproverLimit)
class ApproverLimitAdmin(admin.ModelAdmin):
    list_display = ["user", "max_amount"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__last_name"]
    autocomplete_fields = ["user"]


# --- Orders -------------------------------------------------------------------------------------


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    fields = ["sku", "description", "quantity", "unit_price"]

    def has_delete_permission(self, request, obj=None):
        return False


class CaseHistoryInline(admin.TabularInline):
    """The order's refund history: every case, read-only."""

    model = RefundCase
    extra = 0
    fields = ["case_link", "type", "status", "amount", "reason", "requested_by", "requested_at"]
    readonly_fields = fields
    verbose_name_plural = "refund history"
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("reason", "requested_by")

    @admin.display(description="case")
    def case_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:refunds_refundcase_change", args=[obj.pk]), obj)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(ImportJobLinkMixin, LargeTableAdminMixin, PortalExportMixin, admin.ModelAdmin):
    resource_classes = [OrderResource]
    import_target = "refunds.order"
    list_display = [
        "reference",
        "masked_customer",
        "masked_email",
        "order_date",
        "channel",
        "total",
        "amount_paid",
        "committed_amount",
        "remaining",
        "currency",
    ]
    list_filter = ["channel", "currency"]
    list_select_related = ["channel"]
    search_fields = ["=reference", "=customer_name", "=customer_email"]
    date_hierarchy = "order_date"
    inlines = [OrderLineInline, CaseHistoryInline]
    readonly_fields = ["committed_amount", "remaining"]

    def get_fields(self, request, obj=None):
        customer = ["customer_name", "customer_email"] if can_see_pii(request.user) else ["customer", "email"]
        fields = ["reference", *customer, "order_date", "channel", "currency", "total", "amount_paid"]
        return fields + (["committed_amount", "remaining"] if obj else [])

    def get_readonly_fields(self, request, obj=None):
        readonly = ["committed_amount", "remaining", "customer", "email"]
        if obj is not None:
            readonly += ["reference", "currency"]
        return readonly

    def get_export_resource_kwargs(self, request, **kwargs):
        return {**super().get_export_resource_kwargs(request, **kwargs), "user": request.user}

    def get_list_display(self, request):
        """Customer details in full only for those who may see them; masked columns for everyone else."""
        if not can_see_pii(request.user):
            return self.list_display
        unmasked = {"masked_customer": "customer_name", "masked_email": "customer_email"}
        return [unmasked.get(name, name) for name in self.list_display]

    @admin.display(description="customer")
    def masked_customer(self, obj):
        return mask_name(obj.customer_name)

    @admin.display(description="e-mail")
    def masked_email(self, obj):
        return mask_email(obj.customer_email)

    @admin.display(description="customer")
    def customer(self, obj):
        return mask_name(obj.customer_name)

    @admin.display(description="e-mail")
    def email(self, obj):
        return mask_email(obj.customer_email)

    def get_queryset(self, request):
        return selectors.order_list()

    @admin.display(description="refundable remaining")
    def remaining(self, obj):
        lost = getattr(obj, "chargeback_lost", None)
        return services.refundable_remaining(obj) if lost is None else obj.amount_paid - obj.committed_amount - lost

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            if change:
                changed = {
                    ("channel_id" if name == "channel" else name): (data[name].pk if name == "channel" else data[name])
                    for name in form.changed_data
                    if name in {"customer_name", "customer_email", "order_date", "channel", "total", "amount_paid"}
                }
                saved = services.order_update(order_id=obj.pk, actor=request.user, **changed)
            else:
                saved = services.order_create(
                    actor=request.user,
                    reference=data["reference"],
                    customer_name=data["customer_name"],
                    customer_email=data["customer_email"],
                    order_date=data["order_date"],
                    channel_id=data["channel"].pk,
                    currency=data["currency"],
                    total=data["total"],
                    amount_paid=data["amount_paid"],
                )
        except (ValidationError, PermissionDenied) as exc:
            raise PermissionDenied(str(exc)) from exc
        obj.pk = saved.pk
        obj.__dict__.update({k: v for k, v in saved.__dict__.items() if not k.startswith("_")})

    def has_delete_permission(self, request, obj=None):
        return False  # financial records are never deleted


# --- Cases --------------------------------------------------------------------------------------


class AgeBucketFilter(admin.SimpleListFilter):
    title = "age (open, days past due)"
    parameter_name = "age"

    def lookups(self, request, model_admin):
        return list(selectors.BUCKET_LABELS.items())

    def queryset(self, request, queryset):
        if self.value() in selectors.BUCKET_LABELS:
            return queryset.filter(open_in_bucket(self.value(), timezone.localdate()))
        return queryset


class OverSlaFilter(admin.SimpleListFilter):
    title = "SLA"
    parameter_name = "sla"

    def lookups(self, request, model_admin):
        return [("over", "over SLA"), ("within", "within SLA")]

    def queryset(self, request, queryset):
        condition = over_sla_condition(timezone.localdate())
        if self.value() == "over":
            return queryset.filter(condition)
        if self.value() == "within":
            return queryset.exclude(condition)
        return queryset


class CaseRequestForm(forms.ModelForm):
    """A new case: validated by the same policy checks the service applies under the order lock."""

    return_items = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 40}),
        help_text="Returns: one item per line as “SKU quantity”, e.g. “SKU-1001 2”.",
    )
    reason = forms.ModelChoiceField(queryset=ReasonCode.objects.filter(active=True))

    class Meta:
        model = RefundCase
        fields = [
            "order",
            "type",
            "amount",
            "reason",
            "notes",
            "override_reason",
            "network",
            "network_reason_code",
            "evidence_due_date",
            "fee",
        ]

    def clean(self):
        data = super().clean()
        order = data.get("order")
        if order is None or self.errors:
            return data
        lines = []
        if data.get("type") == RefundCase.Type.RETURN:
            skus = {line.sku: line.pk for line in order.lines.all()}
            for row in (data.get("return_items") or "").splitlines():
                if not row.strip():
                    continue
                sku, _, quantity = row.strip().rpartition(" ")
                if sku.strip() not in skus or not quantity.isdigit():
                    raise ValidationError({"return_items": f"“{row.strip()}” is not “SKU quantity” of this order."})
                lines.append({"order_line_id": skus[sku.strip()], "quantity": int(quantity)})
        data["return_lines"] = lines
        try:
            self._validate_request(order, data, lines)
        except ValidationError as exc:
            for field, problems in exc.message_dict.items():
                field = {"return_lines": "return_items", "currency": None}.get(field, field)
                self.add_error(field if field in self.fields else None, problems)
        return data

    def _validate_request(self, order, data, lines):
        services.validate_case_request(
            order=order,
            case_type=data["type"],
            amount=data["amount"],
            reason_code=data["reason"].code,
            override_reason=data.get("override_reason", ""),
            return_lines=lines,
            network=data.get("network", ""),
            network_reason_code=data.get("network_reason_code", ""),
            evidence_due_date=data.get("evidence_due_date"),
            fee=data.get("fee") or 0,
        )

    def _post_clean(self):
        """The service builds the case; the unsaved instance is not validated on its own."""


class ReturnLineInline(admin.TabularInline):
    model = ReturnLine
    extra = 0
    fields = ["order_line", "quantity", "condition", "disposition", "inspected_by", "inspected_at", "stock_posted_at"]
    readonly_fields = ["order_line", "quantity", "inspected_by", "inspected_at", "stock_posted_at"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CaseAttachmentInline(admin.TabularInline):
    model = CaseAttachment
    extra = 0
    fields = ["file", "description", "created_by", "created_at", "download"]
    readonly_fields = ["created_by", "created_at", "download"]

    @admin.display(description="open")
    def download(self, obj):
        if not obj.pk:
            return ""
        return format_html('<a href="{}">download</a>', reverse("admin:refunds_caseattachment_download", args=[obj.pk]))

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _outcome(outcome):
    def chargeback_record_outcome(*, case_id, actor):
        return services.chargeback_record_outcome(case_id=case_id, actor=actor, outcome=outcome)

    chargeback_record_outcome.__name__ = f"chargeback_outcome_{outcome}"
    return chargeback_record_outcome


@admin.register(RefundCase)
class RefundCaseAdmin(
    EvidencePackActionMixin, ImportJobLinkMixin, LargeTableAdminMixin, PortalExportMixin, admin.ModelAdmin
):
    """Every case; the per-type lists below show one type each."""

    import_target = "refunds.refundcase"

    case_type = ""
    form = CaseRequestForm
    list_display = [
        "reference",
        "type",
        "status",
        "order_link",
        "masked_customer",
        "amount",
        "currency",
        "reason",
        "requested_by",
        "requested_at",
        "due_date",
        "sla_state",
    ]
    list_filter = ["status", "type", "reason", "order__channel", AgeBucketFilter, OverSlaFilter, "currency"]
    list_select_related = ["order", "order__channel", "reason", "requested_by"]
    search_fields = ["=reference"]
    search_related = {"order": ["=reference", "=customer_name", "=customer_email"]}
    date_hierarchy = "requested_at"
    list_per_page = 50
    autocomplete_fields = ["order"]
    inlines = [ReturnLineInline, CaseAttachmentInline]
    actions = [
        transition_action(
            services.case_approve,
            id_arg="case_id",
            verb="approved",
            description="Approve selected cases",
            permissions=["approve"],
        ),
        transition_action(
            services.case_reject,
            id_arg="case_id",
            verb="rejected",
            description="Reject selected cases",
            permissions=["approve"],
            reason="Reason",
        ),
        transition_action(
            services.case_process,
            id_arg="case_id",
            verb="processed",
            description="Process selected cases (money out)",
            permissions=["process"],
        ),
        transition_action(
            services.case_close,
            id_arg="case_id",
            verb="closed",
            description="Close selected cases",
            permissions=["process"],
        ),
        transition_action(
            services.case_cancel,
            id_arg="case_id",
            verb="cancelled",
            description="Cancel selected cases",
            permissions=["change"],
            reason="Reason",
        ),
        transition_action(
            services.chargeback_submit_evidence,
            id_arg="case_id",
            verb="marked evidence submitted",
            description="Chargebacks: evidence submitted",
            permissions=["change"],
        ),
        transition_action(
            _outcome("won"), id_arg="case_id", verb="marked won", description="Chargebacks: won", permissions=["change"]
        ),
        transition_action(
            _outcome("lost"),
            id_arg="case_id",
            verb="marked lost",
            description="Chargebacks: lost (disputed amount lost)",
            permissions=["change"],
        ),
        transition_action(
            _outcome("accepted"),
            id_arg="case_id",
            verb="marked accepted",
            description="Chargebacks: accepted (disputed amount lost)",
            permissions=["change"],
        ),
    ]
    case_fields = [
        "reference",
        "type",
        "status",
        "order_summary",
        "amount",
        "currency",
        "reason",
        "notes",
        "override_reason",
        "requested_by",
        "requested_at",
        "sla",
        "approvals_summary",
        "decided_by",
        "decision_reason",
        "rejected_at",
        "payout_summary",
        "closed_at",
        "governing_sop",
    ]
    chargeback_fields = [
        "network",
        "network_reason_code",
        "fee",
        "evidence_due_date",
        "evidence_submitted_at",
        "outcome",
        "amount_lost",
    ]

    def get_urls(self):
        if self.case_type:
            return super().get_urls()
        download = path(
            "attachments/<int:attachment_id>/download/",
            self.admin_site.admin_view(self.attachment_download_view),
            name="refunds_caseattachment_download",
        )
        return [download, *super().get_urls()]

    def attachment_download_view(self, request, attachment_id):
        """Evidence is read through the portal, by those who may read the case."""
        attachment = CaseAttachment.objects.select_related("case").filter(pk=attachment_id).first()
        if attachment is None:
            raise Http404("No such attachment.")
        if not self.has_view_permission(request, attachment.case):
            raise PermissionDenied("You may not read this case's evidence.")
        name = attachment.file.name.rsplit("/", 1)[-1]
        return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=name)

    # Who may: the admin's action permissions map to these.
    def has_approve_permission(self, request):
        return request.user.has_perm("refunds.approve_refund")

    def has_process_permission(self, request):
        return request.user.has_perm("refunds.process_refund")

    def has_delete_permission(self, request, obj=None):
        return False  # financial records are never deleted

    def get_list_display(self, request):
        if can_see_pii(request.user):
            return ["customer_name" if name == "masked_customer" else name for name in self.list_display]
        return self.list_display

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset.filter(type=self.case_type) if self.case_type else queryset

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return super().get_fieldsets(request, obj)
        sets = [(None, {"fields": self.case_fields})]
        if obj.type == RefundCase.Type.CHARGEBACK:
            sets.append(("Chargeback", {"fields": self.chargeback_fields}))
        sets.append(("Order refund history", {"fields": ["refund_history"]}))
        return sets

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["fields"] = [*CaseRequestForm.Meta.fields, "return_items"]
        form = super().get_form(request, obj, change, **kwargs)
        if obj is None and self.case_type and "type" in form.base_fields:
            form.base_fields["type"].initial = self.case_type
        return form

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [*self.case_fields, *self.chargeback_fields, "refund_history"]

    def get_inlines(self, request, obj):
        if obj is None:
            return []
        return (
            [ReturnLineInline, CaseAttachmentInline] if obj.type == RefundCase.Type.RETURN else [CaseAttachmentInline]
        )

    def save_model(self, request, obj, form, change):
        if change:
            return  # a case changes only through its transitions
        data = form.cleaned_data
        try:
            case = services.case_request(
                actor=request.user,
                order_id=data["order"].pk,
                type=data["type"],
                amount=data["amount"],
                reason_code=data["reason"].code,
                notes=data.get("notes", ""),
                override_reason=data.get("override_reason", ""),
                return_lines=data.get("return_lines") or None,
                network=data.get("network", ""),
                network_reason_code=data.get("network_reason_code", ""),
                evidence_due_date=data.get("evidence_due_date"),
                fee=data.get("fee") or 0,
            )
        except ValidationError as exc:
            raise PermissionDenied("; ".join(exc.messages)) from exc
        obj.__dict__.update({k: v for k, v in case.__dict__.items() if not k.startswith("_")})

    def save_formset(self, request, form, formset, change):
        """Inspections and evidence go through the services; the change message lists what they did."""
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        if formset.model is ReturnLine:
            for line_form in formset.forms:
                if not (line_form.instance.pk and line_form.has_changed()):
                    continue
                try:
                    line = services.return_line_inspect(
                        line_id=line_form.instance.pk,
                        actor=request.user,
                        condition=line_form.cleaned_data.get("condition", ""),
                        disposition=line_form.cleaned_data.get("disposition", ""),
                    )
                except (ValidationError, PermissionDenied, TransitionNotAllowed) as exc:
                    problems = "; ".join(getattr(exc, "messages", [str(exc)]))
                    messages.error(request, f"{line_form.instance}: {problems}")
                    continue
                formset.changed_objects.append((line, line_form.changed_data))
            return
        if formset.model is CaseAttachment:
            for attachment_form in formset.forms:
                if not attachment_form.instance.pk and attachment_form.has_changed():
                    formset.new_objects.append(
                        services.attachment_add(
                            case_id=form.instance.pk,
                            actor=request.user,
                            file=attachment_form.cleaned_data["file"],
                            description=attachment_form.cleaned_data.get("description", ""),
                        )
                    )
            return
        super().save_formset(request, form, formset, change)

    # --- Columns and panels

    @admin.display(description="order", ordering="order__reference")
    def order_link(self, obj):
        return format_html('<a href="{}">{}</a>', admin_change_url("refunds", "order", obj.order_id), obj.order)

    @admin.display(description="customer")
    def masked_customer(self, obj):
        return mask_name(obj.order.customer_name)

    @admin.display(description="customer", ordering="order__customer_name")
    def customer_name(self, obj):
        return obj.order.customer_name

    @admin.display(description="SLA")
    def sla_state(self, obj):
        if obj.is_open:
            days = obj.days_past_due()
            return f"{days} d over" if days > 0 else "within"
        return "over" if obj.over_sla else "met" if obj.processed_at else "—"

    @admin.display(description="SLA")
    def sla(self, obj):
        opened = (timezone.localdate() - timezone.localtime(obj.requested_at).date()).days
        state = "over SLA" if obj.over_sla else "within SLA"
        return (
            f"due {obj.due_date:%d %b %Y}; open {opened} day(s); {state}"
            if obj.is_open
            else f"due {obj.due_date}; {state}"
        )

    @admin.display(description="order")
    def order_summary(self, obj):
        order = obj.order
        return format_html(
            '<a href="{}">{}</a> of {} — paid {} {}, committed {}, <strong>refundable remaining {}</strong>',
            reverse("admin:refunds_order_change", args=[order.pk]),
            order.reference,
            order.order_date,
            order.amount_paid,
            order.currency,
            order.committed_amount,
            services.refundable_remaining(order),
        )

    @admin.display(description="approvals")
    def approvals_summary(self, obj):
        rows = obj.approvals.select_related("approver")
        done = format_html_join(
            "",
            "<li>{} — level {} at {}{}</li>",
            ((a.approver, a.level, a.approved_at, f" (SOP {a.sop_version})" if a.sop_version else "") for a in rows),
        )
        return format_html("{} of {} required<ul>{}</ul>", len(rows), obj.approvals_required, done)

    @admin.display(description="payout")
    def payout_summary(self, obj):
        payout = Payout.objects.filter(case=obj).select_related("paid_by").first()
        if payout is None:
            return "not paid out"
        paid = f"{payout.paid_at:%Y-%m-%d %H:%M}"
        return f"{payout.amount} {payout.currency} by {payout.get_method_display()} at {paid} ({payout.paid_by})"

    @admin.display(description="refund history of the order")
    def refund_history(self, obj):
        rows = selectors.order_history(obj.order)
        body = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:refunds_refundcase_change", args=[c.pk]),
                    c.reference,
                    c.get_type_display(),
                    c.get_status_display(),
                    c.amount,
                    c.currency,
                    c.reason.code,
                    f"{timezone.localtime(c.requested_at):%Y-%m-%d}",
                )
                for c in rows
            ),
        )
        return format_html(
            "<table><thead><tr><th>case</th><th>type</th><th>status</th><th>amount</th><th>reason</th>"
            "<th>requested</th></tr></thead><tbody>{}</tbody></table>",
            body,
        )

    @admin.display(description="governing SOP")
    def governing_sop(self, obj):
        url = hooks.governing_sop_url()
        return format_html('<a href="{}">Refunds SOP</a>', url) if url else "—"


class TypedCaseAdmin(RefundCaseAdmin):
    """One case type's list: permissions are those on cases."""

    def _may(self, request, action):
        return request.user.has_perm(f"refunds.{action}_refundcase")

    def has_module_permission(self, request):
        return self._may(request, "view") or self._may(request, "change")

    def has_view_permission(self, request, obj=None):
        return self._may(request, "view") or self._may(request, "change")

    def has_add_permission(self, request):
        return self._may(request, "add")

    def has_change_permission(self, request, obj=None):
        return self._may(request, "change")


@admin.register(Refund)
class RefundAdmin(TypedCaseAdmin):
    case_type = RefundCase.Type.REFUND


@admin.register(StoreCredit)
class StoreCreditAdmin(TypedCaseAdmin):
    case_type = RefundCase.Type.STORE_CREDIT


@admin.register(Chargeback)
class ChargebackAdmin(TypedCaseAdmin):
    case_type = RefundCase.Type.CHARGEBACK
    list_display = [
        "reference",
        "status",
        "order_link",
        "amount",
        "currency",
        "network",
        "network_reason_code",
        "evidence_due_date",
        "evidence_submitted_at",
        "outcome",
        "amount_lost",
    ]
    list_filter = ["status", "network", "outcome", "reason", AgeBucketFilter, OverSlaFilter]


@admin.register(Return)
class ReturnAdmin(TypedCaseAdmin):
    case_type = RefundCase.Type.RETURN
    import_target = ""  # a return needs its lines: requested in the admin or through the API, not a file


# --- Read-only records --------------------------------------------------------------------------


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin):
    list_display = ["case", "method", "amount", "currency", "paid_at", "paid_by"]
    list_filter = ["method", "currency"]
    list_select_related = ["case", "paid_by"]
    search_fields = ["case__reference", "=idempotency_key"]
    date_hierarchy = "paid_at"
    show_full_result_count = False


@admin.register(CaseApproval)
class CaseApprovalAdmin(ReadOnlyAdmin):
    list_display = ["case", "level", "approver", "approved_at", "sop_version"]
    list_select_related = ["case", "approver"]
    search_fields = ["case__reference", "approver__username"]
    show_full_result_count = False


@admin.register(ReportRun)
class ReportRunAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "format", "as_of", "case_type", "scheduled", "status", "row_count", "download"]
    list_filter = ["kind", "status", "scheduled"]
    fields = ["kind", "format", "as_of", "case_type"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.fields
        return [*self.fields, "scheduled", "status", "row_count", "download", "error", "finished_at"]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj) if obj is not None else []

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="file")
    def download(self, obj):
        if not obj.file:
            return "—"
        # Through the reports center: needs export_records, and each download is an audited export.
        url = reverse("admin:reports_center_download", args=[report_kind_key(obj), obj.pk, obj.format])
        return format_html('<a href="{}">download</a>', url)

    def save_model(self, request, obj, form, change):
        run = services.report_run_request(
            actor=request.user,
            kind=form.cleaned_data["kind"],
            as_of=form.cleaned_data["as_of"],
            format=form.cleaned_data["format"],
            case_type=form.cleaned_data.get("case_type", ""),
        )
        obj.__dict__.update({k: v for k, v in run.__dict__.items() if not k.startswith("_")})
