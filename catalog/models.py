import math

from django.conf import settings
from django.core import validators
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models.lookups import Exact

from techparts.money import DECIMAL_PLACES, PRICE_MAX_DIGITS

# Upper-case letters/digits in hyphen-separated groups: PROD-4090-MSI-001, GPU-NV-4090-MSI-001.
CODE_PATTERN = r"^[A-Z0-9]+(?:-[A-Z0-9]+)+$"
code_validator = RegexValidator(
    CODE_PATTERN, "Use upper-case letters and digits in hyphen-separated groups."
)

# The store sells in one currency: order totals, tax and shipping are computed in it, so a
# product priced in another one would be charged the same number of dollars.
CURRENCY = "USD"
CURRENCY_CHOICES = [(CURRENCY, "US dollar (USD)")]

# Specifications are a flat JSON object of scalar values ({"memory": "24GB", "cores": 16}),
# bounded so that one product cannot bloat every catalog page.
MAX_SPECIFICATIONS = 50
MAX_SPECIFICATION_KEY_LENGTH = 100
MAX_SPECIFICATION_TEXT_LENGTH = 500
# Integers beyond this lose precision in JavaScript clients (Number.MAX_SAFE_INTEGER).
MAX_SPECIFICATION_INTEGER = 2**53 - 1
SPECIFICATIONS_HELP = (
    'A JSON object of names to text, numbers or true/false, e.g. {"memory": "24GB GDDR6X", '
    '"cuda_cores": 16384, "ray_tracing": true}. Use {} for none. '
    f"At most {MAX_SPECIFICATIONS} entries; no nested objects, lists or null."
)


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, str):
        return "text"
    return f"a {type(value).__name__}"


def _text_problem(text: str, limit: int) -> str | None:
    if len(text) > limit:
        return f"is longer than {limit} characters"
    if "\x00" in text:
        return "contains a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode text"
    return None


def _value_problem(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if abs(value) > MAX_SPECIFICATION_INTEGER:
            return f"is an integer beyond ±{MAX_SPECIFICATION_INTEGER}"
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else "is not a finite number"
    if isinstance(value, str):
        return _text_problem(value, MAX_SPECIFICATION_TEXT_LENGTH)
    return f"is {_json_kind(value)}; values must be text, a number or true/false"


def validate_specifications(value: object) -> None:
    """Refuse anything but a bounded JSON object whose values are text, numbers or booleans."""
    if not isinstance(value, dict):
        raise ValidationError(
            'Specifications must be a JSON object such as {"memory": "8GB"} (or {} for none), '
            f"not {_json_kind(value)}.",
            code="specifications_not_object",
        )
    problems = []
    if len(value) > MAX_SPECIFICATIONS:
        problems.append(
            f"Specifications have {len(value)} entries; at most {MAX_SPECIFICATIONS} are allowed."
        )
    for key, item in value.items():
        if not isinstance(key, str) or not key.strip():
            problems.append(f"Specification name {key!r} must be non-empty text.")
            continue
        problem = _text_problem(key, MAX_SPECIFICATION_KEY_LENGTH)
        if problem:
            problems.append(f"Specification name {key[:40]!r} {problem}.")
        problem = _value_problem(item)
        if problem:
            problems.append(f"Specification {key[:40]!r} {problem}.")
        if len(problems) >= 10:  # enough to act on; never an unbounded error page
            break
    if problems:
        raise ValidationError(problems, code="specifications_invalid")


class JSONType(models.Func):
    """The JSON type name of a JSON column's value: 'object', 'array', 'string', ..."""

    function = "JSON_TYPE"  # SQLite's name
    output_field = models.CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="JSONB_TYPEOF", **extra_context)


class Category(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class ProductQuerySet(models.QuerySet):
    def active(self) -> "ProductQuerySet":
        return self.filter(is_active=True)


class Product(models.Model):
    """A catalog product. Create and edit it through `catalog.services`, which validate it."""

    public_id = models.CharField(
        "product ID", max_length=64, unique=True, validators=[code_validator]
    )
    sku = models.CharField("SKU", max_length=64, unique=True, validators=[code_validator])
    name = models.CharField(max_length=200)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    manufacturer = models.CharField(max_length=100, db_index=True)
    price = models.DecimalField(
        max_digits=PRICE_MAX_DIGITS,
        decimal_places=DECIMAL_PLACES,
        validators=[MinValueValidator(0)],
    )
    # What one unit costs the store (USD), for valuing stock movements; None: unknown, which
    # value reports show as unknown, never as 0. Each stock ledger row copies it when written.
    unit_cost = models.DecimalField(
        max_digits=PRICE_MAX_DIGITS,
        decimal_places=DECIMAL_PLACES,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    currency = models.CharField(
        max_length=3,
        choices=CURRENCY_CHOICES,
        default=CURRENCY,
        help_text="TechParts sells in US dollars only; orders are totalled in USD.",
    )
    specifications = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_specifications],
        help_text=SPECIFICATIONS_HELP,
    )
    warranty = models.CharField(max_length=50, blank=True)
    related_products = models.ManyToManyField("self", symmetrical=False, blank=True)
    is_active = models.BooleanField(
        "active", default=True, help_text="Inactive products are hidden from the API."
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["public_id"]
        indexes = [
            # The active products by category: a narrow index over exactly what the API lists,
            # so counting a page's total (all active products, or one category's) is an
            # index-only scan once autovacuum has marked the table's pages all-visible.
            models.Index(
                fields=["category"],
                condition=models.Q(is_active=True),
                name="product_active_by_category",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gte=0), name="product_price_gte_0"),
            models.CheckConstraint(
                condition=models.Q(currency=CURRENCY), name="product_currency_usd"
            ),
            # The API renders specifications as an object: refuse anything else at the source,
            # raw SQL and bulk inserts included (values are checked by validate_specifications).
            models.CheckConstraint(
                condition=Exact(JSONType("specifications"), "object"),
                name="product_specifications_object",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.name}"

    def clean(self) -> None:
        # Model validation skips the field validators for "empty" values of a blank field
        # (None, [], ""), yet only {} is an empty set of specifications.
        value = self.specifications
        if not isinstance(value, dict) and value in validators.EMPTY_VALUES:
            try:
                validate_specifications(value)
            except ValidationError as exc:
                raise ValidationError({"specifications": exc.error_list}) from None


class ProductCostChange(models.Model):
    """One change of a product's unit cost: from what, to what, by whom, when.

    Written only by `catalog.services.product_cost_set`, in the transaction that changes the
    cost; never edited afterwards (the admin shows it read-only).
    """

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="cost_changes")
    # None: the cost was (or became) unknown.
    old_cost = models.DecimalField(
        max_digits=PRICE_MAX_DIGITS, decimal_places=DECIMAL_PLACES, null=True, blank=True
    )
    new_cost = models.DecimalField(
        max_digits=PRICE_MAX_DIGITS, decimal_places=DECIMAL_PLACES, null=True, blank=True
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="product_cost_changes",
    )
    # The username as it was (or "system"), kept if the user is renamed.
    changed_by_name = models.CharField(max_length=150)
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = "unit cost change"
        indexes = [models.Index(fields=["product", "-changed_at"], name="cost_change_by_product")]
        permissions = [("change_product_cost", "Can change a product's unit cost")]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.old_cost} -> {self.new_cost}"
