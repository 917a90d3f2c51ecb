from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from catalog.models import Product
from techparts.api.serializers import MoneyField, datetime_text
from techparts.money import to_cents


# Component names stay those of the published schema.
@extend_schema_serializer(component_name="RelatedProduct")
class RelatedProductOutputSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id")
    price = MoneyField()
    in_stock = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = ["id", "sku", "name", "price", "in_stock"]

    def get_in_stock(self, product: Product) -> bool:
        # `available` is annotated by the caller on related products too.
        return product.available > 0


@extend_schema_serializer(component_name="Product")
class ProductOutputSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id")
    category = serializers.CharField(source="category.slug")
    price = MoneyField()
    stock = serializers.IntegerField(source="available", help_text="Units available to order.")
    in_stock = serializers.SerializerMethodField()
    specifications = serializers.DictField(help_text="Technical specifications (free-form).")
    related_products = RelatedProductOutputSerializer(many=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "name",
            "category",
            "manufacturer",
            "price",
            "currency",
            "stock",
            "in_stock",
            "specifications",
            "warranty",
            "created_at",
            "updated_at",
            "related_products",
        ]

    def get_in_stock(self, product: Product) -> bool:
        return product.available > 0


# The bodies the API sends are built by product_body from the rows of shop.selectors (product_get,
# product_rows): DRF's field machinery cost more per request than the whole query. The serializers above stay
# the schema's source, and tests check that both give the same bytes.


def _money(value: Any) -> Decimal:
    return to_cents(value if isinstance(value, Decimal) else Decimal(str(value)))


def product_body(row: dict[str, Any]) -> dict[str, Any]:
    """Return the API body of a product row, as ProductOutputSerializer documents it."""
    available = row["available"]
    return {
        "id": row["public_id"],
        "sku": row["sku"],
        "name": row["name"],
        "category": row["category__slug"],
        "manufacturer": row["manufacturer"],
        "price": _money(row["price"]),
        "currency": row["currency"],
        "stock": available,
        "in_stock": available > 0,
        "specifications": {str(k): v for k, v in row["specifications"].items()},
        "warranty": row["warranty"],
        "created_at": datetime_text(row["created_at"]),
        "updated_at": datetime_text(row["updated_at"]),
        "related_products": [
            {
                "id": item["id"],
                "sku": item["sku"],
                "name": item["name"],
                "price": _money(item["price"]),
                "in_stock": item["available"] > 0,
            }
            for item in row["related"]
        ],
    }
