import json
from decimal import Decimal
from typing import Any

from django.db.models import F, JSONField, OuterRef, QuerySet, Subquery
from django.db.models.functions import JSONObject

from catalog.models import Product
from inventory.rules import available_expression
from techparts.database.compiled import CompiledValues
from techparts.database.lookups import AnyOf
from techparts.errors import NotFound

# The columns of a product row as the API renders it (shop.serializers.product_body), with
# `related` (the related products) added by product_get and product_rows_with_related.
PRODUCT_ROW_FIELDS = (
    "public_id",
    "sku",
    "name",
    "category__slug",
    "manufacturer",
    "price",
    "currency",
    "available",
    "specifications",
    "warranty",
    "created_at",
    "updated_at",
)


class _RelatedJSONField(JSONField):
    # Prices inside the JSON stay exact Decimals, as they are in their own column; one decoder
    # for every row (JSONField builds a decoder per value).
    _decoder = json.JSONDecoder(parse_float=Decimal)

    def from_db_value(self, value, expression, connection):
        return None if value is None else self._decoder.decode(value)


class RelatedProductsJSON(Subquery):
    """The active related products of the outer product as one JSON array, by public id.

    One correlated subquery instead of a prefetch query: `[{"id", "sku", "name", "price",
    "available"}, ...]`, ordered by the database's own collation of `public_id`.
    """

    output_field = _RelatedJSONField()
    # Aggregate ORDER BY on PostgreSQL; SQLite before 3.44 has none, but an aggregate reads
    # an ordered subquery in its order (SQLite never flattens it into an aggregate query).
    template = "(SELECT COALESCE(JSON_GROUP_ARRAY(JSON(r.item)), '[]') FROM (%(subquery)s ORDER BY sort_key) r)"
    postgresql_template = (
        "(SELECT COALESCE(JSONB_AGG(r.item ORDER BY r.sort_key), '[]') FROM (%(subquery)s) r)"
    )

    def __init__(self) -> None:
        through = Product.related_products.through
        items = (
            through.objects.filter(from_product=OuterRef("pk"), to_product__is_active=True)
            .order_by()
            .values(
                sort_key=F("to_product__public_id"),
                item=JSONObject(
                    id="to_product__public_id",
                    sku="to_product__sku",
                    name="to_product__name",
                    price="to_product__price",
                    available=available_expression(via="to_product__stock__"),
                ),
            )
        )
        super().__init__(items)

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template=self.postgresql_template, **extra_context)


def product_list() -> QuerySet:
    """Return the active products to filter, order and count; product_rows reads a page of them.

    Nothing is joined or annotated yet, so that counting a filtered list reads only what its
    filters need (a filter on `available` adds it with `with_available`).
    """
    return Product.objects.active()


def with_available(products: QuerySet) -> QuerySet:
    """Return `products` with `available` (inventory's one definition) to filter on."""
    return products.alias(available=available_expression(via="stock__"))


def product_rows(products: QuerySet) -> QuerySet:
    """Return `products` as rows of what the API renders, but their related products.

    Category slug and `available` come in the same row; `product_rows_with_related` adds the
    related products of a whole page in one more query.
    """
    return products.annotate(available=available_expression(via="stock__")).values(
        "id", *PRODUCT_ROW_FIELDS
    )


def product_rows_with_related(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add to each product row its active related products, `row["related"]`, in one query.

    Items as RelatedProductsJSON gives them, in the same order (the database's collation of
    the related product's public id). A page costs this one query whatever its size: one
    correlated subquery per row cost more to plan and run than the page itself.
    """
    related: dict[int, list[dict[str, Any]]] = {row["id"]: [] for row in rows}
    if not related:
        return rows
    for product_id, public_id, sku, name, price, available in _RELATED_OF.rows(ids=list(related)):
        related[product_id].append(
            {"id": public_id, "sku": sku, "name": name, "price": price, "available": available}
        )
    for row in rows:
        row["related"] = related[row["id"]]
    return rows


# The active related products of a list of products, compiled once per thread and database.
_RELATED_OF = CompiledValues(
    lambda ids: (
        Product.related_products.through.objects.filter(
            AnyOf(F("from_product_id"), ids), to_product__is_active=True
        )
        .annotate(available=available_expression(via="to_product__stock__"))
        .order_by("from_product_id", "to_product__public_id")
        .values_list(
            "from_product_id",
            "to_product__public_id",
            "to_product__sku",
            "to_product__name",
            "to_product__price",
            "available",
        )
    ),
    "ids",
    bind={"ids": AnyOf.bind},
)


# One product with its related products in one query, compiled once per thread and database.
_PRODUCT_WITH_RELATED = CompiledValues(
    lambda public_id: (
        Product.objects.active()
        .filter(public_id=public_id)
        .annotate(available=available_expression(via="stock__"), related=RelatedProductsJSON())
        .values(*PRODUCT_ROW_FIELDS, "related")[:1]
    ),
    "public_id",
)


def product_get(*, public_id: str) -> dict[str, Any]:
    """Return the row of one active product with its related products, or raise the seed's 404."""
    rows = _PRODUCT_WITH_RELATED.rows(public_id=public_id)
    if not rows:
        raise NotFound(f"Product with ID '{public_id}' does not exist")
    return rows[0]
