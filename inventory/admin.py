"""Back office for stock: the stock list, audited corrections, and the read-only history.

Counts are never edited as fields: corrections go through StockCorrectionForm, which calls the
same services as the API, so every change is a ledger row naming the staff user.
"""

import uuid

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, F, IntegerField, QuerySet, Value, When
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from catalog.models import Product
from inventory import admin_overview  # noqa: F401 - registers Inventory > Stock overview
from inventory.admin_counts import (
    blind_ids,
    hidden_count_html,
    hidden_stock_response,
    without_blind,
)
from inventory.admin_imports import StockImportAdminMixin
from inventory.charts import stock_chart_svg
from inventory.counts import not_counted_condition
from inventory.exports import movement_csv_lines
from inventory.forms import StockCorrectionForm
from inventory.models import ApprovalRequest, StockMovement, StockRecord
from inventory.rules import available_expression, low_stock_condition
from inventory.selectors import movement_list, stock_history_points
from inventory.services import stock_threshold_set
from techparts.actors import Actor
from techparts.admin_input import GuardedModelAdminMixin, parse_object_id
from techparts.csv_export import csv_response
from techparts.database.replicas import replica_alias
from techparts.errors import DomainError

CORRECT = "inventory.correct_stock"
VIEW_HISTORY = "inventory.view_stockmovement"
EXPORT = "inventory.export_movements"


class ProductColumnsMixin:
    """The product's SKU and name as sortable list columns, for rows that belong to a product."""

    @admin.display(description="SKU", ordering="product__sku")
    def sku(self, row: StockRecord | StockMovement) -> str:
        return row.product.sku

    @admin.display(description="product", ordering="product__name")
    def product_name(self, row: StockRecord | StockMovement) -> str:
        return row.product.name


class StockLevelFilter(admin.SimpleListFilter):
    title = "stock level"
    parameter_name = "level"

    def lookups(self, request, model_admin):
        return [
            ("low", "Low stock (at or below threshold)"),
            ("out", "Out of stock (none available)"),
            ("ok", "Above threshold"),
        ]

    def queryset(self, request, queryset):
        # available_units is annotated by StockRecordAdmin.get_queryset.
        low = low_stock_condition(available="available_units")
        if self.value() == "low":
            return queryset.filter(low)
        if self.value() == "out":
            return queryset.filter(available_units__lte=0)
        if self.value() == "ok":
            return queryset.exclude(low)
        return queryset


class LastCountedFilter(admin.SimpleListFilter):
    """When the shelf was last counted (posted cycle counts); "not counted in" includes never."""

    title = "last counted"
    parameter_name = "counted"
    DAYS = {"over30": 30, "over90": 90, "over365": 365}

    def lookups(self, request, model_admin):
        return [
            ("never", "Never counted"),
            ("over30", "Not counted in 30 days"),
            ("over90", "Not counted in 90 days"),
            ("over365", "Not counted in a year"),
            ("within30", "Counted in the last 30 days"),
        ]

    def queryset(self, request, queryset):
        value, now = self.value(), timezone.now()
        if value == "never":
            return queryset.filter(last_counted_at__isnull=True)
        if value in self.DAYS:
            return queryset.filter(not_counted_condition(days=self.DAYS[value], now=now))
        if value == "within30":
            return queryset.exclude(not_counted_condition(days=30, now=now))
        return queryset


# Shown in place of counts on the stock page of a product the user is counting blind.
COUNT_FIELDS = ("on_hand", "reserved", "available", "low_stock", "updated_at")
# The stock record's columns behind those counts: a query-string filter on them (?on_hand=7)
# would list a product counted blind or not, and so tell its count.
COUNT_COLUMNS = frozenset({"on_hand", "reserved", "updated_at"})


@admin.register(StockRecord)
class StockRecordAdmin(
    StockImportAdminMixin, GuardedModelAdminMixin, ProductColumnsMixin, admin.ModelAdmin
):
    # On hand, reserved and available come from annotations that are empty for the products
    # the user counts blind (inventory.admin_counts.blind_ids): their values, sorting and the
    # stock-level filter never reveal those counts.
    list_display = [
        "product_name",
        "sku",
        "on_hand_shown",
        "reserved_shown",
        "available",
        "low_stock",
        "low_stock_threshold",
        "last_counted",
    ]
    list_display_links = ["product_name", "sku"]
    # By category too: the stock overview links to its category's low-stock records.
    list_filter = [
        StockLevelFilter,
        LastCountedFilter,
        ("product__category", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["product__sku", "product__name"]
    list_select_related = ["product"]
    ordering = ["product__sku"]
    fields = [
        "product",
        "sku",
        "on_hand",
        "reserved",
        "available",
        "low_stock",
        "low_stock_threshold",
        "last_counted_at",
        "updated_at",
    ]
    readonly_fields = [
        "product",
        "sku",
        "on_hand",
        "reserved",
        "available",
        "low_stock",
        "last_counted_at",
        "updated_at",
    ]

    def get_queryset(self, request):
        blind = blind_ids(request)

        def shown(units):
            if not blind:
                return units
            return Case(
                When(product_id__in=blind, then=Value(None)),
                default=units,
                output_field=IntegerField(),
            )

        return (
            super()
            .get_queryset(request)
            .annotate(
                available_units=shown(available_expression()),
                on_hand_units=shown(F("on_hand")),
                reserved_units=shown(F("reserved")),
            )
        )

    def _blind(self, request: HttpRequest, record: StockRecord | None) -> bool:
        return record is not None and record.product_id in blind_ids(request)

    def lookup_allowed(self, lookup, value, request):
        # Django allows filters on any own column; not on counts for a user counting blind.
        if lookup.split("__", 1)[0] in COUNT_COLUMNS and blind_ids(request):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_fields(self, request, obj=None):
        if self._blind(request, obj):
            return [f for f in self.fields if f not in COUNT_FIELDS] + ["counts_hidden"]
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if self._blind(request, obj):
            return [f for f in self.readonly_fields if f not in COUNT_FIELDS] + ["counts_hidden"]
        return super().get_readonly_fields(request, obj)

    @admin.display(description="on hand", ordering="on_hand_units")
    def on_hand_shown(self, record: StockRecord) -> int | str:
        return hidden_count_html() if record.on_hand_units is None else record.on_hand_units

    @admin.display(description="reserved", ordering="reserved_units")
    def reserved_shown(self, record: StockRecord) -> int | str:
        return hidden_count_html() if record.reserved_units is None else record.reserved_units

    @admin.display(description="on hand, reserved, available")
    def counts_hidden(self, record: StockRecord) -> str:
        return hidden_count_html()

    @admin.display(description="last counted", ordering="last_counted_at")
    def last_counted(self, record: StockRecord) -> str:
        if record.last_counted_at is None:
            return "never"
        return f"{timezone.localtime(record.last_counted_at):%Y-%m-%d}"

    def get_list_display(self, request):
        if request.user.has_perm(VIEW_HISTORY):
            return [*self.list_display, "history_link"]
        return self.list_display

    @admin.display(description="available", ordering="available_units")
    def available(self, record: StockRecord) -> int | str:
        if getattr(record, "available_units", 0) is None:
            return hidden_count_html()
        return record.available

    @admin.display(description="low stock", boolean=True)
    def low_stock(self, record: StockRecord) -> bool | None:
        if getattr(record, "available_units", 0) is None:
            return None  # shown as "unknown"
        return record.is_low

    @admin.display(description="history")
    def history_link(self, record: StockRecord) -> str:
        url = reverse("admin:inventory_stockrecord_movements", args=[record.pk])
        return format_html('<a href="{}" class="history-link">Chart &amp; history</a>', url)

    def has_add_permission(self, request):
        return False  # a stock record comes with its product

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        stock_threshold_set(product_id=obj.product_id, low_stock_threshold=obj.low_stock_threshold)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/correct/",
                wrap(self.correct_view),
                name="inventory_stockrecord_correct",
            ),
            path(
                "<path:object_id>/movements/",
                wrap(self.movements_view),
                name="inventory_stockrecord_movements",
            ),
            *self.import_urls(),  # inventory/admin_imports.py: CSV corrections
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        record = self.get_object(request, object_id)
        hidden = self._blind(request, record)
        extra = {
            "can_correct": request.user.has_perm(CORRECT) and not hidden,
            "can_view_history": request.user.has_perm(VIEW_HISTORY) and not hidden,
            "counts_hidden": hidden,
            "recent_movements": (
                movement_list(product_id=record.product_id)[:10] if record and not hidden else []
            ),
        }
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def _record(self, request: HttpRequest, object_id: str) -> StockRecord:
        return self.get_object_or_404(
            request, object_id, StockRecord.objects.select_related("product")
        )

    def _context(self, request: HttpRequest, record: StockRecord, title: str) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": record,
            "title": title,
            "has_view_permission": self.has_view_permission(request, record),
        }

    def correct_view(self, request: HttpRequest, object_id: str):
        """Show and apply the correction form; only clerks (correct_stock) may use it."""
        if not request.user.has_perm(CORRECT):
            raise PermissionDenied
        record = self._record(request, object_id)
        if self._blind(request, record):
            return hidden_stock_response(request, self._context(request, record, "Stock hidden"))
        if request.method == "POST":
            form = StockCorrectionForm(request.POST, record=record)
            if form.is_valid():
                try:
                    result = form.save(actor=Actor.staff(request.user))
                except DomainError as exc:
                    form = self._refreshed_form(request, exc)
                else:
                    if result.approval_request is not None:
                        return self._waits_for_approval(request, result.approval_request)
                    self.message_user(
                        request,
                        f"Stock of {record.product.sku} corrected: on hand "
                        f"{result.previous_on_hand} → {result.record.on_hand} ({result.change:+d}).",
                        messages.SUCCESS,
                    )
                    return redirect("admin:inventory_stockrecord_change", record.pk)
        else:
            form = StockCorrectionForm(record=record)
        context = {
            **self._context(request, record, f"Correct stock: {record.product.name}"),
            "form": form,
        }
        return TemplateResponse(request, "admin/inventory/stockrecord/correct.html", context)

    def _waits_for_approval(self, request: HttpRequest, approval: ApprovalRequest):
        held = (
            f" Its {approval.held} units are held out of available stock meanwhile."
            if approval.held
            else ""
        )
        self.message_user(
            request,
            f"This correction ({approval.on_hand_delta:+d}) needs a second person's approval: "
            f"{approval.threshold}. It waits as {approval.public_id}; nothing was applied yet."
            f"{held}",
            messages.WARNING,
        )
        return redirect("admin:inventory_approvalrequest_change", approval.pk)

    def _refreshed_form(self, request: HttpRequest, exc: DomainError) -> StockCorrectionForm:
        # The services refused against the current stock: show it, keep the clerk's input.
        fresh = self._record(request, request.resolver_match.kwargs["object_id"])
        data = request.POST.copy()
        data["expected_on_hand"] = str(fresh.on_hand)
        form = StockCorrectionForm(data, record=fresh)
        form.full_clean()
        form.add_error(None, exc.message)
        return form

    def movements_view(self, request: HttpRequest, object_id: str):
        """A product's stock over time (SVG chart) and its movements, for history readers."""
        if not request.user.has_perm(VIEW_HISTORY):
            raise PermissionDenied
        record = self._record(request, object_id)
        if self._blind(request, record):
            return hidden_stock_response(request, self._context(request, record, "Stock hidden"))
        page = Paginator(movement_list(product_id=record.product_id), 50).get_page(
            request.GET.get("page")
        )
        context = {
            **self._context(request, record, f"Stock history: {record.product.name}"),
            "chart": stock_chart_svg(
                stock_history_points(product_id=record.product_id), now=timezone.now()
            ),
            "page": page,
            "history_url": reverse("admin:inventory_stockmovement_changelist")
            + f"?product={record.product_id}",
            "can_export": request.user.has_perm(EXPORT),
            "export_url": reverse("admin:inventory_stockmovement_export")
            + f"?product={record.product_id}",
        }
        return TemplateResponse(request, "admin/inventory/stockrecord/movements.html", context)


class ProductFilter(admin.SimpleListFilter):
    """Filter by product id (linked from a product's history page); lists only the chosen one."""

    title = "product"
    parameter_name = "product"

    def lookups(self, request, model_admin):
        value = self.value()
        if not value:
            return []
        product_id = parse_object_id(Product, value)
        records = StockRecord.objects.select_related("product").filter(product_id=product_id)
        record = records.first() if product_id is not None else None
        # Listing the chosen value keeps the filter active, so a bad id is an error, not ignored.
        return [(value, record.product.sku if record else value)]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        product_id = parse_object_id(Product, value)
        if product_id is None:
            raise IncorrectLookupParameters(f"Invalid product id {value!r}")
        return queryset.filter(product_id=product_id)


class AdjustmentGroupFilter(admin.SimpleListFilter):
    """Filter by adjustment group (linked from each row that has one): every row of one action."""

    title = "adjustment group"
    parameter_name = "adjustment_group"

    def lookups(self, request, model_admin):
        value = self.value()
        # Listing the chosen value keeps the filter active, so a bad id is an error, not ignored.
        return [(value, value[:8])] if value else []

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        try:
            group = uuid.UUID(value)
        except ValueError as exc:
            raise IncorrectLookupParameters(f"Invalid adjustment group {value!r}") from exc
        return queryset.filter(adjustment_group=group)


@admin.register(StockMovement)
class StockMovementAdmin(GuardedModelAdminMixin, ProductColumnsMixin, admin.ModelAdmin):
    """The stock ledger: read-only for everyone, superusers included."""

    list_display = [
        "created_at",
        "sku",
        "product_name",
        "kind",
        "reason_code",
        "on_hand_change",
        "on_hand_after",
        "reserved_change",
        "reserved_after",
        "available_after",
        "actor_name",
        "source",
        "reason",
        "reference",
        "group",
    ]
    list_filter = [
        "kind",
        "reason_code",
        "source",
        ("actor_name", admin.AllValuesFieldListFilter),
        ProductFilter,
        AdjustmentGroupFilter,
    ]
    date_hierarchy = "created_at"
    search_fields = ["product__sku", "product__name", "reason", "reference"]
    list_select_related = ["product"]
    list_per_page = 100
    show_full_result_count = False
    readonly_fields = [field.name for field in StockMovement._meta.fields]

    def get_queryset(self, request):
        # Rows of products the user counts blind would show their counts: left out (the
        # export reads this queryset too).
        return without_blind(request, super().get_queryset(request))

    @admin.display(description="on hand ±", ordering="on_hand_delta")
    def on_hand_change(self, movement: StockMovement) -> str:
        return f"{movement.on_hand_delta:+d}"

    @admin.display(description="reserved ±", ordering="reserved_delta")
    def reserved_change(self, movement: StockMovement) -> str:
        return f"{movement.reserved_delta:+d}"

    @admin.display(description="adjustment group", ordering="adjustment_group")
    def group(self, movement: StockMovement) -> str:
        if movement.adjustment_group is None:
            return "-"
        url = reverse("admin:inventory_stockmovement_changelist")
        return format_html(
            '<a href="{}?adjustment_group={}" title="{}">{}</a>',
            url,
            movement.adjustment_group,
            movement.adjustment_group,
            str(movement.adjustment_group)[:8],
        )

    @admin.display(description="available after")
    def available_after(self, movement: StockMovement) -> int:
        return movement.available_after

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="inventory_stockmovement_export",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {"can_export": request.user.has_perm(EXPORT)}
        return super().changelist_view(request, {**extra, **(extra_context or {})})

    def filtered_queryset(self, request: HttpRequest) -> QuerySet[StockMovement]:
        """Return exactly the rows the change list shows for these query parameters, all pages."""
        return self.get_changelist_instance(request).queryset

    def export_view(self, request: HttpRequest):
        """Stream the filtered history as CSV (managers: export_movements)."""
        if not request.user.has_perm(EXPORT):
            raise PermissionDenied
        try:
            movements = self.filtered_queryset(request)
        except IncorrectLookupParameters:
            return HttpResponseRedirect(
                reverse("admin:inventory_stockmovement_changelist") + "?e=1"
            )
        filename = f"stock-history-{timezone.now():%Y%m%d-%H%M%S}.csv"
        # A report may lag the primary by the replicas' delay (docs/operations.md).
        movements = movements.using(replica_alias())
        return csv_response(movement_csv_lines(movements), filename=filename)


# Two-person approval's pages live in their own module; importing it registers them.
from inventory import admin_approvals  # noqa: E402, F401
