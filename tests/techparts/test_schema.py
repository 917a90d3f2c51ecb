import json

import pytest

from techparts.api.parsers import MAX_JSON_DEPTH

pytestmark = pytest.mark.django_db


def test_schema_is_public_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "TechParts Developer API"


def test_schema_documents_the_bearer_scheme(schema):
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["bearerAuth"]["description"],
    }


def test_product_detail_documents_scope_and_error_bodies(schema):
    operation = schema["paths"]["/v1/products/{id}"]["get"]

    assert operation["security"] == [{"bearerAuth": ["products:read"]}]
    assert "products:read" in operation["description"]
    assert {"200", "401", "403", "404"} <= set(operation["responses"])
    error = operation["responses"]["404"]["content"]["application/json"]
    assert error["schema"]["$ref"] == "#/components/schemas/Error"
    assert error["examples"]["NotFound"]["value"]["error"] == "not_found"


def test_every_operation_declares_its_scope(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            scopes = [scope for req in operation.get("security", []) for scope in req.values()]
            assert scopes and scopes[0], f"{method.upper()} {path} has no scope"


def test_docs_page_works_offline(client):
    response = client.get("/v1/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui" in page
    # Every asset comes from our own static files, none from a CDN.
    assert "cdn." not in page and "unpkg" not in page and "jsdelivr" not in page
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    asset = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert asset.status_code == 200


@pytest.mark.parametrize(
    ("query", "accept", "media_type"),
    [
        ("?format=json", "*/*", "application/vnd.oai.openapi+json"),
        ("", "application/json", "application/json"),
        ("?format=json", "application/yaml", "application/vnd.oai.openapi+json"),
    ],
)
def test_the_schema_is_served_as_json_when_asked(client, schema, query, accept, media_type):
    response = client.get(f"/v1/schema/{query}", HTTP_ACCEPT=accept)

    assert response.status_code == 200
    assert response["Content-Type"].startswith(media_type)
    assert json.loads(response.content) == schema


def test_an_unknown_schema_format_is_refused_in_the_envelope(client):
    response = client.get("/v1/schema/?format=xml")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "error": "validation_error",
        "message": "Invalid query parameters",
        "details": ["Field 'format' must be json or yaml"],
    }


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/v1/docs/"), ("delete", "/v1/docs/"), ("delete", "/v1/schema/")]
    + [("put", "/v1/schema/"), ("patch", "/v1/schema/")],
)
def test_schema_and_docs_answer_wrong_methods_in_the_envelope(client, method, path):
    response = getattr(client, method)(path)

    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert response["Allow"] == "GET, HEAD, OPTIONS"
    assert response.json() == {
        "error": "method_not_allowed",
        "message": f"Method {method.upper()} is not allowed here",
    }


def test_the_schema_states_the_api_wide_input_rules(schema):
    description = schema["info"]["description"]

    assert f"at most {MAX_JSON_DEPTH} levels deep" in description
    assert "unknown query parameters are refused" in description
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            # every operation refuses unknown query parameters
            assert "400" in operation["responses"], f"{method.upper()} {path}"
