"""Bodies of /v1/webhook-endpoints: strict input, and the endpoint as integrators see it."""

from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from techparts.api.serializers import (
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictSerializer,
)
from techparts.events.types import ALL_TYPES
from webhooks.addresses import MAX_URL_LENGTH
from webhooks.models import WebhookEndpoint
from webhooks.services import MAX_DESCRIPTION_LENGTH

# Visible ASCII after the scheme (a host with non-ASCII letters goes in its xn-- form). The
# same in Python and in the schema's regex dialect. https only in production: plain http is
# refused by the service unless WEBHOOKS_ALLOW_LOOPBACK is on (development and tests).
URL_PATTERN = r"\Ahttps?://[!-~]+\Z"


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "string", "enum": list(ALL_TYPES)},
        "minItems": 1,
        "maxItems": len(ALL_TYPES),
        "uniqueItems": True,
    }
)
class EventTypesField(serializers.ListField):
    """The event types an endpoint subscribes to: known ones, at least one, none twice."""

    def __init__(self, **kwargs):
        super().__init__(
            child=StrictChoiceField(choices=ALL_TYPES),
            min_length=1,
            max_length=len(ALL_TYPES),
            error_messages={
                "min_length": "must name at least one event type",
                "max_length": f"must name at most {len(ALL_TYPES)} event types",
                "not_a_list": "must be a list",
                "empty": "must name at least one event type",
            },
            help_text="Event types to receive (docs/webhooks.md lists them). `inventory.*` "
            "needs `inventory:read` on your key, `order.*` needs `orders:read`.",
            **kwargs,
        )

    def to_internal_value(self, data: Any) -> list[str]:
        value = super().to_internal_value(data)
        if len(set(value)) != len(value):
            raise serializers.ValidationError(
                ErrorDetail("must not name an event type twice", code="unique")
            )
        return value


def _url_field(**kwargs) -> StrictCharField:
    return StrictCharField(
        max_length=MAX_URL_LENGTH,
        trim_whitespace=False,
        validators=[RegexValidator(URL_PATTERN, message="must be an https:// URL")],
        help_text="Where deliveries are POSTed: `https://`, no user name or password, a host "
        "that resolves to public internet addresses only (checked again at each delivery).",
        **kwargs,
    )


def _description_field(**kwargs) -> StrictCharField:
    return StrictCharField(
        max_length=MAX_DESCRIPTION_LENGTH,
        allow_blank=True,
        help_text="Your note about the endpoint.",
        **kwargs,
    )


@extend_schema_serializer(component_name="WebhookEndpointCreate")
class WebhookEndpointCreateInputSerializer(StrictSerializer):
    url = _url_field()
    event_types = EventTypesField()
    description = _description_field(required=False, default="")
    enabled = StrictBooleanField(
        required=False, default=True, help_text="false: nothing is sent until enabled."
    )


@extend_schema_serializer(component_name="WebhookEndpointUpdate")
class WebhookEndpointUpdateInputSerializer(StrictSerializer):
    """PATCH: the fields sent are changed, the others kept."""

    url = _url_field(required=False)
    event_types = EventTypesField(required=False)
    description = _description_field(required=False)
    enabled = StrictBooleanField(
        required=False,
        help_text="true re-enables an endpoint the system disabled (clearing "
        "`disabled_reason` and `failing_since`); false stops deliveries.",
    )


@extend_schema_serializer(component_name="WebhookEndpoint")
class WebhookEndpointOutputSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", help_text="`we_...`")
    # Text as accepted (URL_PATTERN and the SSRF rules), not the stricter `uri` format.
    url = serializers.CharField(help_text="Where deliveries are POSTed.")
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=ALL_TYPES))
    disabled_reason = serializers.CharField(
        help_text="Why TechParts disabled it (e.g. `the endpoint answered 410 Gone`); empty "
        "if it did not."
    )
    failing_since = serializers.DateTimeField(
        allow_null=True, help_text="Start of the current run of failed deliveries, or null."
    )
    previous_secret_expires_at = serializers.DateTimeField(
        allow_null=True,
        help_text="After a rotation: until when the previous secret still signs (a second "
        "signature on each delivery); null when there is none.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "event_types",
            "enabled",
            "description",
            "disabled_reason",
            "failing_since",
            "previous_secret_expires_at",
            "created_at",
            "updated_at",
        ]


@extend_schema_serializer(component_name="WebhookEndpointWithSecret")
class WebhookEndpointWithSecretOutputSerializer(WebhookEndpointOutputSerializer):
    """The endpoint with its signing secret: only on create and on rotate, never again.

    For the schema: the views add the plaintext secret the service returned to the body of
    WebhookEndpointOutputSerializer (the model's `secret` column is the sealed one).
    """

    secret = serializers.CharField(
        help_text="`whsec_...` (Standard Webhooks): verify each delivery's `webhook-signature` "
        "with it. Shown in this answer only; store it now."
    )

    class Meta(WebhookEndpointOutputSerializer.Meta):
        fields = [*WebhookEndpointOutputSerializer.Meta.fields, "secret"]
