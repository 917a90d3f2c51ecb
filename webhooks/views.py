from django.urls import reverse
from django.utils import timezone
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from techparts.api.conditional import ConditionalGetMixin
from techparts.api.serializers import takes_no_body
from techparts.apikeys.scopes import WEBHOOKS_WRITE
from techparts.idempotency.services import idempotent, idempotent_sealed
from webhooks import crypto
from webhooks.models import WebhookEndpoint
from webhooks.schema import webhook_endpoint_viewset_schema
from webhooks.selectors import webhook_endpoint_get, webhook_endpoint_list
from webhooks.serializers import (
    WebhookEndpointCreateInputSerializer,
    WebhookEndpointOutputSerializer,
    WebhookEndpointUpdateInputSerializer,
)
from webhooks.services import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
)

# Answers carrying a secret are replayed to retries, so they are stored, but encrypted.
idempotent_with_secret = idempotent_sealed(seal=crypto.seal, unseal=crypto.unseal)


def _with_secret(endpoint: WebhookEndpoint, secret: str) -> dict:
    # WebhookEndpointWithSecretOutputSerializer documents this body.
    return {**WebhookEndpointOutputSerializer(endpoint).data, "secret": secret}


@webhook_endpoint_viewset_schema
class WebhookEndpointViewSet(ConditionalGetMixin, viewsets.GenericViewSet):
    serializer_class = WebhookEndpointOutputSerializer
    filter_backends: list = []  # no search or ordering: a short list, newest first
    lookup_url_kwarg = "endpoint_id"
    lookup_value_regex = "[^/]+"
    queryset = WebhookEndpoint.objects.none()  # the real one depends on the caller
    required_scopes = dict.fromkeys(
        ["list", "create", "retrieve", "partial_update", "destroy", "rotate_secret"],
        WEBHOOKS_WRITE,
    )

    def get_queryset(self):
        if self.request.auth is None:  # schema generation: no caller, no endpoints
            return WebhookEndpoint.objects.none()
        return webhook_endpoint_list(owner=self.request.auth.owner)

    def get_object(self) -> WebhookEndpoint:
        return webhook_endpoint_get(
            owner=self.request.auth.owner, endpoint_id=self.kwargs["endpoint_id"]
        )

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(WebhookEndpointOutputSerializer(page, many=True).data)

    @idempotent_with_secret
    def create(self, request: Request) -> Response:
        data = WebhookEndpointCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint, secret = webhook_endpoint_create(
            owner=request.auth.owner, created_by_key=request.auth, **data.validated_data
        )
        location = request.build_absolute_uri(
            reverse("webhook-endpoint-detail", kwargs={"endpoint_id": endpoint.public_id})
        )
        return Response(
            _with_secret(endpoint, secret),
            status=status.HTTP_201_CREATED,
            headers={"Location": location},
        )

    def retrieve(self, request: Request, endpoint_id: str) -> Response:
        return Response(WebhookEndpointOutputSerializer(self.get_object()).data)

    @idempotent
    def partial_update(self, request: Request, endpoint_id: str) -> Response:
        data = WebhookEndpointUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = self.get_object()
        endpoint = webhook_endpoint_update(
            endpoint=endpoint, acting_key=request.auth, **data.validated_data
        )
        return Response(WebhookEndpointOutputSerializer(endpoint).data)

    def destroy(self, request: Request, endpoint_id: str) -> Response:
        webhook_endpoint_delete(endpoint=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post"], url_path="rotate-secret")
    @idempotent_with_secret
    @takes_no_body
    def rotate_secret(self, request: Request, endpoint_id: str) -> Response:
        endpoint = self.get_object()
        secret = webhook_endpoint_rotate_secret(endpoint=endpoint, now=timezone.now())
        return Response(_with_secret(endpoint, secret))
