"""What the back office answers to odd ids and filter values: 404, the invalid-filter page, or
the value is ignored. The crawl (test_admin_crawl.py) checks every URL for "never 5xx"; these
pin the answer for each kind of input."""

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import get_resolver

from techparts.admin_input import GuardedModelAdminMixin, parse_ascii_int
from techparts.apikeys.models import ApiKey
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

HISTORY = "/admin/inventory/stockmovement/"
EXPORT = "/admin/inventory/stockmovement/export/"
INVALID_FILTER = f"{HISTORY}?e=1"


def client_as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def root():
    return UserFactory(username="root", is_superuser=True)


@pytest.fixture
def rtx():
    return ProductFactory(sku="GPU-NV-4090-MSI-001", stock=23)


def test_every_admin_page_is_guarded():
    get_resolver().url_patterns  # noqa: B018 - loading the URLs re-registers Django's admins

    unguarded = [
        type(model_admin).__name__
        for model_admin in admin.site._registry.values()
        if not isinstance(model_admin, GuardedModelAdminMixin)
    ]

    assert unguarded == []


ODD_IDS = ["abc", "%C2%B2", "%D9%A1", "0", "-1", "99999999999999999999", "1.0", "%00"]


@pytest.mark.parametrize("view", ["correct", "movements"])
def test_custom_stock_pages_answer_404_to_ids_no_record_has(root, rtx, view):
    client = client_as(root)

    statuses = {
        object_id: client.get(f"/admin/inventory/stockrecord/{object_id}/{view}/").status_code
        for object_id in ODD_IDS
    }

    assert statuses == dict.fromkeys(ODD_IDS, 404)


@pytest.mark.parametrize("url", [HISTORY, EXPORT])
def test_product_filter_with_a_value_no_product_has_goes_to_the_invalid_filter_page(root, rtx, url):
    client = client_as(root)
    values = ["%C2%B2", "%D9%A1", "99999999999999999999", "-1", "abc"]

    answers = {value: client.get(f"{url}?product={value}") for value in values}

    assert {v: (r.status_code, r["Location"]) for v, r in answers.items()} == dict.fromkeys(
        values, (302, INVALID_FILTER)
    )


@pytest.mark.parametrize(
    "query",
    [
        "actor_name=x%00",
        "kind__exact=%00",
        "source__exact=%00",
        "q=%00",
        "q=ok%00",
        "created_at__year=2024%00",
        "%00=1",
    ],
)
@pytest.mark.parametrize("url", [HISTORY, EXPORT])
def test_a_nul_byte_in_an_admin_query_string_is_not_found(root, rtx, url, query):
    assert client_as(root).get(f"{url}?{query}").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/admin/orders/order/?status=%00",
        "/admin/orders/order/?status__exact=%00",
        "/admin/auth/user/?q=%00",
        "/admin/catalog/product/?manufacturer=%00",
        "/admin/autocomplete/?app_label=catalog&model_name=product"
        "&field_name=related_products&term=%00",
    ],
)
def test_a_nul_byte_is_not_found_on_every_admin_page(root, rtx, url):
    assert client_as(root).get(url).status_code == 404


DRILL_DOWNS_BEYOND_THE_CALENDAR = [
    "created_at__year=99999999999999999999",
    "created_at__year=9999",  # the year's end is beyond datetime's range
    "created_at__year=2024&created_at__month=99999999999999999999",
    "created_at__year=9999&created_at__month=12",
    "created_at__year=9999&created_at__month=12&created_at__day=31",
    "created_at__year=2024&created_at__month=1&created_at__day=%C2%B2",
    "created_at__year=0",
]


@pytest.mark.parametrize("url", [HISTORY, EXPORT, "/admin/orders/order/"])
def test_date_drill_down_beyond_the_calendar_goes_to_the_invalid_filter_page(root, rtx, url):
    client = client_as(root)

    answers = {query: client.get(f"{url}?{query}") for query in DRILL_DOWNS_BEYOND_THE_CALENDAR}

    list_url = url.replace("export/", "")
    assert {q: (r.status_code, r["Location"]) for q, r in answers.items()} == dict.fromkeys(
        DRILL_DOWNS_BEYOND_THE_CALENDAR, (302, f"{list_url}?e=1")
    )


def test_an_action_on_ids_no_row_has_changes_nothing(root, make_api_key):
    key, _ = make_api_key()

    response = client_as(root).post(
        "/admin/apikeys/apikey/",
        {
            "action": "revoke",
            "_selected_action": ["abc", "²", "99999999999999999999", "\x00"],
            "index": 0,
        },
        follow=True,
    )

    assert response.status_code == 200
    assert "Items must be selected" in response.content.decode()
    key.refresh_from_db()
    assert not key.is_revoked


def test_an_action_ignores_odd_ids_next_to_real_ones(root, make_api_key):
    key, _ = make_api_key()
    other, _ = make_api_key(name="other")

    client_as(root).post(
        "/admin/apikeys/apikey/",
        {"action": "revoke", "_selected_action": [str(key.pk), "abc", "²"], "index": 0},
    )

    assert ApiKey.objects.get(pk=key.pk).is_revoked
    assert not ApiKey.objects.get(pk=other.pk).is_revoked


@pytest.mark.parametrize(
    "query",
    [
        "expires_at=abc",
        "expires_at=2030-01-01",
        "related_products=abc,%C2%B2,99999999999999999999",
    ],
)
def test_add_forms_ignore_prefill_values_their_fields_cannot_take(root, rtx, query):
    url = (
        "/admin/apikeys/apikey/add/"
        if query.startswith("expires_at")
        else "/admin/catalog/product/add/"
    )

    response = client_as(root).get(f"{url}?{query}")

    assert response.status_code == 200


def test_add_forms_keep_prefill_values_their_fields_can_take(root, rtx):
    response = client_as(root).get(
        f"/admin/catalog/product/add/?name=Spare%20fan&related_products={rtx.pk},abc"
    )

    form = response.context["adminform"].form
    assert form.initial["name"] == "Spare fan"
    assert form.initial["related_products"] == [str(rtx.pk)]


def test_only_ascii_digits_within_the_range_are_numbers():
    expected = {"42": 42, "0": 0, "100": 100, "101": None, "²": None, "١": None, "-1": None}
    expected |= {"4 2": None, "": None, " 4": None, "4.0": None}

    assert {value: parse_ascii_int(value, minimum=0, maximum=100) for value in expected} == expected
