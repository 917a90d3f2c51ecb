"""Every product is created and edited here, validated by the model's rules before it is saved.

Every writer of products calls these functions, so a product that breaks a rule
(specifications that are not a flat object, a currency other than USD, a bad id) is refused
whichever way it comes in. Catalog knows nothing of stock: a new product gets its stock record
from shop.services.product_open, which the admin, the demo loader and the test factories call.
"""

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TypedDict, Unpack

from django.core.exceptions import ValidationError
from django.db import transaction

from catalog.errors import ProductInvalid
from catalog.models import CURRENCY, Category, Product

SpecificationValue = str | int | float | bool


class ProductFields(TypedDict, total=False):
    public_id: str
    sku: str
    name: str
    category: Category
    manufacturer: str
    price: Decimal
    currency: str
    specifications: Mapping[str, SpecificationValue]
    warranty: str
    is_active: bool
    related_products: Iterable[Product]


EDITABLE_FIELDS = frozenset(ProductFields.__annotations__)


def _validate(product: Product, **options: object) -> None:
    try:
        product.full_clean(**options)
    except ValidationError as exc:
        raise ProductInvalid(exc, public_id=product.public_id) from None


@transaction.atomic
def product_create(
    *,
    public_id: str,
    sku: str,
    name: str,
    category: Category,
    manufacturer: str,
    price: Decimal,
    currency: str = CURRENCY,
    specifications: Mapping[str, SpecificationValue] | None = None,
    warranty: str = "",
    is_active: bool = True,
    related_products: Iterable[Product] = (),
    unit_cost: Decimal | None = None,
) -> Product:
    """Validate and save a new product (ProductInvalid lists every broken rule).

    `unit_cost` is the product's first cost (None: unknown). product_update never changes
    it; a cost changes through its own audited service.
    """
    product = Product(
        public_id=public_id,
        sku=sku,
        name=name,
        category=category,
        manufacturer=manufacturer,
        price=price,
        currency=currency,
        specifications={} if specifications is None else specifications,
        warranty=warranty,
        is_active=is_active,
        unit_cost=unit_cost,
    )
    _validate(product)
    product.save(force_insert=True)
    related = list(related_products)
    if related:
        product.related_products.set(related)
    return product


@transaction.atomic
def product_update(*, product: Product, **fields: Unpack[ProductFields]) -> Product:
    """Change the given fields of a product, validate the result, and save only those fields.

    Raise ProductInvalid, saving nothing, if the product would break a rule. `product` is
    changed in memory either way.
    """
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"product_update() got fields it cannot change: {sorted(unknown)}")
    related = fields.pop("related_products", None)
    for name, value in fields.items():
        setattr(product, name, value)
    _validate(product)
    if fields or related is not None:
        # Only the named columns: an edit of the price never rewrites a name changed meanwhile.
        # A change of related products alone moves updated_at too: they are in the product's
        # API body, and the product list's `updated_since` reads updated_at.
        product.save(update_fields=[*fields, "updated_at"])
    if related is not None:
        product.related_products.set(list(related))
    return product


@transaction.atomic
def product_bulk_create(*, products: Sequence[Product], batch_size: int = 2000) -> list[Product]:
    """Validate unsaved products like product_create does and insert them in batches.

    For large imports, in a fixed number of queries: categories are checked once for all
    products, and uniqueness is left to the database (an IntegrityError rolls back all).
    """
    category_ids = {product.category_id for product in products}
    known = set(Category.objects.filter(pk__in=category_ids).values_list("pk", flat=True))
    for product in products:
        if product.category_id not in known:
            raise ProductInvalid(
                ValidationError({"category": "Choose an existing category."}),
                public_id=product.public_id,
            )
        _validate(product, exclude={"category"}, validate_unique=False, validate_constraints=False)
    return Product.objects.bulk_create(products, batch_size=batch_size)
