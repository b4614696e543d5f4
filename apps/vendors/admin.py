from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from apps.core.admin import ImportJobLinkMixin, PortalExportMixin
from apps.core.admin_actions import transition_action
from apps.core.exceptions import TransitionNotAllowed
from apps.sops.admin_mixins import GovernedBySOPAdminMixin
from apps.vendors import selectors, services
from apps.vendors.models import (
    PerformanceReview,
    ReviewActionItem,
    ReviewCriterion,
    StandingBand,
    Vendor,
    VendorContact,
    VendorContract,
)
from apps.vendors.resources import VendorContactResource, VendorResource

# --- Vendors ------------------------------------------------------------------------------------


class ContactFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        primaries = [
            form for form in self.forms if form.cleaned_data.get("is_primary") and not form.cleaned_data.get("DELETE")
        ]
        if len(primaries) > 1:
            raise ValidationError("Only one contact can be the primary contact.")


class VendorContactInline(admin.TabularInline):
    model = VendorContact
    formset = ContactFormSet
    fields = ["name", "role", "email", "phone", "is_primary"]
    extra = 0


class VendorContractInline(admin.TabularInline):
    model = VendorContract
    fields = [
        "reference",
        "title",
        "start_date",
        "end_date",
        "renewal_notice_days",
        "on_time_delivery_target",
        "invoice_accuracy_target",
        "defect_rate_target",
        "response_time_target_hours",
    ]
    extra = 0
    show_change_link = True


class PerformanceReviewInline(admin.TabularInline):
    model = PerformanceReview
    fields = ["period_start", "period_end", "status", "overall_score", "standing", "reviewer"]
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False
    ordering = ["-period_end"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReviewDueFilter(admin.SimpleListFilter):
    """Active vendors not reviewed within the review interval (the dashboard's "vendor reviews due" links here)."""

    title = "review"
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("due", "review due"), ("mine", "review due, mine or unassigned")]

    def queryset(self, request, queryset):
        if self.value() in ("due", "mine"):
            mine = request.user if self.value() == "mine" else None
            due = selectors.vendors_review_due(today=timezone.localdate(), for_user=mine)
            return queryset.filter(pk__in=due.values("pk"))
        return queryset


@admin.register(Vendor)
class VendorAdmin(GovernedBySOPAdminMixin, ImportJobLinkMixin, PortalExportMixin, admin.ModelAdmin):
    resource_classes = [VendorResource]
    import_target = "vendors.vendor"
    sop_area = "vendors"
    list_display = [
        "code",
        "legal_name",
        "category",
        "status",
        "latest_standing",
        "latest_score",
        "payment_terms_days",
        "default_currency",
        "bank_flag",
    ]
    list_filter = [
        "status",
        "category",
        "latest_standing",
        "bank_details_pending",
        ("default_currency", admin.AllValuesFieldListFilter),
        ReviewDueFilter,
    ]
    search_fields = ["code", "legal_name", "tax_id"]
    list_select_related = ["manager"]
    autocomplete_fields = ["manager"]
    show_full_result_count = False
    inlines = [VendorContactInline, VendorContractInline, PerformanceReviewInline]
    change_form_template = "admin/vendors/vendor/change_form.html"
    change_list_template = "admin/vendors/vendor/change_list.html"  # adds "Scorecards"
    readonly_fields = [
        "status",
        "hold_reason",
        "hold_release_date",
        "bank_details_pending",
        "bank_details_changed_by",
        "bank_details_changed_at",
        "bank_details_confirmed_by",
        "bank_details_confirmed_at",
        "latest_score",
        "latest_standing",
        "latest_review_end",
    ]
    fieldsets = [
        (None, {"fields": ["code", "legal_name", "tax_id", "category", "manager"]}),
        ("Status", {"fields": ["status", "hold_reason", "hold_release_date"]}),
        ("Payment", {"fields": ["payment_terms_days", "default_currency", "remit_to"]}),
        (
            "Bank details",
            {
                "fields": [
                    "bank_account_holder",
                    "bank_name",
                    "bank_account_number",
                    "bank_routing_code",
                    "bank_details_pending",
                    ("bank_details_changed_by", "bank_details_changed_at"),
                    ("bank_details_confirmed_by", "bank_details_confirmed_at"),
                ],
                "description": "A change is held for confirmation by a different person; meanwhile no invoice "
                "of this vendor can be approved for payment.",
            },
        ),
        ("Standing", {"fields": ["latest_score", "latest_standing", "latest_review_end"]}),
    ]
    actions = ["put_on_hold", "block", "release", "confirm_bank_details"]

    @admin.display(boolean=False, description="bank details", ordering="bank_details_pending")
    def bank_flag(self, obj):
        return "changed — awaiting confirmation" if obj.bank_details_pending else "confirmed"

    def save_model(self, request, obj, form, change):
        names = services.VENDOR_FIELDS & (set(form.changed_data) if change else set(form.cleaned_data))
        saved = services.vendor_save(
            actor=request.user, vendor_id=obj.pk if change else None, **{n: form.cleaned_data[n] for n in names}
        )
        obj.pk = saved.pk
        obj.refresh_from_db()

    def save_formset(self, request, form, formset, change):
        """Contacts and contracts are saved through their services (primary switch, date rules)."""
        if formset.model not in (VendorContact, VendorContract):
            return super().save_formset(request, form, formset, change)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        rows = [f for f in formset.forms if f.cleaned_data and f.has_changed()]
        for inline_form in rows:
            if inline_form.cleaned_data.get("DELETE") and inline_form.instance.pk:
                formset.deleted_objects.append(inline_form.instance)
                inline_form.instance.delete()
        kept = [f for f in rows if not f.cleaned_data.get("DELETE")]
        if formset.model is VendorContact:
            # Ordinary contacts first, the new primary last: the service moves the primary flag.
            kept.sort(key=lambda f: bool(f.cleaned_data.get("is_primary")))
            save, names = services.contact_save, VendorContactInline.fields
        else:
            save, names = services.contract_save, VendorContractInline.fields
        for inline_form in kept:
            existing = inline_form.instance.pk
            id_arg = "contact_id" if formset.model is VendorContact else "contract_id"
            data = {name: inline_form.cleaned_data[name] for name in names}
            saved = save(actor=request.user, vendor=form.instance, **{id_arg: existing}, **data)
            if existing:
                formset.changed_objects.append((saved, inline_form.changed_data))
            else:
                formset.new_objects.append(saved)

    def has_delete_permission(self, request, obj=None):
        return False  # vendors are blocked, not deleted: invoices and reviews point at them

    def has_confirm_permission(self, request):
        return request.user.has_perm("vendors.confirm_bank_details")

    put_on_hold = transition_action(
        services.vendor_hold,
        id_arg="vendor_id",
        verb="put on hold",
        description="Put selected vendors on hold",
        reason="Hold reason",
    )
    block = transition_action(
        services.vendor_block, id_arg="vendor_id", verb="blocked", description="Block selected vendors", reason="Reason"
    )
    release = transition_action(
        services.vendor_release,
        id_arg="vendor_id",
        verb="released",
        description="Release selected vendors (hold or block)",
        reason="Reason",
    )
    confirm_bank_details = transition_action(
        services.vendor_confirm_bank_details,
        id_arg="vendor_id",
        verb="confirmed",
        description="Confirm changed bank details of selected vendors",
        permissions=["confirm"],
    )

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = extra_context or {}
        if object_id:
            extra_context["scorecard"] = selectors.vendor_scorecard(vendor_id=int(object_id))
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return [
            path(
                "scorecards/",
                self.admin_site.admin_view(self.scorecards_view),
                name="vendors_vendor_scorecards",
            ),
            *super().get_urls(),
        ]

    def scorecards_view(self, request):
        """All vendors ranked by latest score; CSV / XLSX for those who may export."""
        from apps.vendors.reports import scorecard_export_response

        if not self.has_view_permission(request):
            raise PermissionDenied
        export = request.GET.get("format")
        if export:
            if export not in ("csv", "xlsx"):
                return HttpResponseBadRequest("format must be csv or xlsx")
            return scorecard_export_response(request, export)
        from django.template.response import TemplateResponse

        context = {
            **self.admin_site.each_context(request),
            "title": "Vendor scorecards",
            "opts": self.model._meta,
            "vendors": list(selectors.vendor_ranking()),
            "can_export": request.user.has_perm("core.export_records"),
        }
        return TemplateResponse(request, "admin/vendors/scorecards.html", context)


@admin.register(VendorContact)
class VendorContactAdmin(ImportJobLinkMixin, PortalExportMixin, admin.ModelAdmin):
    resource_classes = [VendorContactResource]
    import_target = "vendors.vendorcontact"
    list_display = ["name", "vendor", "role", "email", "phone", "is_primary"]
    list_filter = ["is_primary"]
    search_fields = ["name", "email", "vendor__code", "vendor__legal_name"]
    list_select_related = ["vendor"]
    autocomplete_fields = ["vendor"]

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in ["vendor", "name", "role", "email", "phone", "is_primary"]}
        saved = services.contact_save(actor=request.user, contact_id=obj.pk if change else None, **data)
        obj.pk = saved.pk


@admin.register(VendorContract)
class VendorContractAdmin(admin.ModelAdmin):
    list_display = ["reference", "vendor", "title", "start_date", "end_date", "renewal_notice_days"]
    list_filter = [("end_date", admin.DateFieldListFilter)]
    search_fields = ["reference", "title", "vendor__code", "vendor__legal_name"]
    list_select_related = ["vendor"]
    autocomplete_fields = ["vendor"]
    date_hierarchy = "end_date"

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.fields if name in form.cleaned_data}
        saved = services.contract_save(actor=request.user, contract_id=obj.pk if change else None, **data)
        obj.pk = saved.pk


# --- Standing bands -----------------------------------------------------------------------------


class BandChangeListForm(forms.ModelForm):
    class Meta:
        model = StandingBand
        fields = ["name", "min_score", "max_score"]


@admin.register(StandingBand)
class StandingBandAdmin(admin.ModelAdmin):
    """The bands are edited together on one page, so that they always cover 0-100 exactly."""

    list_display = ["name", "min_score", "max_score"]
    list_editable = ["min_score", "max_score"]
    list_display_links = ["name"]
    ordering = ["min_score"]

    def get_changelist_formset(self, request, **kwargs):
        base = super().get_changelist_formset(request, **kwargs)

        class BandsFormSet(base):
            def clean(self):
                super().clean()
                bands = [
                    {"name": f.instance.name, **{k: f.cleaned_data.get(k) for k in ("min_score", "max_score")}}
                    for f in self.forms
                    if f.cleaned_data
                ]
                others = StandingBand.objects.exclude(pk__in=[f.instance.pk for f in self.forms])
                bands += [{"name": b.name, "min_score": b.min_score, "max_score": b.max_score} for b in others]
                try:
                    services.validate_bands(bands)
                except ValidationError as exc:
                    raise ValidationError(exc.message_dict["bands"]) from exc

            def save(self, commit=True):
                bands = [{"name": f.instance.name, **f.cleaned_data} for f in self.forms]
                services.bands_replace(actor=self.request_user, bands=bands)
                return []

        BandsFormSet.request_user = request.user
        return BandsFormSet

    def has_add_permission(self, request):
        return False  # bands are changed as a set on the list page

    def has_delete_permission(self, request, obj=None):
        return False


# --- Performance reviews ------------------------------------------------------------------------


class CriterionFormSet(BaseInlineFormSet):
    """Weights and scores are checked across all criteria by the same rules the service applies."""

    def clean(self):
        super().clean()
        data = [
            {k: f.cleaned_data.get(k) for k in ("name", "kpi", "weight", "score", "override_reason")}
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        try:
            services.validate_criteria(data, proposed=services.proposals_for(self.instance))
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["criteria"]) from exc


class ReviewCriterionInline(admin.TabularInline):
    model = ReviewCriterion
    formset = CriterionFormSet
    fields = ["name", "kpi", "weight", "score", "proposed_score", "proposed_basis", "override_reason"]
    readonly_fields = ["proposed_score", "proposed_basis"]
    extra = 0


class ReviewActionItemInline(admin.TabularInline):
    model = ReviewActionItem
    fields = ["description", "owner", "due_date", "done"]
    autocomplete_fields = ["owner"]
    extra = 0


@admin.register(PerformanceReview)
class PerformanceReviewAdmin(GovernedBySOPAdminMixin, admin.ModelAdmin):
    sop_area = "vendors"
    list_display = ["__str__", "vendor", "period_end", "status", "overall_score", "standing", "reviewer"]
    list_filter = ["status", "standing", ("period_end", admin.DateFieldListFilter)]
    search_fields = ["vendor__code", "vendor__legal_name"]
    list_select_related = ["vendor", "reviewer"]
    autocomplete_fields = ["vendor", "reviewer"]
    date_hierarchy = "period_end"
    show_full_result_count = False
    inlines = [ReviewCriterionInline, ReviewActionItemInline]
    readonly_fields = [
        "status",
        "overall_score",
        "standing",
        "finalized_by",
        "finalized_at",
        "supersedes",
        "sop_version",
    ]
    change_form_template = "admin/vendors/performancereview/change_form.html"
    actions = ["finalize", "supersede"]

    def get_fields(self, request, obj=None):
        editable = ["vendor", "period_start", "period_end", "reviewer", "comments"]
        return editable if obj is None else editable + self.readonly_fields

    def get_inlines(self, request, obj):
        return [] if obj is None else self.inlines  # criteria are proposed when the draft is created

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.is_editable:
            return ["vendor", "period_start", "period_end", "reviewer", "comments", *self.readonly_fields]
        return self.readonly_fields

    def has_change_permission(self, request, obj=None):
        if obj is not None and not obj.is_editable:
            return False  # a finalized review is frozen; supersede it instead
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def has_finalize_permission(self, request):
        return request.user.has_perm("vendors.finalize_performancereview")

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is None and "reviewer" in form.base_fields:
            form.base_fields["reviewer"].initial = request.user.pk
        return form

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            saved = services.review_create(
                actor=request.user,
                vendor_id=data["vendor"].pk,
                period_start=data["period_start"],
                period_end=data["period_end"],
                reviewer=data.get("reviewer") or request.user,
                comments=data.get("comments", ""),
            )
            obj.pk = saved.pk
            obj.refresh_from_db()
        else:
            self._pending = {k: data[k] for k in ("period_start", "period_end", "reviewer", "comments") if k in data}

    def save_related(self, request, form, formsets, change):
        if not change:
            return
        criteria = items = None
        for formset in formsets:
            # The service replaces criteria and action items as a whole (their rules hold together).
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            rows = [f.cleaned_data for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
            if formset.model is ReviewCriterion:
                criteria = [{k: r.get(k) for k in ("name", "kpi", "weight", "score", "override_reason")} for r in rows]
            elif formset.model is ReviewActionItem:
                items = [{k: r.get(k) for k in ("description", "owner", "due_date", "done")} for r in rows]
        services.review_update(
            actor=request.user,
            review_id=form.instance.pk,
            criteria=criteria,
            action_items=items,
            **getattr(self, "_pending", {}),
        )

    def response_change(self, request, obj):
        if "_finalize" in request.POST:
            try:
                services.review_finalize(review_id=obj.pk, actor=request.user)
            except (TransitionNotAllowed, PermissionDenied, ValidationError) as exc:
                message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                self.message_user(request, f"Not finalized: {message}", messages.ERROR)
                return HttpResponseRedirect(request.path)
            obj.refresh_from_db()
            self.message_user(request, f"Finalized: overall score {obj.overall_score}, standing {obj.standing}.")
            return HttpResponseRedirect(reverse("admin:vendors_vendor_change", args=[obj.vendor_id]))
        return super().response_change(request, obj)

    finalize = transition_action(
        services.review_finalize,
        id_arg="review_id",
        verb="finalized",
        description="Finalize selected reviews",
        permissions=["finalize"],
    )
    supersede = transition_action(
        services.review_supersede,
        id_arg="review_id",
        verb="superseded (new draft started)",
        description="Start a replacement for selected finalized reviews",
        permissions=["add"],
    )


@admin.register(ReviewActionItem)
class ReviewActionItemAdmin(admin.ModelAdmin):
    list_display = ["description", "review_vendor", "owner", "due_date", "done"]
    list_filter = ["done", ("due_date", admin.DateFieldListFilter)]
    search_fields = ["description", "review__vendor__code"]
    list_select_related = ["review__vendor", "owner"]
    actions = ["complete"]

    @admin.display(description="vendor", ordering="review__vendor__code")
    def review_vendor(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:vendors_vendor_change", args=[obj.review.vendor_id]),
            obj.review.vendor.code,
        )

    def has_add_permission(self, request):
        return False  # action items are added on their review

    def has_complete_permission(self, request):
        # Vendor managers, and owners of open items (the service checks each item's owner).
        user = request.user
        return user.has_perm("vendors.change_reviewactionitem") or (
            user.has_perm("vendors.view_reviewactionitem")
            and ReviewActionItem.objects.filter(owner=user, done=False).exists()
        )

    complete = transition_action(
        services.action_item_complete,
        id_arg="item_id",
        verb="marked done",
        description="Mark selected action items done",
        confirm=False,
        permissions=["complete"],
    )
