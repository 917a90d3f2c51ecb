"""OPTIONS on every API route: 200 with the methods the `Allow` header lists, no key needed."""

import pytest

# `world`: a product, a customer and a pending order, to fill in route parameters.
from tests.techparts.test_authorization_matrix import ROUTES, concrete, world  # noqa: F401

pytestmark = pytest.mark.django_db

PATHS = sorted({route for route, _, _ in ROUTES})


@pytest.mark.parametrize("route", PATHS)
@pytest.mark.parametrize("with_key", [False, True], ids=["no key", "key"])
def test_options_answers_the_allowed_methods(api, api_client, request, route, with_key):
    url = concrete(route, request.getfixturevalue("world"))
    declared = {method for r, method, _ in ROUTES if r == route}

    response = (api if with_key else api_client).options(url)

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    allowed = [method.strip() for method in response["Allow"].split(",")]
    assert response.json() == {"methods": allowed, "schema": "http://testserver/v1/schema/"}
    assert set(allowed) == declared | {"OPTIONS"} | ({"HEAD"} if "GET" in declared else set())
