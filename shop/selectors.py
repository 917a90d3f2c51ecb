import functools
import json
from decimal import Decimal
from typing import Any

from django.db.models import F, JSONField, OuterRef, QuerySet, Subquery
from django.db.models.functions import JSONObject

from catalog.models import Product
from inventory.rules import available_expression
from techparts.errors import NotFound

# The columns of a product row as the API renders it (shop.serializers.product_body).
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
    "related",
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
    """Return active products as rows of everything the API renders, one query per page.

    Category slug, `available` (inventory's one definition) and the related products with
    theirs come in the same row, so a product costs one query and a page two (count + rows).
    """
    # A clone of a queryset built once per process, as DRF does with a view's `queryset`:
    # resolving the annotations cost more than running the query.
    return _product_rows().all()


@functools.cache
def _product_rows() -> QuerySet:
    return (
        Product.objects.active()
        .annotate(available=available_expression(via="stock__"), related=RelatedProductsJSON())
        .values(*PRODUCT_ROW_FIELDS)
    )


def product_get(*, public_id: str) -> dict[str, Any]:
    """Return the row of one active product, or raise the seed's 404."""
    row = product_list().filter(public_id=public_id).first()
    if row is None:
        raise NotFound(f"Product with ID '{public_id}' does not exist")
    return row
