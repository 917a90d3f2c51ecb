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

from catalog.errors import CostChangeForbidden, CostInvalid, ProductInvalid
from catalog.models import CURRENCY, Category, Product, ProductCostChange
from catalog.roles import CHANGE_COST
from techparts.actors import SOURCE_SYSTEM, Actor

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
) -> Product:
    """Validate and save a new product (ProductInvalid lists every broken rule).

    It starts without a unit cost: costs are written by product_cost_set alone, which keeps
    their history (shop.services.product_open gives a new product its first one).
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


# A unit cost is what the product's unit_cost column holds: 0 to 99,999,999.99, in cents.
COST_PLACES = Decimal("0.01")
COST_MAX = Decimal("99999999.99")


def may_change_cost(actor: Actor) -> bool:
    """Return whether `actor` may change unit costs: Catalog managers, superusers, the system."""
    if actor.source == SOURCE_SYSTEM:
        return True
    user = actor.user
    return user is not None and user.is_active and user.has_perm(CHANGE_COST)


def _clean_cost(unit_cost: Decimal | None) -> Decimal | None:
    if unit_cost is None:
        return None
    if not isinstance(unit_cost, Decimal) or not unit_cost.is_finite():
        raise CostInvalid(f"A unit cost must be an amount such as 12.50, not {unit_cost!r}.")
    if unit_cost < 0 or unit_cost > COST_MAX:
        raise CostInvalid(f"A unit cost must be between 0 and {COST_MAX}, not {unit_cost}.")
    if unit_cost != unit_cost.quantize(COST_PLACES):
        raise CostInvalid(f"A unit cost has at most two decimals (cents), not {unit_cost}.")
    return unit_cost.quantize(COST_PLACES)


@transaction.atomic
def product_cost_set(
    *, product: Product, unit_cost: Decimal | None, actor: Actor
) -> ProductCostChange | None:
    """Set the product's unit cost (None: unknown) and keep the change in its cost history.

    Stock movements from now on are valued at the new cost; earlier ones keep theirs. Return
    the history row, or None when the cost is already that (nothing is written). Raise
    CostChangeForbidden unless the actor is a Catalog manager, a superuser or the system, and
    CostInvalid for an amount the column cannot hold; either way nothing changes.
    """
    if not may_change_cost(actor):
        raise CostChangeForbidden(
            "Only Catalog managers and superusers may change a product's unit cost."
        )
    unit_cost = _clean_cost(unit_cost)
    # Under a row lock, so two managers changing one cost at once each record the cost their
    # change replaced, and the history chains from one value to the next.
    locked = Product.objects.select_for_update().only("id", "unit_cost").get(pk=product.pk)
    old_cost = locked.unit_cost
    product.unit_cost = unit_cost
    if old_cost == unit_cost:
        return None
    locked.unit_cost = unit_cost
    locked.save(update_fields=["unit_cost", "updated_at"])
    product.updated_at = locked.updated_at
    return ProductCostChange.objects.create(
        product=product,
        old_cost=old_cost,
        new_cost=unit_cost,
        changed_by=actor.user,
        changed_by_name=actor.name,
    )
