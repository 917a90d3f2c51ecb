"""factory-boy factories shared by all tests. Products and their stock come from the shop service."""

import base64
import secrets
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from catalog.models import Category, Product
from orders.models import Customer, TaxRate
from shop.services import product_open
from techparts.actors import Actor
from techparts.events.types import ALL_TYPES
from webhooks import crypto
from webhooks.models import WebhookEndpoint


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@techparts.test")
    password = factory.django.Password("correct-horse-battery-staple")
    is_staff = True


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ["slug"]

    slug = factory.Sequence(lambda n: f"category-{n}")
    name = factory.LazyAttribute(lambda c: c.slug.replace("-", " ").title())


class ProductFactory(factory.django.DjangoModelFactory):
    """A product with a stock record; `stock=N` opens it with N units (ledgered).

    Created through the shop service like every product, so a factory product obeys the same
    rules as any other and has its stock record from the start.
    """

    class Meta:
        model = Product
        skip_postgeneration_save = True

    public_id = factory.Sequence(lambda n: f"PROD-TEST-{n:04d}")
    sku = factory.Sequence(lambda n: f"SKU-TEST-{n:04d}")
    name = factory.Sequence(lambda n: f"Test component {n}")
    category = factory.SubFactory(CategoryFactory)
    manufacturer = "Acme"
    price = Decimal("100.00")
    specifications = factory.LazyFunction(lambda: {"memory": "8GB"})
    warranty = "2 years"

    # Opening balance and threshold of the product's stock record (shop.services.product_open).
    stock = 10
    low_stock_threshold = 5

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return product_open(actor=Actor.system(), **kwargs)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer
        django_get_or_create = ["customer_id"]

    customer_id = factory.Sequence(lambda n: f"CUST-{100000 + n}")
    name = factory.Sequence(lambda n: f"Customer {n}")
    email = factory.LazyAttribute(lambda c: f"{c.customer_id.lower()}@example.com")


class TaxRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaxRate
        django_get_or_create = ["state"]

    state = "CA"
    rate = Decimal("0.08")


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    """A webhook endpoint with a fresh secret; its plaintext secret is on `.plain_secret`."""

    class Meta:
        model = WebhookEndpoint

    owner = "api_user_12345"
    url = factory.Sequence(lambda n: f"https://hooks{n}.example.com/techparts")
    event_types = factory.LazyFunction(lambda: list(ALL_TYPES))
    description = ""
    enabled = True
    created_by_key = None
    created_by = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
        endpoint = model_class.objects.create(
            public_id="we_" + secrets.token_hex(13), secret=crypto.seal(secret), **kwargs
        )
        endpoint.plain_secret = secret
        return endpoint
