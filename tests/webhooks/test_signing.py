"""Standard Webhooks signatures, checked with the standardwebhooks library as receivers do."""

import base64
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from webhooks.signing import secret_key, signature, signed_headers


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


BODY = (
    '{"id":"evt_1","type":"inventory.changed","data":{"sku":"GPU-1","note":"caf\u00e9"}}'.encode()
)


def test_a_signed_delivery_verifies_with_the_receivers_library():
    secret = new_secret()
    now = datetime.now(UTC)
    headers = signed_headers(webhook_id="evt_1", body=BODY, secrets=[secret], now=now)

    assert headers["webhook-id"] == "evt_1"
    assert headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(BODY, headers)["data"]["note"] == "caf\u00e9"


def test_the_key_is_the_base64_part_of_the_secret():
    raw = secrets.token_bytes(24)
    assert secret_key("whsec_" + base64.b64encode(raw).decode()) == raw
    assert secret_key("whsec_" + base64.b64encode(raw).decode().rstrip("=")) == raw


def test_a_tampered_body_or_another_secret_does_not_verify():
    secret = new_secret()
    headers = signed_headers(webhook_id="evt_1", body=BODY, secrets=[secret], now=datetime.now(UTC))

    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace(b"GPU-1", b"GPU-2"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers)


def test_during_a_rotation_both_secrets_sign_and_each_verifies():
    current, previous = new_secret(), new_secret()
    headers = signed_headers(
        webhook_id="evt_1", body=BODY, secrets=[current, previous], now=datetime.now(UTC)
    )

    assert len(headers["webhook-signature"].split(" ")) == 2
    assert Webhook(current).verify(BODY, headers)
    assert Webhook(previous).verify(BODY, headers)


def test_an_attempt_signed_ten_minutes_ago_is_refused_and_a_fresh_one_verifies():
    secret = new_secret()
    now = datetime.now(UTC)
    old = signed_headers(
        webhook_id="evt_1", body=BODY, secrets=[secret], now=now - timedelta(minutes=10)
    )
    fresh = signed_headers(webhook_id="evt_1", body=BODY, secrets=[secret], now=now)

    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(BODY, old)
    assert Webhook(secret).verify(BODY, fresh)
    assert fresh["webhook-id"] == old["webhook-id"]
    assert fresh["webhook-signature"] != old["webhook-signature"]


def test_the_signature_is_hmac_sha256_of_id_timestamp_and_body():
    secret = new_secret()
    expected = Webhook(secret).sign("evt_9", datetime.fromtimestamp(1700000000, UTC), BODY.decode())
    assert signature(secret=secret, webhook_id="evt_9", timestamp=1700000000, body=BODY) == expected


def test_signing_needs_a_secret():
    with pytest.raises(ValueError, match="at least one secret"):
        signed_headers(webhook_id="evt_1", body=BODY, secrets=[], now=datetime.now(UTC))
