from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

# Upper-case letters/digits in hyphen-separated groups: PROD-4090-MSI-001, GPU-NV-4090-MSI-001.
CODE_PATTERN = r"^[A-Z0-9]+(?:-[A-Z0-9]+)+$"
code_validator = RegexValidator(
    CODE_PATTERN, "Use upper-case letters and digits in hyphen-separated groups."
)


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
    public_id = models.CharField(
        "product ID", max_length=64, unique=True, validators=[code_validator]
    )
    sku = models.CharField("SKU", max_length=64, unique=True, validators=[code_validator])
    name = models.CharField(max_length=200)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    manufacturer = models.CharField(max_length=100, db_index=True)
    price = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(0)])
    currency = models.CharField(max_length=3, default="USD")
    specifications = models.JSONField(default=dict, blank=True)
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
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gte=0), name="product_price_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.name}"
