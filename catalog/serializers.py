from rest_framework import serializers

from catalog.models import Product
from techparts.api.serializers import MoneyField


class RelatedProductSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id")
    price = MoneyField()
    in_stock = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = ["id", "sku", "name", "price", "in_stock"]

    def get_in_stock(self, product: Product) -> bool:
        stock = getattr(product, "stock", None)
        return stock is not None and stock.available > 0


class ProductSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id")
    category = serializers.CharField(source="category.slug")
    price = MoneyField()
    stock = serializers.IntegerField(source="available", help_text="Units available to order.")
    in_stock = serializers.SerializerMethodField()
    specifications = serializers.DictField(help_text="Technical specifications (free-form).")
    related_products = RelatedProductSerializer(many=True)

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
