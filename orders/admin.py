from collections.abc import Callable

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from orders.models import Customer, Order, OrderLine, TaxRate
from orders.services import order_cancel, order_deliver, order_ship
from techparts.actors import Actor
from techparts.admin_input import GuardedModelAdminMixin
from techparts.errors import DomainError


@admin.register(Customer)
class CustomerAdmin(GuardedModelAdminMixin, admin.ModelAdmin):
    list_display = ["customer_id", "name", "email", "created_at"]
    search_fields = ["customer_id", "name", "email"]
    readonly_fields = ["created_at"]

    def has_delete_permission(self, request, obj=None):
        return False  # orders keep pointing at their customer


@admin.register(TaxRate)
class TaxRateAdmin(GuardedModelAdminMixin, admin.ModelAdmin):
    list_display = ["state", "rate", "percent", "updated_at"]
    search_fields = ["state"]
    ordering = ["state"]

    @admin.display(description="percent")
    def percent(self, rate: TaxRate) -> str:
        return f"{rate.rate * 100:.3f}".rstrip("0").rstrip(".") + "%"


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    fields = [
        "position",
        "product_public_id",
        "sku",
        "name",
        "unit_price",
        "quantity",
        "line_total",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["position"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(GuardedModelAdminMixin, admin.ModelAdmin):
    list_display = [
        "order_id",
        "customer",
        "status",
        "total",
        "currency",
        "owner",
        "created_at",
        "estimated_delivery",
    ]
    list_filter = ["status", "created_at", "estimated_delivery", "owner"]
    list_select_related = ["customer"]
    search_fields = [
        "=order_id",
        "customer__customer_id",
        "customer__name",
        "customer__email",
        "lines__sku",
    ]
    date_hierarchy = "created_at"
    inlines = [OrderLineInline]
    actions = ["mark_shipped", "mark_delivered", "mark_cancelled"]
    fieldsets = [
        (
            None,
            {"fields": ["order_id", "customer", "status", "status_changed_by", "tracking_link"]},
        ),
        ("Money", {"fields": ["subtotal", "tax", "shipping", "total", "currency"]}),
        (
            "Shipping address",
            {"fields": ["ship_street", "ship_city", "ship_state", "ship_zip", "ship_country"]},
        ),
        (
            "Dates",
            {
                "fields": [
                    "created_at",
                    "estimated_delivery",
                    "shipped_at",
                    "delivered_at",
                    "cancelled_at",
                    "updated_at",
                ]
            },
        ),
        ("Placed by", {"fields": ["api_key", "owner"]}),
    ]

    @admin.display(description="tracking link")
    def tracking_link(self, order: Order) -> str:
        # The public page shows status and dates only; the link is what the customer got.
        return format_html(
            '<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>',
            order.tracking_url,
            order.tracking_url,
        )

    def get_readonly_fields(self, request, obj=None):
        # Orders change only through the lifecycle actions, which move stock with them.
        return [field for fieldset in self.fieldsets for field in fieldset[1]["fields"]]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _apply(
        self,
        request: HttpRequest,
        queryset: QuerySet[Order],
        service: Callable[..., Order],
        done: str,
    ) -> None:
        actor = Actor.staff(request.user)
        succeeded = []
        for order in queryset.order_by("pk"):
            try:
                service(order=order, actor=actor)
            except DomainError as exc:
                self.message_user(request, f"{order.order_id}: {exc.message}", messages.ERROR)
            else:
                succeeded.append(order.order_id)
        if succeeded:
            self.message_user(
                request,
                f"{done} {len(succeeded)} order(s): {', '.join(succeeded)}.",
                messages.SUCCESS,
            )

    @admin.action(description="Mark selected orders shipped", permissions=["change"])
    def mark_shipped(self, request, queryset):
        self._apply(request, queryset, order_ship, "Shipped")

    @admin.action(description="Mark selected orders delivered", permissions=["change"])
    def mark_delivered(self, request, queryset):
        self._apply(request, queryset, order_deliver, "Delivered")

    @admin.action(
        description="Cancel selected orders (releases their stock)", permissions=["change"]
    )
    def mark_cancelled(self, request, queryset):
        self._apply(request, queryset, order_cancel, "Cancelled")
