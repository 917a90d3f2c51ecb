import pytest
import yaml

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client):
    response = client.get("/v1/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


@pytest.mark.parametrize(
    ("path", "method", "statuses"),
    [
        ("/v1/orders", "post", {"201", "400", "401", "403", "409", "415", "422", "429"}),
        ("/v1/orders", "get", {"200", "400", "401", "403", "429"}),
        ("/v1/orders/{order_id}", "get", {"200", "401", "403", "404", "429"}),
        (
            "/v1/orders/{order_id}/cancel",
            "post",
            {"200", "401", "403", "404", "409", "415", "422", "429"},
        ),
    ],
)
def test_every_orders_operation_documents_its_status_codes(schema, path, method, statuses):
    operation = schema["paths"][path][method]

    assert statuses <= set(operation["responses"])


def test_create_order_documents_the_idempotency_key_and_scope(schema):
    operation = schema["paths"]["/v1/orders"]["post"]

    assert "Idempotency-Key" in [p["name"] for p in operation["parameters"]]
    assert operation["security"] == [{"bearerAuth": ["orders:write"]}]
    created = operation["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    fields = schema["components"]["schemas"][created.rsplit("/", 1)[1]]["properties"]
    assert list(fields) == [
        "order_id",
        "status",
        "subtotal",
        "tax",
        "shipping",
        "total",
        "currency",
        "items_count",
        "created_at",
        "estimated_delivery",
        "tracking_url",
    ]
