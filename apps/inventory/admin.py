"""
The inventory admin: items, bins, stock levels and ledger, reorder list, report runs, and cycle
counts with a quick blind entry page for counters and a side-by-side review page for approvers.

Every write goes through a service. Every list and page that could show an expected quantity asks
``selectors`` first: counters see neither expected quantities nor the stock of the bins they count.
"""

from datetime import date, timedelta
from decimal import Decimal

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from apps.core import audit
from apps.core.admin import ImportJobLinkMixin, LargeTableAdminMixin, PortalExportMixin
from apps.core.admin_actions import REFUSALS, transition_action
from apps.inventory import resources, selectors, services
from apps.inventory.forms import AdHocCountForm, ReportRunForm, StockMovementForm
from apps.inventory.models import (
    CountPolicy,
    CycleCount,
    CycleCountLine,
    InventoryReportRun,
    Item,
    LedgerEntry,
    Location,
    ReorderAlert,
    StockLevel,
    Warehouse,
)
from apps.inventory.services.counts import COUNT_PERM
from apps.sops.admin_mixins import GovernedBySOPAdminMixin


def _refusal(exc) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return str(exc)


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Master data ------------------------------------------------------------------------------


class StockLevelInline(admin.TabularInline):
    model = StockLevel
    extra = 0
    fields = ["location", "quantity", "reserved_quantity", "last_movement_at", "last_counted_at"]
    readonly_fields = fields
    can_delete = False
    show_change_link = False

    def get_queryset(self, request):
        return selectors.stock_levels_for(user=request.user)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Item)
class ItemAdmin(ImportJobLinkMixin, PortalExportMixin, admin.ModelAdmin):
    resource_classes = [resources.ItemResource]
    import_target = "inventory.item"
    list_display = [
        "sku",
        "description",
        "abc_class",
        "unit_of_measure",
        "unit_cost",
        "currency",
        "on_hand",
        "available",
        "reorder_point",
        "is_critical",
        "is_active",
        "last_counted_on",
    ]
    list_filter = ["abc_class", "is_critical", "is_active", "unit_of_measure"]
    search_fields = ["sku", "description"]
    readonly_fields = ["last_counted_on", "ledger_link"]
    fieldsets = [
        (None, {"fields": ["sku", "description", "unit_of_measure", "unit_cost", "currency", "is_active"]}),
        ("Counting", {"fields": ["abc_class", "count_frequency_days", "last_counted_on"]}),
        (
            "Variance thresholds (empty: class or global policy)",
            {"fields": ["tolerance_units", "tolerance_percent", "tolerance_value"]},
        ),
        ("Reordering", {"fields": ["reorder_point", "reorder_quantity", "is_critical"]}),
        ("Stock", {"fields": ["ledger_link"]}),
    ]
    inlines = [StockLevelInline]
    show_full_result_count = False

    def get_queryset(self, request):
        return selectors.items_for(user=request.user)

    @admin.display(description="on hand")
    def on_hand(self, obj):
        return "—" if obj.on_hand_total is None else obj.on_hand_total

    @admin.display(description="available")
    def available(self, obj):
        return "—" if obj.available_total is None else obj.available_total

    @admin.display(description="ledger")
    def ledger_link(self, obj):
        if obj.pk is None:
            return "—"
        url = reverse("admin:inventory_ledgerentry_changelist") + f"?item__id__exact={obj.pk}"
        return format_html('<a href="{}">Stock ledger of {}</a>', url, obj.sku)

    def save_model(self, request, obj, form, change):
        fields = {
            name: form.cleaned_data[name] for name in form.changed_data if name in services.master_data.ITEM_FIELDS
        }
        if change:
            saved = services.item_update(item_id=obj.pk, actor=request.user, **fields)
        else:
            saved = services.item_create(
                actor=request.user,
                **{n: form.cleaned_data[n] for n in form.cleaned_data if n in services.master_data.ITEM_FIELDS},
            )
        obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: the ledger keeps referring to it


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "is_active"]
    search_fields = ["code", "name"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Location)
class LocationAdmin(ImportJobLinkMixin, admin.ModelAdmin):
    import_target = "inventory.location"
    list_display = ["code", "warehouse", "zone", "bin", "is_active"]
    list_filter = ["warehouse", "is_active"]
    search_fields = ["code"]
    list_select_related = ["warehouse"]
    show_full_result_count = False

    def save_model(self, request, obj, form, change):
        data = {
            name: form.cleaned_data[name] for name in form.cleaned_data if name in services.master_data.LOCATION_FIELDS
        }
        if change:
            saved = services.location_update(location_id=obj.pk, actor=request.user, **data)
        else:
            saved = services.location_create(actor=request.user, **data)
        obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CountPolicy)
class CountPolicyAdmin(admin.ModelAdmin):
    """Count frequency and variance thresholds: a global row and one per ABC class."""

    list_display = ["__str__", "frequency_days", "tolerance_units", "tolerance_percent", "tolerance_value"]


# --- Stock ------------------------------------------------------------------------------------


class WarehouseFilter(admin.SimpleListFilter):
    title = "warehouse"
    parameter_name = "warehouse"
    field = "location__warehouse"

    def lookups(self, request, model_admin):
        return list(Warehouse.objects.values_list("pk", "code"))

    def queryset(self, request, queryset):
        return queryset.filter(**{f"{self.field}_id": self.value()}) if self.value() else queryset


@admin.register(StockLevel)
class StockLevelAdmin(ImportJobLinkMixin, PortalExportMixin, ReadOnlyMixin, admin.ModelAdmin):
    """Quantities per item and bin; they change only through the ledger."""

    resource_classes = [resources.StockLevelResource]
    import_target = "inventory.stocklevel"
    list_display = [
        "item",
        "location",
        "quantity",
        "reserved_quantity",
        "last_movement_at",
        "last_counted_at",
        "ledger",
    ]
    list_filter = [WarehouseFilter, "item__abc_class"]
    search_fields = ["item__sku", "location__code"]
    show_full_result_count = False

    def get_queryset(self, request):
        return selectors.stock_levels_for(user=request.user)

    @admin.display(description="ledger")
    def ledger(self, obj):
        url = reverse("admin:inventory_ledgerentry_changelist")
        return format_html(
            '<a href="{}?item__id__exact={}&location__id__exact={}">ledger</a>', url, obj.item_id, obj.location_id
        )


@admin.register(LedgerEntry)
class LedgerEntryAdmin(LargeTableAdminMixin, PortalExportMixin, admin.ModelAdmin):
    """The stock ledger per item and bin. New entries are movements posted through the service."""

    resource_classes = [resources.LedgerEntryResource]
    form = StockMovementForm
    date_hierarchy = "posted_at"
    list_display = [
        "posted_at",
        "item",
        "location",
        "kind",
        "quantity",
        "balance_after",
        "value",
        "currency",
        "reference",
        "posted_by",
    ]
    list_filter = ["kind", WarehouseFilter]
    search_fields = ["=reference"]
    search_related = {"item": ["=sku"], "location": ["=code"]}
    autocomplete_fields = ["item", "location"]

    def get_queryset(self, request):
        # Only the related rows the list and its export show: not each entry's warehouse and count line.
        qs = (
            selectors.ledger_for(user=request.user).select_related(None).select_related("item", "location", "posted_by")
        )
        for key in ("item__id__exact", "location__id__exact"):
            if request.GET.get(key, "").isdigit():
                qs = qs.filter(**{key.replace("__exact", ""): int(request.GET[key])})
        return qs

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        if changelist.query:
            # A search finds the entries of one item or a few: joined in the page's query, the planner hashes
            # every item to match them; their items read by key in a query of their own cost a fraction of that.
            changelist.result_list = (
                changelist.result_list.select_related(None)
                .select_related("location", "posted_by")
                .prefetch_related("item")
            )
        return changelist

    def lookup_allowed(self, lookup, value, request=None):
        return lookup in {"item__id__exact", "location__id__exact"} or super().lookup_allowed(lookup, value, request)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["item", "location", "kind", "quantity", "reference", "reason"]
        return [*self.list_display, "unit_cost", "reason", "count_line"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)

    def save_model(self, request, obj, form, change):
        entry = services.stock_move(
            item_id=form.cleaned_data["item"].pk,
            location_id=form.cleaned_data["location"].pk,
            kind=form.cleaned_data["kind"],
            quantity=form.cleaned_data["quantity"],
            reason=form.cleaned_data.get("reason", ""),
            reference=form.cleaned_data.get("reference", ""),
            actor=request.user,
        )
        obj.pk = entry.pk

    def add_view(self, request, form_url="", extra_context=None):
        if request.method != "POST" or not self.has_add_permission(request):
            return super().add_view(request, form_url, extra_context)
        try:
            return super().add_view(request, form_url, extra_context)
        except REFUSALS as exc:
            self.message_user(request, f"Not posted: {_refusal(exc)}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AlertStateFilter(admin.SimpleListFilter):
    """Open alerts unless asked otherwise: the reorder list is what still needs ordering."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("resolved", "resolved"), ("all", "all")]

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "open",
        }
        for value, label in self.lookup_choices:
            yield {
                "selected": self.value() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset):
        if self.value() == "all":
            return queryset
        return queryset.filter(resolved_at__isnull=self.value() != "resolved")


@admin.register(ReorderAlert)
class ReorderAlertAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The reorder list: items at or below their reorder point, one open alert each until they recover."""

    list_display = [
        "item",
        "is_critical",
        "opened_at",
        "available_quantity",
        "reorder_point",
        "reorder_quantity",
        "resolved_at",
    ]
    list_filter = ["is_critical", "item__abc_class"]
    search_fields = ["item__sku", "item__description"]
    actions = ["refresh"]
    show_full_result_count = False

    def get_queryset(self, request):
        return selectors.reorder_alerts_for(user=request.user)

    def get_list_filter(self, request):
        return [AlertStateFilter, *self.list_filter]

    def has_refresh_permission(self, request):
        # Refreshing opens and resolves alerts: for those who keep reorder points, not for readers.
        return request.user.has_perm("inventory.change_item")

    @admin.action(description="Check every item against its reorder point now", permissions=["refresh"])
    def refresh(self, request, queryset):
        result = services.reorder_alerts_refresh()
        self.message_user(request, f"{result['opened']} alert(s) opened, {result['resolved']} resolved.")


@admin.register(InventoryReportRun)
class InventoryReportRunAdmin(admin.ModelAdmin):
    form = ReportRunForm
    list_display = ["__str__", "kind", "file_format", "status", "row_count", "created_at", "created_by", "download"]
    list_filter = ["kind", "status"]
    list_select_related = ["created_by"]

    @admin.display(description="file")
    def download(self, obj):
        # Through the reports center: needs export_records, and each download is an audited export.
        if not obj.file:
            return "—"
        url = reverse("admin:reports_center_download", args=[obj.kind, obj.pk, obj.file_format])
        return format_html('<a href="{}">download</a>', url)

    def get_fields(self, request, obj=None):
        return (
            ["kind", "file_format", "date_from", "date_to"]
            if obj is None
            else [
                "kind",
                "file_format",
                "date_from",
                "date_to",
                "status",
                "row_count",
                "error",
                "download",
                "finished_at",
            ]
        )

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)

    def get_changeform_initial_data(self, request):
        today = timezone.localdate()
        return {"date_from": today.replace(day=1) - timedelta(days=365), "date_to": today}

    def save_model(self, request, obj, form, change):
        run = services.inventory_report_request(actor=request.user, **form.cleaned_data)
        obj.pk = run.pk

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Cycle counts -----------------------------------------------------------------------------


class CountLineInline(admin.TabularInline):
    """Lines on the count page: blind columns for counters, side by side for reviewers."""

    model = CycleCountLine
    extra = 0
    can_delete = False
    blind_fields = ["item", "location", "status", "recount_required", "counted_at", "recounted_at"]
    review_fields = [
        "item",
        "location",
        "status",
        "expected_quantity",
        "counted_quantity",
        "recount_quantity",
        "variance_quantity",
        "variance_value",
        "recount_reason",
        "stock_moved",
        "counted_by",
        "recounted_by",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("item", "location", "counted_by", "recounted_by", "count")

    def get_fields(self, request, obj=None):
        if obj is not None and selectors.can_see_expected(user=request.user, count=obj):
            return self.review_fields
        if obj is not None and request.user.pk == obj.counter_id:
            return [*self.blind_fields[:3], "counted_quantity", *self.blind_fields[3:]]
        return self.blind_fields

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(boolean=True, description="stock moved")
    def stock_moved(self, line):
        return line.stock_moved

    @admin.display(description="variance")
    def variance_quantity(self, line):
        return line.variance_quantity

    @admin.display(description="variance value")
    def variance_value(self, line):
        return line.variance_value


class HasVarianceFilter(admin.SimpleListFilter):
    """Only for people who may see expected quantities, and only over counts they may see them of."""

    title = "variance"
    parameter_name = "variance"

    def lookups(self, request, model_admin):
        if not request.user.has_perm("inventory.view_expected_quantity"):
            return []
        return [("yes", "with a variance"), ("no", "without a variance")]

    def queryset(self, request, queryset):
        if self.value() not in {"yes", "no"} or not request.user.has_perm("inventory.view_expected_quantity"):
            return queryset
        varied = (
            CycleCountLine.objects.filter(count_id=OuterRef("pk"), expected_quantity__isnull=False)
            .annotate(final=Coalesce("recount_quantity", "counted_quantity"))
            .filter(final__isnull=False)
            .exclude(final=F("expected_quantity"))
        )
        me = Q(counter_id=request.user.pk) | Q(recounter_id=request.user.pk)
        visible = queryset.filter(~Q(status__in=CycleCount.OPEN) | ~me)
        return visible.filter(Exists(varied)) if self.value() == "yes" else visible.exclude(Exists(varied))


class MineFilter(admin.SimpleListFilter):
    title = "assigned to"
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return [("yes", "me"), ("to_count", "me, to count or recount now")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(Q(counter_id=request.user.pk) | Q(recounter_id=request.user.pk))
        if self.value() == "to_count":  # the dashboard's "Counts to count or recount" links here
            return queryset.filter(pk__in=selectors.counts_to_work_by(user=request.user).values("pk"))
        return queryset


def _approve_with_confirmation(service):
    return transition_action(
        service,
        id_arg="count_id",
        verb="approved",
        description="Approve selected counts (posts adjustments to stock)",
        permissions=["approve"],
        confirm=True,
    )


@admin.register(CycleCount)
class CycleCountAdmin(GovernedBySOPAdminMixin, ImportJobLinkMixin, admin.ModelAdmin):
    sop_area = "inventory"
    import_target = "inventory.cyclecountline"  # counted quantities for lines of open counts
    list_filter = ["status", MineFilter, "kind", "warehouse", "due_date", HasVarianceFilter]
    search_fields = ["number", "lines__item__sku"]
    date_hierarchy = "due_date"
    show_full_result_count = False
    readonly_fields = [
        "number",
        "warehouse",
        "zone",
        "kind",
        "status",
        "round",
        "progress",
        "started_at",
        "submitted_at",
        "approved_by",
        "approved_at",
        "status_reason",
    ]
    fields = [*readonly_fields[:5], "counter", "recounter", "due_date", "notes", *readonly_fields[5:]]
    inlines = [CountLineInline]
    actions = ["start_counts", "submit_counts", "approve_counts", "reject_counts", "cancel_counts", "export_lines"]

    # The queryset carries progress annotations for the list and the change page.
    def get_queryset(self, request):
        return selectors.counts_with_progress(super().get_queryset(request))

    def get_urls(self):
        urls = super().get_urls()
        own = [
            path(
                "<int:count_id>/enter/", self.admin_site.admin_view(self.enter_view), name="inventory_cyclecount_enter"
            ),
            path(
                "<int:count_id>/review/",
                self.admin_site.admin_view(self.review_view),
                name="inventory_cyclecount_review",
            ),
            path("kpis/", self.admin_site.admin_view(self.kpi_view), name="inventory_cyclecount_kpis"),
            path("schedule-due/", self.admin_site.admin_view(self.schedule_view), name="inventory_cyclecount_schedule"),
        ]
        return own + urls

    # --- permissions used by actions and pages

    def has_approve_permission(self, request, obj=None):
        return request.user.has_perm("inventory.approve_count")

    def has_count_permission(self, request, obj=None):
        return request.user.has_perm(COUNT_PERM)

    def has_schedule_permission(self, request, obj=None):
        return request.user.has_perm("inventory.add_cyclecount")

    def has_export_permission(self, request, obj=None):
        return self.has_view_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # Only schedulers edit a count's assignment (through the service); counters work on the entry page.
        return request.user.has_perm("inventory.add_cyclecount") and (obj is None or obj.is_open)

    # --- list columns

    @admin.display(description="progress")
    def progress(self, obj):
        total = getattr(obj, "lines_total", None)
        if total is None:
            return "—"
        text = f"{obj.lines_counted}/{total} counted"
        if obj.lines_awaiting_recount:
            text += f", {obj.lines_awaiting_recount} to recount"
        return text

    def work_links(self, request, obj) -> list[tuple[str, str]]:
        """The pages this person can work on for ``obj``: count, recount or review."""
        user, status = request.user, obj.status
        enter = reverse("admin:inventory_cyclecount_enter", args=[obj.pk])
        review = reverse("admin:inventory_cyclecount_review", args=[obj.pk])
        links = []
        if (
            status == CycleCount.Status.SCHEDULED
            and (obj.counter_id == user.pk or (obj.counter_id is None and user.has_perm(COUNT_PERM)))
        ) or (status == CycleCount.Status.COUNTING and obj.counter_id == user.pk):
            links.append(("Count", enter))
        elif (
            status == CycleCount.Status.RECOUNT
            and obj.counter_id != user.pk
            and obj.recounter_id in (None, user.pk)
            and user.has_perm(COUNT_PERM)
        ):
            links.append(("Recount", enter))
        if status in (CycleCount.Status.RECOUNT, CycleCount.Status.SUBMITTED) and selectors.can_see_expected(
            user=user, count=obj
        ):
            links.append(("Review", review))
        return links

    def get_list_display(self, request):
        """Columns bound to the person looking: variance values stay hidden from counters."""

        @admin.display(description="variance value")
        def variance_value(obj):
            if obj.status in (CycleCount.Status.SCHEDULED, CycleCount.Status.COUNTING, CycleCount.Status.CANCELLED):
                return "—"
            if not selectors.can_see_expected(user=request.user, count=obj):
                return "hidden"
            total = obj.variance_value_total
            return "—" if total is None else total.quantize(Decimal("0.01"))

        @admin.display(description="")
        def work(obj):
            return format_html_join(
                " ",
                '<a class="button" href="{}">{}</a>',
                ((url, label) for label, url in self.work_links(request, obj)),
            )

        return [
            "number",
            "warehouse",
            "zone",
            "kind",
            "status",
            "counter",
            "recounter",
            "due_date",
            "progress",
            variance_value,
            work,
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_schedule": self.has_schedule_permission(request)}
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        links = self.work_links(request, obj) if obj is not None else []
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "work_links": links})

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != CycleCount.Status.SCHEDULED:
            return [*self.readonly_fields, "counter", "recounter", "due_date"]
        return self.readonly_fields

    def add_view(self, request, form_url="", extra_context=None):
        """Ad-hoc counts by items, by bins, or of items with recent variances."""
        if not self.has_schedule_permission(request):
            raise PermissionDenied
        counters = selectors.users_with_perm(COUNT_PERM).order_by("username")
        form = AdHocCountForm(request.POST or None, counters=counters)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                counts = services.cycle_count_create(
                    actor=request.user,
                    kind=data["kind"],
                    item_ids=data["item_ids"],
                    location_ids=data["location_ids"],
                    variance_days=data["variance_days"],
                    counter_id=data["counter"].pk if data["counter"] else None,
                    due_date=data["due_date"],
                    notes=data["notes"],
                )
            except REFUSALS as exc:
                self.message_user(request, f"No count created: {_refusal(exc)}", messages.ERROR)
            else:
                self.message_user(request, f"Created {', '.join(str(c) for c in counts)}.")
                return HttpResponseRedirect(reverse("admin:inventory_cyclecount_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Schedule an ad-hoc count",
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/inventory/cyclecount/adhoc.html", context)

    def save_model(self, request, obj, form, change):
        services.cycle_count_assign(
            count_id=obj.pk,
            actor=request.user,
            counter_id=obj.counter_id,
            recounter_id=obj.recounter_id,
            due_date=obj.due_date,
        )

    def save_related(self, request, form, formsets, change):
        pass  # lines change only through counting

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method != "POST" or not self.has_change_permission(request):
            return super().changeform_view(request, object_id, form_url, extra_context)
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except REFUSALS as exc:
            self.message_user(request, f"Not saved: {_refusal(exc)}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    # --- actions

    start_counts = transition_action(
        services.cycle_count_start,
        id_arg="count_id",
        verb="started",
        description="Start counting selected counts",
        permissions=["count"],
        confirm=False,
    )
    submit_counts = transition_action(
        services.cycle_count_submit,
        id_arg="count_id",
        verb="submitted",
        description="Submit selected counts",
        permissions=["count"],
        confirm=True,
    )
    approve_counts = _approve_with_confirmation(services.cycle_count_approve)
    reject_counts = transition_action(
        services.cycle_count_reject,
        id_arg="count_id",
        verb="rejected",
        description="Reject selected counts (back to counting)",
        permissions=["approve"],
        confirm=True,
        reason="Reason",
    )
    cancel_counts = transition_action(
        services.cycle_count_cancel,
        id_arg="count_id",
        verb="cancelled",
        description="Cancel selected counts",
        permissions=["schedule"],
        confirm=True,
        reason="Reason",
    )

    @admin.action(description="Export lines of selected counts (CSV)", permissions=["export"])
    def export_lines(self, request, queryset):
        lines = (
            CycleCountLine.objects.filter(count__in=queryset)
            .select_related("count", "item", "location")
            .order_by("count__number", "location__code", "item__sku")
        )
        dataset = resources.CycleCountLineResource(user=request.user).export(queryset=lines)
        audit.record(action="cycle_count.exported", actor=request.user, data={"counts": queryset.count()})
        response = HttpResponse(dataset.csv, content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="cycle-count-lines.csv"'
        return response

    # --- pages

    def _count_or_404(self, request, count_id):
        count = get_object_or_404(selectors.counts_with_progress(), pk=count_id)
        if not self.has_view_permission(request, count):
            raise PermissionDenied
        return count

    def enter_view(self, request, count_id):
        """The counter's page: one quantity box per line, in bin order, no expected quantity anywhere."""
        count = self._count_or_404(request, count_id)
        user = request.user
        recounting = count.status == CycleCount.Status.RECOUNT
        lines = list(count.lines.select_related("item", "location").order_by("location__code", "item__sku"))
        if recounting:
            lines = [line for line in lines if line.recount_required]
        if request.method == "POST":
            try:
                if "start" in request.POST:
                    services.cycle_count_start(count_id=count.pk, actor=user)
                    self.message_user(request, f"Counting of {count} started.")
                else:
                    entries = []
                    for line in lines:
                        raw = request.POST.get(f"qty-{line.pk}", "").strip()
                        current = line.recount_quantity if recounting else line.counted_quantity
                        if raw and (current is None or raw != f"{current.normalize():f}"):
                            entries.append({"line_id": line.pk, "quantity": raw})
                    if entries:
                        services.cycle_count_enter(count_id=count.pk, actor=user, entries=entries)
                    if "submit" in request.POST:
                        count = services.cycle_count_submit(count_id=count.pk, actor=user)
                        note = (
                            " Some lines need a recount by someone else."
                            if count.status == CycleCount.Status.RECOUNT
                            else ""
                        )
                        self.message_user(request, f"{count} submitted.{note}")
                        return HttpResponseRedirect(reverse("admin:inventory_cyclecount_changelist"))
                    self.message_user(request, f"Saved {len(entries)} quantit{'y' if len(entries) == 1 else 'ies'}.")
            except REFUSALS as exc:
                self.message_user(request, _refusal(exc), messages.ERROR)
            return HttpResponseRedirect(request.path)
        can_enter = (count.status == CycleCount.Status.COUNTING and user.pk == count.counter_id) or (
            recounting
            and user.pk != count.counter_id
            and count.recounter_id in (None, user.pk)
            and user.has_perm(COUNT_PERM)
        )
        rows = []
        for line in lines:
            value = line.recount_quantity if recounting else line.counted_quantity
            rows.append({"line": line, "value": "" if value is None else f"{value.normalize():f}"})
        context = {
            **self.admin_site.each_context(request),
            "title": f"{'Recount' if recounting else 'Count'} {count}",
            "count": count,
            "rows": rows,
            "recounting": recounting,
            "can_enter": can_enter,
            "can_start": count.status == CycleCount.Status.SCHEDULED and user.pk in (count.counter_id, None)
            if count.counter_id
            else count.status == CycleCount.Status.SCHEDULED and user.has_perm(COUNT_PERM),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/inventory/cyclecount/enter.html", context)

    def review_view(self, request, count_id):
        """The reviewer's page: expected, counted, recount, variance and value side by side."""
        count = self._count_or_404(request, count_id)
        if not selectors.can_see_expected(user=request.user, count=count):
            raise PermissionDenied
        if request.method == "POST":
            try:
                if "approve" in request.POST:
                    services.cycle_count_approve(
                        count_id=count.pk, actor=request.user, comment=request.POST.get("comment", "")
                    )
                    self.message_user(request, f"{count} approved: adjustments posted to the stock ledger.")
                    return HttpResponseRedirect(reverse("admin:inventory_cyclecount_changelist"))
                if "reject" in request.POST:
                    services.cycle_count_reject(
                        count_id=count.pk, actor=request.user, reason=request.POST.get("comment", "")
                    )
                    self.message_user(request, f"{count} sent back to counting.")
                    return HttpResponseRedirect(reverse("admin:inventory_cyclecount_changelist"))
                if "recount" in request.POST:
                    services.cycle_count_request_recount(
                        count_id=count.pk,
                        actor=request.user,
                        line_ids=request.POST.getlist("line"),
                        reason=request.POST.get("comment", ""),
                    )
                    self.message_user(request, "Lines sent to recount.")
            except REFUSALS as exc:
                self.message_user(request, _refusal(exc), messages.ERROR)
            return HttpResponseRedirect(request.path)
        from apps.inventory.policies import Policies

        policies = Policies()
        lines = list(
            count.lines.select_related("item", "location", "counted_by", "recounted_by").order_by(
                "location__code", "item__sku"
            )
        )
        rows = []
        for line in lines:
            within = None
            if line.final_quantity is not None and line.expected_quantity is not None:
                within = not policies.tolerance(line.item).exceeded_by(
                    expected=line.expected_quantity, counted=line.final_quantity, unit_cost=line.unit_cost
                )
            rows.append({"line": line, "within": within})
        variances = [line.variance_value for line in lines if line.variance_value]
        context = {
            **self.admin_site.each_context(request),
            "title": f"Review {count}",
            "count": count,
            "rows": rows,
            "net_value": sum(variances, Decimal("0.00")),
            "lines_with_variance": len(variances),
            "moved": [line for line in lines if line.stock_moved],
            "can_decide": count.status in (CycleCount.Status.SUBMITTED, CycleCount.Status.RECOUNT)
            and request.user.has_perm("inventory.approve_count")
            and request.user.pk not in (count.counter_id, count.recounter_id),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/inventory/cyclecount/review.html", context)

    def schedule_view(self, request):
        if request.method != "POST" or not self.has_schedule_permission(request):
            raise PermissionDenied
        counts = services.cycle_counts_schedule_due(actor=request.user)
        self.message_user(request, f"{len(counts)} count(s) scheduled." if counts else "No counts are due.")
        return HttpResponseRedirect(reverse("admin:inventory_cyclecount_changelist"))

    def kpi_view(self, request):
        """Count accuracy, shrinkage by month, warehouse and class, repeated variances, reorder list."""
        if not request.user.has_perm("inventory.view_cyclecount"):
            raise PermissionDenied
        today = timezone.localdate()
        try:
            date_from = date.fromisoformat(request.GET.get("from", ""))
        except ValueError:
            date_from = today.replace(day=1) - timedelta(days=334)
            date_from = date_from.replace(day=1)
        try:
            date_to = date.fromisoformat(request.GET.get("to", ""))
        except ValueError:
            date_to = today
        accuracy = selectors.count_accuracy(date_from=date_from, date_to=date_to)
        shrink = selectors.shrinkage(date_from=date_from, date_to=date_to)
        biggest = max([row["shrinkage_value"] for row in shrink["by_month"]] or [Decimal("0")]) or Decimal("1")
        for row in shrink["by_month"]:
            row["bar"] = int(row["shrinkage_value"] * 100 / biggest)
        for row in accuracy["by_month"]:
            row["bar"] = int(row["accuracy_percent"] or 0)
        context = {
            **self.admin_site.each_context(request),
            "title": "Inventory KPIs",
            "date_from": date_from,
            "date_to": date_to,
            "accuracy": accuracy,
            "shrinkage": shrink,
            "repeated": list(selectors.items_with_repeated_variances(since=date_from)[:20]),
            "below": selectors.items_below_reorder_point()[:50],
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/inventory/cyclecount/kpis.html", context)
