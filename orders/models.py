import secrets
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from catalog.models import Product
from orders.rules import MAX_QUANTITY
from techparts.money import AMOUNT_MAX_DIGITS, DECIMAL_PLACES, PRICE_MAX_DIGITS

CUSTOMER_ID_PATTERN = r"^CUST-[A-Z0-9]+(?:-[A-Z0-9]+)*$"
STATE_PATTERN = r"^[A-Z]{2}$"


class Customer(models.Model):
    """A TechParts customer account that integrators place orders for."""

    customer_id = models.CharField(
        "customer ID",
        max_length=32,
        unique=True,
        validators=[RegexValidator(CUSTOMER_ID_PATTERN, "Use the form CUST-789012.")],
    )
    name = models.CharField(max_length=200)
    email = models.EmailField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["customer_id"]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.name}"


class TaxRate(models.Model):
    """Sales tax of a US state, applied to an order's subtotal; a state not listed pays none."""

    state = models.CharField(
        max_length=2,
        unique=True,
        validators=[RegexValidator(STATE_PATTERN, "Use the two-letter state code, e.g. CA.")],
        help_text="Two-letter US state code, e.g. CA.",
    )
    rate = models.DecimalField(
        max_digits=6,
        decimal_places=5,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text="A fraction: 0.08 is 8%.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["state"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rate__gte=0) & Q(rate__lte=1), name="tax_rate_between_0_and_1"
            )
        ]

    def __str__(self) -> str:
        return f"{self.state} {self.rate * 100:g}%"


def new_tracking_token() -> str:
    """Return a fresh tracking token: 192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


class Order(models.Model):
    """An order placed for a customer; its lines copy product data as it was at order time."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        CANCELLED = "cancelled", "Cancelled"

    # ORD-<year>-<number>, the number derived from the primary key once the row exists.
    order_id = models.CharField("order ID", max_length=40, unique=True, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    subtotal = models.DecimalField(max_digits=AMOUNT_MAX_DIGITS, decimal_places=DECIMAL_PLACES)
    tax = models.DecimalField(max_digits=AMOUNT_MAX_DIGITS, decimal_places=DECIMAL_PLACES)
    shipping = models.DecimalField(max_digits=AMOUNT_MAX_DIGITS, decimal_places=DECIMAL_PLACES)
    total = models.DecimalField(max_digits=AMOUNT_MAX_DIGITS, decimal_places=DECIMAL_PLACES)
    currency = models.CharField(max_length=3, default="USD")
    ship_street = models.CharField("street", max_length=200)
    ship_city = models.CharField("city", max_length=100)
    ship_state = models.CharField("state", max_length=2)
    ship_zip = models.CharField("ZIP code", max_length=10)
    ship_country = models.CharField("country", max_length=2, default="US")
    estimated_delivery = models.DateTimeField()
    api_key = models.ForeignKey(
        "apikeys.ApiKey",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
        help_text="The API key that placed the order (empty when placed by staff).",
    )
    owner = models.CharField(
        max_length=100,
        blank=True,
        db_index=True,
        help_text="Integrator owning the key that placed the order; its keys see the order.",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    shipped_at = models.DateTimeField(null=True, blank=True, editable=False)
    delivered_at = models.DateTimeField(null=True, blank=True, editable=False)
    cancelled_at = models.DateTimeField(null=True, blank=True, editable=False)
    status_changed_by = models.CharField(
        max_length=150, blank=True, help_text="Who made the last status change."
    )
    # The secret part of the public tracking link: order ids are sequential, so the id alone
    # must open nothing.
    tracking_token = models.CharField(
        max_length=64, unique=True, default=new_tracking_token, editable=False
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(subtotal__gte=0) & Q(tax__gte=0) & Q(shipping__gte=0),
                name="order_money_gte_0",
            ),
        ]

    def __str__(self) -> str:
        return self.order_id

    @property
    def tracking_url(self) -> str:
        """Return the public tracking link: the order id, then the token that unlocks it."""
        return f"{settings.PUBLIC_BASE_URL}/track/{self.order_id}/{self.tracking_token}"

    @property
    def shipping_address(self) -> dict[str, str]:
        return {
            "street": self.ship_street,
            "city": self.ship_city,
            "state": self.ship_state,
            "zip": self.ship_zip,
            "country": self.ship_country,
        }


class OrderLine(models.Model):
    """One line of an order: product, quantity and the price it was sold at."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(help_text="Line number in the request, from 1.")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_lines")
    product_public_id = models.CharField("product ID", max_length=64)
    sku = models.CharField("SKU", max_length=64, db_index=True)
    name = models.CharField(max_length=200)
    unit_price = models.DecimalField(max_digits=PRICE_MAX_DIGITS, decimal_places=DECIMAL_PLACES)
    quantity = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_QUANTITY)]
    )
    line_total = models.DecimalField(max_digits=AMOUNT_MAX_DIGITS, decimal_places=DECIMAL_PLACES)

    class Meta:
        ordering = ["order_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["order", "position"], name="order_line_position"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="order_line_quantity_gte_1"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"
