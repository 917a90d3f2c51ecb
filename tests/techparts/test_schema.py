import pytest
import yaml

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client):
    response = client.get("/v1/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


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
