"""The product admin: catalog fields, with the stock record shown and opened alongside."""

from django.contrib import admin
from django.db.models import BooleanField, Case, ExpressionWrapper, Value, When
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from catalog.forms import ProductAdminForm
from catalog.models import Product
from catalog.services import EDITABLE_FIELDS, may_change_cost, product_cost_set, product_update
from inventory.admin_counts import blind_ids, hidden_count_html
from inventory.models import StockRecord
from shop.services import product_open
from techparts.actors import Actor
from techparts.admin_input import GuardedModelAdminMixin

# The latest changes shown on the product page (the list is read newest first).
COST_HISTORY_SHOWN = 20


def _cost(value) -> str:
    return "unknown" if value is None else f"{value:,.2f}"


class StockInline(admin.StackedInline):
    """Stock is shown here and changed only through audited corrections (inventory app)."""

    model = StockRecord
    fields = ["on_hand", "reserved", "available", "low_stock_threshold", "stock_links"]
    readonly_fields = fields
    can_delete = False
    extra = 0
    max_num = 0

    def get_fields(self, request, obj=None):
        # A clerk counting this product blind (inventory.counts) sees no counts of it.
        if obj is not None and obj.pk in blind_ids(request):
            return ["counts_hidden", "low_stock_threshold", "stock_links"]
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    @admin.display(description="available")
    def available(self, record):
        return record.available

    @admin.display(description="on hand, reserved, available")
    def counts_hidden(self, record):
        return hidden_count_html()

    @admin.display(description="stock")
    def stock_links(self, record):
        return format_html(
            '<a href="{}">Correct stock</a> · <a href="{}">History and chart</a>',
            reverse("admin:inventory_stockrecord_correct", args=[record.pk]),
            reverse("admin:inventory_stockrecord_movements", args=[record.pk]),
        )


@admin.register(Product)
class ProductAdmin(GuardedModelAdminMixin, admin.ModelAdmin):
    form = ProductAdminForm
    list_display = [
        "public_id",
        "sku",
        "name",
        "category",
        "manufacturer",
        "price",
        "available",
        "is_active",
    ]
    list_filter = ["category", "manufacturer", "is_active"]
    search_fields = ["public_id", "sku", "name", "manufacturer"]
    list_select_related = ["category", "stock"]
    autocomplete_fields = ["related_products"]
    readonly_fields = ["created_at", "updated_at", "cost_history"]
    inlines = [StockInline]
    fieldsets = [
        (None, {"fields": ["public_id", "sku", "name", "category", "manufacturer", "is_active"]}),
        ("Price and cost", {"fields": ["price", "currency", "unit_cost", "cost_history"]}),
        ("Details", {"fields": ["specifications", "warranty", "related_products"]}),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]

    def get_queryset(self, request):
        # Products the user counts blind (inventory.counts) show no available count.
        blind = blind_ids(request)
        hidden = (
            Case(When(pk__in=blind, then=Value(True)), default=Value(False))
            if blind
            else Value(False)
        )
        return (
            super()
            .get_queryset(request)
            .annotate(stock_hidden=ExpressionWrapper(hidden, output_field=BooleanField()))
        )

    def get_readonly_fields(self, request, obj=None):
        # Only Catalog managers and superusers change costs; everyone else sees it read-only.
        fields = list(super().get_readonly_fields(request, obj))
        if not may_change_cost(Actor.staff(request.user)):
            fields.append("unit_cost")
        return fields

    @admin.display(description="unit cost history")
    def cost_history(self, product):
        if product.pk is None:
            return "-"
        changes = product.cost_changes.all()[:COST_HISTORY_SHOWN]
        if not changes:
            return "No changes recorded."
        return format_html(
            '<table class="cost-history"><thead><tr><th scope="col">When (UTC)</th>'
            '<th scope="col">By</th><th scope="col">Old</th><th scope="col">New</th></tr>'
            "</thead><tbody>{}</tbody></table>",
            format_html_join(
                "",
                '<tr class="cost-change"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
                (
                    (
                        f"{change.changed_at:%Y-%m-%d %H:%M:%S}",
                        change.changed_by_name,
                        _cost(change.old_cost),
                        _cost(change.new_cost),
                    )
                    for change in changes
                ),
            ),
        )

    @admin.display(description="available")
    def available(self, product):
        if getattr(product, "stock_hidden", False):
            return hidden_count_html()
        stock = getattr(product, "stock", None)
        return stock.available if stock else 0

    def save_model(self, request, obj, form, change):
        # Through the shop and catalog services, like every other writer of products. The form has
        # already run the same model validation, so the service refuses nothing new here.
        # The admin's changeform runs in one transaction: product and cost change commit together.
        actor = Actor.staff(request.user)
        fields = {
            name: value
            for name, value in form.cleaned_data.items()
            if name in EDITABLE_FIELDS and name != "unit_cost"
        }
        cost_changed = "unit_cost" in form.changed_data
        if change:
            product_update(product=obj, **{n: fields[n] for n in form.changed_data if n in fields})
            if cost_changed:  # the one writer of costs, which keeps the history
                product_cost_set(product=obj, unit_cost=form.cleaned_data["unit_cost"], actor=actor)
            return
        # Every product has a stock record from the start; units arrive via corrections. A
        # first cost goes through the cost service inside product_open.
        product = product_open(
            actor=actor,
            unit_cost=form.cleaned_data["unit_cost"] if cost_changed else None,
            **fields,
        )
        # The admin goes on with its own instance (inlines, log entry, redirect).
        vars(obj).update(vars(product))

    def save_related(self, request, form, formsets, change):
        # Related products were saved by the catalog service; only the stock inline is left.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)
