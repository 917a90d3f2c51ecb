"""Schema-driven fuzzing: Schemathesis against the project's own /v1/schema/ on a live server.

Every operation, positive and negative data, every check, at least 100 examples per operation,
with a fixed seed (printed) so that a failure replays. Configuration, and the reason for each
per-operation setting, is in schemathesis.toml at the project root.
"""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from catalog.models import Product
from orders.models import Customer
from orders.services import OrderItem, ShippingAddress, order_create
from techparts.actors import Actor
from techparts.apikeys.scopes import ALL_SCOPES
from techparts.apikeys.services import api_key_create
from webhooks.services import webhook_endpoint_create

ROOT = Path(__file__).resolve().parents[1]
SEED = int(os.environ.get("FUZZ_SEED", "20241228"))
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_api_conforms_to_its_schema_under_fuzzing(live_server, tmp_path, settings):
    # Generated creates would hit the cap of 20 endpoints within seconds and then only see
    # 409; a higher cap lets them reach the rest of the validation (the cap has its own test).
    settings.WEBHOOK_ENDPOINTS_PER_OWNER = 1000
    call_command("seed_demo", stdout=io.StringIO())
    api_key, key = api_key_create(name="fuzz", owner="api_user_12345", scopes=ALL_SCOPES)
    order = order_create(
        customer=Customer.objects.get(customer_id="CUST-789012"),
        items=[OrderItem(product=Product.objects.get(public_id="PROD-5950X-AMD-001"), quantity=1)],
        shipping_address=ShippingAddress(
            street="123 Tech Lane", city="San Francisco", state="CA", zip="94105"
        ),
        actor=Actor.api(api_key),
    )
    endpoint, _ = webhook_endpoint_create(
        owner="api_user_12345",
        url="https://hooks.example.com/fuzz",
        event_types=["inventory.changed"],
        created_by_key=api_key,
    )
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    command = [
        str(Path(sys.executable).parent / "st"),
        "run",
        f"{live_server.url}/v1/schema/",
        "--checks",
        "all",
        "--mode",
        "all",
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        str(SEED),
        "--generation-database",
        "none",
        "--no-color",
        "--report",
        "junit",
        "--report-junit-path",
        str(artifacts / "schemathesis-junit.xml"),
    ]
    print(f"schemathesis seed {SEED}; replay with FUZZ_SEED={SEED}")
    result = subprocess.run(
        command,
        cwd=ROOT,
        env={
            **os.environ,
            "FUZZ_API_KEY": key,
            "FUZZ_ORDER_ID": order.order_id,
            "FUZZ_WEBHOOK_ENDPOINT_ID": endpoint.public_id,
        },
        capture_output=True,
        text=True,
        timeout=1800,
    )
    (artifacts / "schemathesis.log").write_text(result.stdout + result.stderr)

    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
