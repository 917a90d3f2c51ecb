"""Conditional reads (techparts.api.conditional) and the not-modified budget (throttling).

The mechanism is one mixin; these tests drive it through GET /v1/products/{id}, one of the
views that use it. What makes each view's tag change is tested with the view.
"""

import pytest

from catalog.models import Product
from techparts.api.conditional import body_etag, if_none_match_matches
from techparts.ratelimit.models import RateCounter
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

TAG = '"0123456789abcdef0123456789abcdef"'
OTHER = '"x"'


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        (TAG, True),
        (f"W/{TAG}", True),  # weak comparison: W/ ignored (RFC 9110 13.1.2 for GET)
        (f'"other", {TAG}', True),
        (f'W/"other" ,W/{TAG}', True),
        ("*", True),
        (" * ", True),
        ('"other"', False),
        ("", False),
        (TAG[1:-1], False),  # not quoted: not an entity tag
        (f"{TAG[:-1]}x", False),
        (f"garbage, {TAG}", False),  # malformed before the tag: matches nothing
        (f"{TAG}garbage", False),
        (", ".join([OTHER] * 64 + [TAG]), False),  # past the 64 tags looked at
        (", ".join([OTHER] * 63 + [TAG]), True),
    ],
)
def test_if_none_match_is_compared_weakly_over_a_bounded_list(header, matches):
    assert if_none_match_matches(header, TAG) is matches


def test_an_absent_header_matches_nothing():
    assert if_none_match_matches(None, TAG) is False


def test_the_tag_is_a_quoted_hash_of_the_exact_bytes():
    assert body_etag(b"{}") == body_etag(b"{}")
    assert body_etag(b"{}") != body_etag(b"{ }")
    assert len(body_etag(b"{}")) == 34 and body_etag(b"{}").startswith('"')


@pytest.fixture
def product():
    return ProductFactory(public_id="PROD-ETAG-001", stock=4)


URL = "/v1/products/PROD-ETAG-001"


def test_a_read_carries_its_tag_and_private_cache_headers(api, product):
    response = api.get(URL)

    assert response.status_code == 200
    assert response["ETag"] == body_etag(response.content)
    assert response["Cache-Control"] == "private, no-cache"
    assert "Authorization" in response["Vary"]


def test_the_current_tag_answers_304_with_no_body(api, product):
    etag = api.get(URL)["ETag"]

    response = api.get(URL, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert response["Cache-Control"] == "private, no-cache"
    assert "Authorization" in response["Vary"]
    assert "Content-Type" not in response


@pytest.mark.parametrize("header", ["*", "W/{etag}", '"stale", {etag}'])
def test_star_weak_and_listed_tags_answer_304(api, product, header):
    etag = api.get(URL)["ETag"]

    response = api.get(URL, HTTP_IF_NONE_MATCH=header.format(etag=etag))

    assert response.status_code == 304


def test_a_stale_tag_gets_the_full_answer_with_the_new_tag(api, product):
    before = api.get(URL)
    Product.objects.filter(pk=product.pk).update(name="Renamed")

    response = api.get(URL, HTTP_IF_NONE_MATCH=before["ETag"])

    assert response.status_code == 200
    assert response.json()["name"] == "Renamed"
    assert response["ETag"] not in (before["ETag"], None)
    assert response["ETag"] == body_etag(response.content)


def test_head_carries_the_tag_and_answers_304_too(api, product):
    etag = api.get(URL)["ETag"]

    head = api.head(URL)
    conditional = api.head(URL, HTTP_IF_NONE_MATCH=etag)

    assert head.status_code == 200
    assert head["ETag"] == etag
    assert head.content == b""
    assert conditional.status_code == 304


def test_errors_carry_no_tag_and_star_does_not_turn_a_404_into_a_304(api, db):
    response = api.get("/v1/products/PROD-NONE-001", HTTP_IF_NONE_MATCH="*")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert "ETag" not in response


def test_if_none_match_on_a_write_is_ignored(api, product):
    etag = api.get(f"/v1/inventory/{product.sku}")["ETag"]

    response = api.patch(
        f"/v1/inventory/{product.sku}", {"quantity": 9}, format="json", HTTP_IF_NONE_MATCH=etag
    )
    star = api.patch(
        f"/v1/inventory/{product.sku}", {"quantity": 8}, format="json", HTTP_IF_NONE_MATCH="*"
    )

    assert (response.status_code, star.status_code) == (200, 200)
    assert "ETag" not in response
    product.stock.refresh_from_db()
    assert product.stock.on_hand == 8


class TestNotModifiedBudget:
    """304s spend their own budget; anything else a conditional GET answers spends a read."""

    # Hour windows: a few requests never straddle a window boundary in practice.

    def test_polling_with_the_current_tag_spends_no_read_budget(self, api, product, settings):
        settings.API_RATE_LIMIT_READ = "2/hour"
        settings.API_RATE_LIMIT_NOT_MODIFIED = "50/hour"
        etag = api.get(URL)["ETag"]  # read 1 of 2

        polls = [api.get(URL, HTTP_IF_NONE_MATCH=etag).status_code for _ in range(10)]

        assert polls == [304] * 10
        assert api.get(URL).status_code == 200  # read 2 of 2: still there
        assert api.get(URL).status_code == 429

    def test_304s_go_on_when_the_read_budget_is_spent(self, api, product, settings):
        settings.API_RATE_LIMIT_READ = "1/hour"
        settings.API_RATE_LIMIT_NOT_MODIFIED = "50/hour"
        etag = api.get(URL)["ETag"]
        assert api.get(URL).status_code == 429

        assert api.get(URL, HTTP_IF_NONE_MATCH=etag).status_code == 304

    def test_a_stale_tag_pays_a_normal_read(self, api, product, settings):
        settings.API_RATE_LIMIT_READ = "2/hour"
        settings.API_RATE_LIMIT_NOT_MODIFIED = "50/hour"

        statuses = [api.get(URL, HTTP_IF_NONE_MATCH='"stale"').status_code for _ in range(3)]

        assert statuses == [200, 200, 429]
        refused = api.get(URL, HTTP_IF_NONE_MATCH='"stale"')
        assert refused.json()["error"] == "rate_limited"
        assert "ETag" not in refused
        assert 1 <= int(refused["Retry-After"]) <= 3601
        assert api.get(URL).status_code == 429

    def test_a_spent_not_modified_budget_is_a_429_with_retry_after(self, api, product, settings):
        settings.API_RATE_LIMIT_READ = "2/hour"
        settings.API_RATE_LIMIT_NOT_MODIFIED = "3/hour"
        etag = api.get(URL)["ETag"]

        statuses = [api.get(URL, HTTP_IF_NONE_MATCH=etag).status_code for _ in range(4)]

        assert statuses == [304, 304, 304, 429]
        refused = api.get(URL, HTTP_IF_NONE_MATCH=etag)
        assert refused.status_code == 429
        assert refused.json() == {
            "error": "rate_limited",
            "message": refused.json()["message"],
        }
        assert refused.json()["message"].startswith("Rate limit exceeded. Retry in ")
        assert 1 <= int(refused["Retry-After"]) <= 3601
        # The read budget is another one, and the refusals did not spend it: read 2 of 2.
        assert api.get(URL).status_code == 200
        assert api.get(URL).status_code == 429

    def test_a_conditional_read_of_a_missing_product_pays_a_normal_read(self, api, db, settings):
        settings.API_RATE_LIMIT_READ = "1/hour"
        settings.API_RATE_LIMIT_NOT_MODIFIED = "50/hour"
        missing = "/v1/products/PROD-NONE-001"

        assert api.get(missing, HTTP_IF_NONE_MATCH="*").status_code == 404
        assert api.get(missing, HTTP_IF_NONE_MATCH="*").status_code == 429

    def test_budgets_are_per_key(self, client_for, product, settings):
        settings.API_RATE_LIMIT_NOT_MODIFIED = "1/hour"
        first, second = client_for("products:read"), client_for("products:read")
        etag = first.get(URL)["ETag"]

        assert first.get(URL, HTTP_IF_NONE_MATCH=etag).status_code == 304
        assert first.get(URL, HTTP_IF_NONE_MATCH=etag).status_code == 429
        assert second.get(URL, HTTP_IF_NONE_MATCH=etag).status_code == 304

    def test_if_none_match_on_a_view_without_tags_spends_a_normal_read(
        self, api, product, settings
    ):
        settings.API_RATE_LIMIT_READ = "1/hour"
        settings.API_RATE_LIMIT_NOT_MODIFIED = "50/hour"

        assert api.get("/v1/orders", HTTP_IF_NONE_MATCH="*").status_code == 200
        assert api.get("/v1/orders", HTTP_IF_NONE_MATCH="*").status_code == 429


TAGGED = [
    "/v1/products",
    "/v1/products/{id}",
    "/v1/inventory/{sku}",
    "/v1/inventory/{sku}/movements",
]


@pytest.mark.parametrize("path", TAGGED)
def test_the_schema_documents_the_header_the_tag_and_the_304(schema, path):
    operation = schema["paths"][path]["get"]

    headers = [p["name"] for p in operation["parameters"] if p["in"] == "header"]
    assert headers == ["If-None-Match"]
    assert operation["responses"]["200"]["headers"]["ETag"]["required"] is True
    assert "content" not in operation["responses"]["304"]
    assert set(operation["responses"]["304"]["headers"]) == {"ETag", "Cache-Control", "Vary"}


def test_untagged_operations_document_none_of_it(schema):
    patch = schema["paths"]["/v1/inventory/{sku}"]["patch"]
    orders = schema["paths"]["/v1/orders"]["get"]

    for operation in (patch, orders):
        assert "304" not in operation["responses"]
        assert all(p["name"] != "If-None-Match" for p in operation.get("parameters", []))


def test_a_conditional_read_refused_before_the_throttle_spends_nothing(client_for, settings):
    settings.API_RATE_LIMIT_READ = "1/hour"
    settings.API_RATE_LIMIT_NOT_MODIFIED = "1/hour"
    ProductFactory(public_id="PROD-ETAG-001")
    no_scope = client_for("orders:read")

    for _ in range(3):
        assert no_scope.get(URL, HTTP_IF_NONE_MATCH='"x"').status_code == 403
        assert no_scope.get(f"{URL}?x=1", HTTP_IF_NONE_MATCH='"x"').status_code in (400, 403)

    assert not RateCounter.objects.exists()
