"""Every admin URL, custom views included, answers hostile ids and filter values without a 5xx.

The URLs come from the URL resolver (the admin site's and each ModelAdmin's get_urls()), and the
filter parameters from each ModelAdmin's own change list, so a new model, view or filter is
crawled without touching this file. A superuser and each role group crawl: pages differ by
permission. Wanted answers are 404, a redirect to the list (Django's "invalid filter" page), an
ignored value, 400 or 403; never a 5xx and never an exception.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern
from django.utils import timezone

from catalog.roles import GROUP_PERMISSIONS as CATALOG_ROLES
from inventory.counts import CountSelection, count_session_create
from inventory.roles import GROUP_PERMISSIONS as INVENTORY_ROLES
from orders.roles import GROUP_PERMISSIONS as ORDER_ROLES
from orders.services import OrderItem, ShippingAddress, order_create
from techparts.actors import Actor
from techparts.apikeys.services import api_key_create
from techparts.events.models import Event
from tests.factories import (
    CustomerFactory,
    ProductFactory,
    TaxRateFactory,
    UserFactory,
    WebhookEndpointFactory,
)
from webhooks.models import Delivery, DeliveryAttempt
from webhooks.roles import GROUP_PERMISSIONS as WEBHOOK_ROLES

pytestmark = pytest.mark.django_db

ROLES = ["superuser", *INVENTORY_ROLES, *ORDER_ROLES, *WEBHOOK_ROLES, *CATALOG_ROLES]
# Already URL-encoded: they go into paths and query strings as they are.
HOSTILE_IDS = ["abc", "%C2%B2", "0", "-1", "99999999999999999999", "%00", "1%00"]
HOSTILE_VALUES = [
    "abc",
    "%C2%B2",  # SUPERSCRIPT TWO: "²".isdigit() is true, int("²") fails
    "%D9%A1",  # ARABIC-INDIC DIGIT ONE: int() takes it
    "-1",
    "99999999999999999999",  # beyond 64 bits
    "9999",  # a year whose end is beyond datetime's range
    "%00",
    "x%00",
    "%FF%FE",  # not UTF-8
    "",
]
# Query parameters a change list reads besides its filters: search, ordering, page, ...
CHANGELIST_PARAMETERS = ["q", "o", "p", "all", "e", "_to_field", "_popup", "abc", "%00"]
PLACEHOLDER = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


@dataclass(frozen=True)
class AdminUrl:
    template: str  # "/admin/inventory/stockrecord/{object_id}/correct/"
    model_admin: admin.ModelAdmin | None

    @property
    def placeholders(self) -> set[str]:
        return set(re.findall(r"{(\w+)}", self.template))


def _route(pattern: URLPattern | URLResolver) -> str:
    if isinstance(pattern.pattern, RoutePattern):
        text = pattern.pattern._route
    else:
        text = pattern.pattern._regex.lstrip("^").rstrip("$")
    return PLACEHOLDER.sub(lambda m: "{" + (m.group(1) or m.group(2)) + "}", text)


def _walk(patterns, prefix: str) -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + _route(pattern))
        else:
            yield prefix + _route(pattern)


def admin_urls() -> list[AdminUrl]:
    """Return every URL of the admin site as a template, with the ModelAdmin it belongs to."""
    [site] = [
        p
        for p in get_resolver().url_patterns
        if isinstance(p, URLResolver) and p.namespace == "admin"
    ]
    owners = {
        f"/admin/{model._meta.app_label}/{model._meta.model_name}/": model_admin
        for model, model_admin in admin.site._registry.items()
    }
    return [
        AdminUrl(template, next((ma for p, ma in owners.items() if template.startswith(p)), None))
        for template in _walk(site.url_patterns, "/" + _route(site))
    ]


def request_as(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def list_parameters(model_admin: admin.ModelAdmin, user) -> list[str]:
    """Return the query parameters this change list reads: its filters', dates', and the rest."""
    changelist = model_admin.get_changelist_instance(request_as(user))
    names = [name for spec in changelist.filter_specs for name in spec.expected_parameters()]
    if model_admin.date_hierarchy:
        names += [f"{model_admin.date_hierarchy}__{part}" for part in ("year", "month", "day")]
    # A page of its own (the stock overview) names the parameters its form reads.
    names += getattr(model_admin, "query_parameters", ())
    return [*names, *CHANGELIST_PARAMETERS]


def valid_values(url: AdminUrl) -> dict[str, str]:
    model = url.model_admin.model if url.model_admin else Group
    first = model._default_manager.order_by("pk").first()
    object_id = str(first.pk) if first else "1"
    return {
        "object_id": object_id,
        "id": object_id,
        "content_type_id": str(ContentType.objects.get_for_model(model).pk),
        "app_label": model._meta.app_label,
        "url": "no-such-page/",
        "chart": "loss",  # the stock overview's CSV of one chart
    }


class Crawler:
    def __init__(self, user):
        self.user = user
        self.client = Client()
        self.client.force_login(user)
        self.failures: list[str] = []
        self.requests = 0
        self.pages = 0  # answered 200: the crawl reached real pages, not only refusals

    def _call(self, method: str, url: str, data=None) -> None:
        self.requests += 1
        try:
            # A savepoint per request, so that a failed query cannot spoil the next requests.
            with transaction.atomic():
                response = getattr(self.client, method)(url, data)
                if response.streaming:
                    b"".join(response.streaming_content)
        except Exception as exc:  # any exception is what the crawl looks for
            self.failures.append(f"{method} {url} {data or ''} raised {exc!r:.150}")
            return
        self.pages += response.status_code == 200
        if response.status_code >= 500:
            self.failures.append(f"{method} {url} {data or ''} answered {response.status_code}")

    def get(self, url: str) -> None:
        self._call("get", url)

    def post(self, url: str, data: dict) -> None:
        self._call("post", url, data)

    def crawl(self) -> None:
        for url in admin_urls():
            valid = valid_values(url)
            self.get(url.template.format(**valid))
            for name in url.placeholders:
                for hostile in HOSTILE_IDS:
                    self.get(url.template.format(**{**valid, name: hostile}))
            if url.model_admin and url.model_admin.has_view_permission(request_as(self.user)):
                self.crawl_lists(url, url.template.format(**valid))
        self.crawl_autocomplete()

    def crawl_lists(self, url: AdminUrl, base: str) -> None:
        """Filter change lists, exports, history pages and add forms with hostile values."""
        model_admin = url.model_admin
        if base.endswith("/add/"):
            parameters = list(model_admin.get_form(request_as(self.user)).base_fields)
        elif url.template.endswith(("/history/", "/delete/", "/change/", "/password/")):
            return  # they read no query parameters but _changelist_filters, a plain string
        else:  # the change list, and custom views that share its filters (export, movements)
            parameters = list_parameters(model_admin, self.user)
        for parameter in parameters:
            for value in HOSTILE_VALUES:
                self.get(f"{base}?{parameter}={value}")
        if model_admin.date_hierarchy and not url.placeholders:
            field = model_admin.date_hierarchy
            for value in HOSTILE_VALUES:
                self.get(f"{base}?{field}__year=2024&{field}__month={value}")
                self.get(f"{base}?{field}__year=2024&{field}__month=1&{field}__day={value}")
            self.get(f"{base}?{field}__year=9999&{field}__month=12")
            self.get(f"{base}?{field}__year=9999&{field}__month=12&{field}__day=31")
        if base.endswith(f"/{model_admin.model._meta.model_name}/"):
            for action in model_admin.get_actions(request_as(self.user)):
                for value in ["abc", "²", "-1", "99999999999999999999", "\x00"]:
                    self.post(base, {"action": action, "_selected_action": value, "index": 0})

    def crawl_autocomplete(self) -> None:
        for model, model_admin in admin.site._registry.items():
            for field in model_admin.get_autocomplete_fields(request_as(self.user)):
                query = f"app_label={model._meta.app_label}&model_name={model._meta.model_name}"
                for value in HOSTILE_VALUES:
                    self.get(f"/admin/autocomplete/?{query}&field_name={field}&term={value}")
                    self.get(f"/admin/autocomplete/?{query}&field_name={field}&page={value}")
                    self.get(f"/admin/autocomplete/?{query}&field_name={value}&term=a")


@pytest.fixture
def world(db):
    """One object of every model the admin shows, so valid ids and filter choices exist."""
    gpu = ProductFactory(sku="GPU-NV-4090-MSI-001", stock=20)
    cpu = ProductFactory(sku="CPU-AMD-5950X-001", stock=5)
    TaxRateFactory(state="CA", rate=Decimal("0.08"))
    order_create(
        customer=CustomerFactory(customer_id="CUST-789012"),
        items=[OrderItem(product=gpu, quantity=2), OrderItem(product=cpu, quantity=1)],
        shipping_address=ShippingAddress(
            street="1 Lane", city="San Francisco", state="CA", zip="94105", country="US"
        ),
        actor=Actor.system(),
    )
    api_key_create(name="ERP", owner="api_user_12345", scopes=["products:read"])
    endpoint = WebhookEndpointFactory(owner="api_user_12345")
    delivery = Delivery.objects.create(
        endpoint=endpoint,
        event=Event.objects.order_by("pk").first(),
        subject="sku:GPU-NV-4090-MSI-001",
        next_attempt_at=timezone.now(),
    )
    DeliveryAttempt.objects.create(
        delivery=delivery, number=1, started_at=timezone.now(), status_code=500, succeeded=False
    )
    counter = UserFactory(username="counter", is_superuser=True)
    count_session_create(
        name="Aisle 1",
        selection=CountSelection(skus=(cpu.sku,)),
        assignees=[counter],
        actor=counter,
    )


def user_for(role: str):
    if role == "superuser":
        return UserFactory(username="root", is_superuser=True)
    user = UserFactory(username="role-" + re.sub(r"\W+", "-", role.lower()))
    user.groups.add(Group.objects.get(name=role))
    return user


def assert_the_crawl_covers_every_role_and_every_kind_of_admin_url() -> None:
    templates = {url.template for url in admin_urls()}
    assert set(Group.objects.values_list("name", flat=True)) <= set(ROLES)
    assert {
        "/admin/inventory/stockrecord/{object_id}/correct/",
        "/admin/inventory/stockrecord/{object_id}/movements/",
        "/admin/inventory/stockmovement/export/",
        "/admin/inventory/stockoverview/",
        "/admin/inventory/stockoverview/csv/{chart}/",
        "/admin/webhooks/webhookendpoint/{object_id}/redeliver/",
        "/admin/webhooks/delivery/",
        "/admin/orders/order/",
        "/admin/auth/user/{id}/password/",
        "/admin/r/{content_type_id}/{object_id}/",
        "/admin/{app_label}/",
    } <= templates


@pytest.mark.parametrize("role", ROLES)
def test_no_admin_page_answers_5xx_to_hostile_ids_and_filters(world, role):
    assert_the_crawl_covers_every_role_and_every_kind_of_admin_url()
    crawler = Crawler(user_for(role))

    crawler.crawl()

    assert crawler.requests > 500
    assert crawler.pages > 50
    assert crawler.failures == [], (
        "\n".join(crawler.failures[:80]) + f"\n({len(crawler.failures)} in all)"
    )
