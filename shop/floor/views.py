"""The floor of each endpoint: one bare Django view per endpoint, see shop/floor/__init__.py.

No authentication on purpose: these views are never routed outside a bench run.
"""

import json
import uuid
from datetime import timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from catalog.models import Product
from inventory.models import StockMovement, StockRecord
from orders.models import Customer, Order, OrderLine
from shop.selectors import PRODUCT_ROW_FIELDS
from techparts.actors import SOURCE_API

# The columns the product endpoints render (their related products aside), read in one query:
# the selector's own list, with the stock counts in place of `available`.
PRODUCT_FIELDS = (
    *(name for name in PRODUCT_ROW_FIELDS if name != "available"),
    "stock__on_hand",
    "stock__reserved",
)
ACTOR_NAME = "bench-floor"


@require_GET
def product_detail(request: HttpRequest, public_id: str) -> JsonResponse:
    """Read one product and its stock in one query."""
    row = (
        Product.objects.filter(public_id=public_id, is_active=True).values(*PRODUCT_FIELDS).first()
    )
    if row is None:
        return JsonResponse({"error": "not_found"}, status=404)
    return JsonResponse(row)


@require_GET
def product_list(request: HttpRequest) -> JsonResponse:
    """Read one page of products (page_size, at most 100) and their stock in one query."""
    size = min(int(request.GET.get("page_size", "20")), 100)
    rows = list(
        Product.objects.filter(is_active=True).order_by("public_id").values(*PRODUCT_FIELDS)[:size]
    )
    return JsonResponse({"results": rows})


@csrf_exempt
@require_http_methods(["PATCH"])
def stock_set(request: HttpRequest, sku: str) -> JsonResponse:
    """Set on-hand by SKU: one UPDATE returning the old count, one ledger INSERT."""
    quantity = int(json.loads(request.body)["quantity"])
    stock = StockRecord._meta.db_table
    product = Product._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        # The old count comes from the locked row in the same statement.
        cursor.execute(
            # The version moves with the ledger row (one per change), as the real path's does.
            f"UPDATE {stock} AS s SET on_hand = %s, updated_at = %s, "  # noqa: S608 (table names)
            "version = s.version + (CASE WHEN old.on_hand = %s THEN 0 ELSE 1 END) "
            f"FROM (SELECT r.product_id, r.on_hand FROM {stock} r JOIN {product} p "
            "ON p.id = r.product_id WHERE p.sku = %s FOR UPDATE OF r) AS old "
            "WHERE s.product_id = old.product_id "
            "RETURNING s.product_id, old.on_hand, s.reserved, s.version",
            [quantity, timezone.now(), quantity, sku],
        )
        found = cursor.fetchone()
        if found is None:
            return JsonResponse({"error": "not_found"}, status=404)
        product_id, previous, reserved, version = found
        if quantity != previous:
            StockMovement.objects.bulk_create(
                [
                    _movement(
                        product_id,
                        "correction",
                        quantity - previous,
                        0,
                        quantity,
                        reserved,
                        version,
                    )
                ]
            )
    return JsonResponse({"sku": sku, "quantity": quantity, "previous_quantity": previous})


@csrf_exempt
@require_http_methods(["POST"])
def order_create(request: HttpRequest) -> JsonResponse:
    """Insert an order: read products and customer, insert order, lines, reservations."""
    body = json.loads(request.body)
    quantities = {item["product_id"]: int(item["quantity"]) for item in body["items"]}
    products = {
        p["public_id"]: p
        for p in Product.objects.filter(public_id__in=list(quantities)).values(
            "id", "public_id", "sku", "name", "price"
        )
    }
    customer_id = Customer.objects.filter(customer_id=body["customer_id"]).values_list(
        "id", flat=True
    )[0]
    address = body["shipping_address"]
    now = timezone.now()
    subtotal = sum((p["price"] * quantities[pid] for pid, p in products.items()), Decimal(0))
    with transaction.atomic():
        order = Order.objects.create(
            order_id=f"FLOOR-{uuid.uuid4().hex}",
            customer_id=customer_id,
            subtotal=subtotal,
            tax=Decimal(0),
            shipping=Decimal(0),
            total=subtotal,
            ship_street=address["street"],
            ship_city=address["city"],
            ship_state=address["state"],
            ship_zip=address["zip"],
            estimated_delivery=now + timedelta(days=3),
            owner=ACTOR_NAME,
            created_at=now,
        )
        OrderLine.objects.bulk_create(
            OrderLine(
                order=order,
                position=position,
                product_id=p["id"],
                product_public_id=p["public_id"],
                sku=p["sku"],
                name=p["name"],
                unit_price=p["price"],
                quantity=quantities[p["public_id"]],
                line_total=p["price"] * quantities[p["public_id"]],
            )
            for position, p in enumerate(products.values(), start=1)
        )
        reserved = _reserve({p["id"]: quantities[pid] for pid, p in products.items()})
        StockMovement.objects.bulk_create(
            _movement(product_id, "reservation", 0, units, on_hand, after, version)
            for product_id, units, on_hand, after, version in reserved
        )
    return JsonResponse({"order_id": order.order_id, "total": subtotal}, status=201)


def _reserve(units: dict[int, int]) -> list[tuple[int, int, int, int, int]]:
    """Add units to reserved in one UPDATE, in product order; return the counts and versions
    after."""
    stock = StockRecord._meta.db_table
    ids = sorted(units)
    values = ", ".join(["(%s, %s)"] * len(ids))
    params = [value for product_id in ids for value in (product_id, units[product_id])]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {stock} AS s SET reserved = s.reserved + v.units, "  # noqa: S608
            "version = s.version + 1 "
            f"FROM (VALUES {values}) AS v(product_id, units) "
            "WHERE s.product_id = v.product_id RETURNING s.product_id, v.units, s.on_hand, "
            "s.reserved, s.version",
            params,
        )
        return cursor.fetchall()


def _movement(
    product_id: int,
    kind: str,
    on_hand_delta: int,
    reserved_delta: int,
    on_hand: int,
    reserved: int,
    version: int,
) -> StockMovement:
    return StockMovement(
        product_id=product_id,
        kind=kind,
        on_hand_delta=on_hand_delta,
        reserved_delta=reserved_delta,
        on_hand_after=on_hand,
        reserved_after=reserved,
        version=version,
        reason="bench floor",
        source=SOURCE_API,
        actor_name=ACTOR_NAME,
    )


@require_GET
def inventory_list(request: HttpRequest) -> JsonResponse:
    """Read one page of stock records (limit, at most 1000) with their products in one query."""
    size = min(int(request.GET.get("limit", "100")), 1000)
    rows = list(
        StockRecord.objects.order_by("product_id").values(
            "product__sku",
            "product__public_id",
            "product__name",
            "on_hand",
            "reserved",
            "low_stock_threshold",
            "updated_at",
        )[:size]
    )
    return JsonResponse({"results": rows})


@require_GET
def inventory_changes(request: HttpRequest) -> JsonResponse:
    """Read the feed's first page (limit, at most 1000): ledger rows below the horizon, in order.

    The horizon condition is work the feed cannot avoid, so the floor does it too (PostgreSQL).
    """
    size = min(int(request.GET.get("limit", "100")), 1000)
    ledger = StockMovement._meta.db_table
    product = Product._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT m.id, m.xact, m.kind, m.on_hand_delta, m.reserved_delta, "  # noqa: S608
            "m.on_hand_after, m.reserved_after, m.reason_code, m.created_at, p.sku, p.public_id "
            f"FROM {ledger} m JOIN {product} p ON p.id = m.product_id "
            "WHERE m.xact < pg_snapshot_xmin(pg_current_snapshot())::text::bigint "
            "ORDER BY m.xact, m.id LIMIT %s",
            [size],
        )
        rows = cursor.fetchall()
    return JsonResponse({"results": rows})
