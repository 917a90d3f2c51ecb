from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from catalog.models import Category, Product
from inventory.models import StockRecord
from inventory.services import stock_open
from techparts.actors import Actor
from techparts.admin_input import GuardedModelAdminMixin


@admin.register(Category)
class CategoryAdmin(GuardedModelAdminMixin, admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class StockInline(admin.StackedInline):
    """Stock is shown here and changed only through audited corrections (inventory app)."""

    model = StockRecord
    fields = ["on_hand", "reserved", "available", "low_stock_threshold", "stock_links"]
    readonly_fields = fields
    can_delete = False
    extra = 0
    max_num = 0

    @admin.display(description="available")
    def available(self, record):
        return record.available

    @admin.display(description="stock")
    def stock_links(self, record):
        return format_html(
            '<a href="{}">Correct stock</a> · <a href="{}">History and chart</a>',
            reverse("admin:inventory_stockrecord_correct", args=[record.pk]),
            reverse("admin:inventory_stockrecord_movements", args=[record.pk]),
        )


@admin.register(Product)
class ProductAdmin(GuardedModelAdminMixin, admin.ModelAdmin):
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
    readonly_fields = ["created_at", "updated_at"]
    inlines = [StockInline]
    fieldsets = [
        (None, {"fields": ["public_id", "sku", "name", "category", "manufacturer", "is_active"]}),
        ("Price", {"fields": ["price", "currency"]}),
        ("Details", {"fields": ["specifications", "warranty", "related_products"]}),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(description="available")
    def available(self, product):
        stock = getattr(product, "stock", None)
        return stock.available if stock else 0

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            # Every product has a stock record from the start; units arrive via corrections.
            stock_open(balances={obj: 0}, actor=Actor.staff(request.user))
