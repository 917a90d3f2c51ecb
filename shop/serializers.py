from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from catalog.models import Product
from techparts.api.serializers import MoneyField


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
        # `available` is annotated by shop.selectors.product_list on related products too.
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
