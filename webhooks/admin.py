"""Webhook endpoints and their delivery log in the back office (Integration managers).

The admin calls the services: creating shows the secret once, rotating shows the new one once,
enable/disable and redelivery go through webhooks.services like the API does.
"""

from collections import defaultdict

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from techparts.admin_input import GuardedModelAdminMixin
from techparts.errors import DomainError
from techparts.events.models import Event
from webhooks.forms import RedeliverRangeForm, WebhookEndpointChangeForm, WebhookEndpointForm
from webhooks.models import Delivery, DeliveryAttempt, WebhookEndpoint
from webhooks.services import (
    MAX_REDELIVERY_EVENTS,
    deliveries_redeliver,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
)

REDELIVER = "webhooks.add_delivery"
SHOWN_ONCE_TEMPLATE = "admin/webhooks/webhookendpoint/secret.html"


class HealthFilter(admin.SimpleListFilter):
    title = "health"
    parameter_name = "health"

    def lookups(self, request, model_admin):
        return [
            ("failing", "Failing (enabled, deliveries failing)"),
            ("disabled_by_system", "Disabled by the system"),
            ("disabled", "Disabled (any reason)"),
            ("healthy", "Healthy (enabled, not failing)"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "failing":
            return queryset.filter(enabled=True, failing_since__isnull=False)
        if value == "disabled_by_system":
            return queryset.filter(enabled=False).exclude(disabled_reason="")
        if value == "disabled":
            return queryset.filter(enabled=False)
        if value == "healthy":
            return queryset.filter(enabled=True, failing_since__isnull=True)
        return queryset


def _latest_delivery_status() -> Subquery:
    # The newest delivery of each endpoint, read off the (endpoint, -created_at) index.
    return Subquery(
        Delivery.objects.filter(endpoint=OuterRef("pk"))
        .order_by("-created_at", "-id")
        .values("status")[:1]
    )


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(GuardedModelAdminMixin, admin.ModelAdmin):
    list_display = [
        "public_id",
        "owner",
        "url",
        "enabled",
        "failing_since",
        "disabled_reason",
        "last_delivery",
    ]
    list_filter = [HealthFilter, "enabled"]
    search_fields = ["owner", "public_id", "url", "description"]
    actions = ["rotate_secret", "enable", "disable"]
    list_per_page = 50
    readonly_fields = [
        "public_id",
        "owner",
        "delivery_log",
        "disabled_reason",
        "disabled_at",
        "failing_since",
        "previous_secret_expires_at",
        "created_by_key",
        "created_by",
        "created_at",
        "updated_at",
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("created_by_key", "created_by")
            .annotate(last_delivery_status=_latest_delivery_status())
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = WebhookEndpointChangeForm if obj is not None else WebhookEndpointForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["owner", "url", "event_types", "description", "enabled"]
        return ["url", "event_types", "description", "enabled", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    @admin.display(description="last delivery", ordering="last_delivery_status")
    def last_delivery(self, endpoint: WebhookEndpoint) -> str:
        return getattr(endpoint, "last_delivery_status", None) or "-"

    @admin.display(description="delivery log")
    def delivery_log(self, endpoint: WebhookEndpoint) -> str:
        log = reverse("admin:webhooks_delivery_changelist") + f"?endpoint={endpoint.pk}"
        redeliver = reverse("admin:webhooks_webhookendpoint_redeliver", args=[endpoint.pk])
        return format_html(
            '<a href="{}" id="delivery-log-link">Open the delivery log</a> · '
            '<a href="{}" id="redeliver-link">Redeliver events in a time range</a>',
            log,
            redeliver,
        )

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            webhook_endpoint_update(
                endpoint=obj,
                url=data["url"],
                event_types=data["event_types"],
                description=data["description"],
                enabled=data["enabled"],
            )
            return
        endpoint, secret = webhook_endpoint_create(
            owner=data["owner"],
            url=data["url"],
            event_types=data["event_types"],
            description=data["description"],
            enabled=data["enabled"],
            created_by=request.user,
        )
        obj.pk = endpoint.pk
        # Kept on the request only, for response_add to show once; stored sealed.
        request._new_webhook_secrets = [(endpoint, secret)]

    def delete_model(self, request, obj):
        webhook_endpoint_delete(endpoint=obj)

    def delete_queryset(self, request, queryset):
        for endpoint in queryset:
            webhook_endpoint_delete(endpoint=endpoint)

    def response_add(self, request, obj, post_url_continue=None):
        shown = getattr(request, "_new_webhook_secrets", None)
        if shown is None:
            return super().response_add(request, obj, post_url_continue)
        return self._secrets_page(request, shown, title="Webhook endpoint created")

    def _secrets_page(self, request, shown, *, title: str) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "shown": shown,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, SHOWN_ONCE_TEMPLATE, context)

    @admin.action(description="Rotate the secret of selected endpoints", permissions=["change"])
    def rotate_secret(self, request, queryset):
        now = timezone.now()
        # A page of secrets, each shown once: one admin page's worth of endpoints at most.
        endpoints = list(queryset.order_by("pk")[: self.list_per_page])
        shown = [
            (endpoint, webhook_endpoint_rotate_secret(endpoint=endpoint, now=now))
            for endpoint in endpoints
        ]
        for endpoint, _ in shown:
            endpoint.refresh_from_db()
        return self._secrets_page(request, shown, title="Webhook secrets rotated")

    @admin.action(description="Enable selected endpoints", permissions=["change"])
    def enable(self, request, queryset):
        count = 0
        for endpoint in queryset.filter(enabled=False):
            webhook_endpoint_update(endpoint=endpoint, enabled=True)
            count += 1
        messages.success(request, f"Enabled {count} endpoint(s).")

    @admin.action(description="Disable selected endpoints", permissions=["change"])
    def disable(self, request, queryset):
        count = 0
        for endpoint in queryset.filter(enabled=True):
            webhook_endpoint_update(endpoint=endpoint, enabled=False)
            count += 1
        messages.success(request, f"Disabled {count} endpoint(s).")

    def get_urls(self):
        return [
            path(
                "<path:object_id>/redeliver/",
                self.admin_site.admin_view(self.redeliver_view),
                name="webhooks_webhookendpoint_redeliver",
            ),
            *super().get_urls(),
        ]

    def redeliver_view(self, request: HttpRequest, object_id: str):
        """Queue an endpoint's events of a time range again (Integration managers)."""
        if not request.user.has_perm(REDELIVER):
            raise PermissionDenied
        endpoint = self.get_object_or_404(request, object_id)
        form = RedeliverRangeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                count = deliveries_redeliver(
                    endpoint=endpoint,
                    since=form.cleaned_data["since"],
                    until=form.cleaned_data["until"],
                    requested_by=request.user,
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request,
                    f"Queued {count} event(s) for redelivery to {endpoint.url}.",
                    messages.SUCCESS,
                )
                return redirect(
                    reverse("admin:webhooks_delivery_changelist") + f"?endpoint={endpoint.pk}"
                )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Redeliver events to {endpoint.public_id}",
            "opts": self.model._meta,
            "original": endpoint,
            "form": form,
            "limit": MAX_REDELIVERY_EVENTS,
        }
        return TemplateResponse(request, "admin/webhooks/webhookendpoint/redeliver.html", context)


class EndpointFilter(admin.SimpleListFilter):
    """The delivery log of one endpoint (`?endpoint=<pk>`, linked from the endpoint's page).

    No list of every endpoint in the sidebar: there may be thousands. The chosen one is shown.
    """

    title = "endpoint"
    parameter_name = "endpoint"

    def lookups(self, request, model_admin):
        value = self.value()
        if not value or not value.isascii() or not value.isdigit() or len(value) > 18:
            return []
        endpoint = WebhookEndpoint.objects.filter(pk=int(value)).first()
        return [(value, str(endpoint))] if endpoint else []

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if not value.isascii() or not value.isdigit() or len(value) > 18:
            return queryset.none()
        return queryset.filter(endpoint_id=int(value))


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = [
        "number",
        "started_at",
        "status_code",
        "latency_ms",
        "succeeded",
        "response_excerpt",
        "error",
    ]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _latest_attempt(field: str) -> Subquery:
    return Subquery(
        DeliveryAttempt.objects.filter(delivery=OuterRef("pk"))
        .order_by("-number")
        .values(field)[:1]
    )


@admin.register(Delivery)
class DeliveryAdmin(GuardedModelAdminMixin, admin.ModelAdmin):
    """The delivery log: read-only, with each attempt; staff may redeliver events from it."""

    list_display = [
        "event_id_text",
        "event_type",
        "subject",
        "status",
        "attempts",
        "last_status_code",
        "last_latency",
        "next_attempt_at",
        "endpoint_link",
    ]
    list_display_links = ["event_id_text"]
    list_filter = [EndpointFilter, "status"]
    search_fields = ["=event__public_id", "subject", "=endpoint__public_id"]
    list_select_related = ["endpoint", "event"]
    list_per_page = 100
    show_full_result_count = False
    actions = ["redeliver"]
    inlines = [DeliveryAttemptInline]
    fields = [
        "endpoint_link",
        "event_id_text",
        "event_type",
        "subject",
        "status",
        "attempt_count",
        "next_attempt_at",
        "locked_until",
        "created_at",
        "finished_at",
        "requested_by",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                last_status_code=_latest_attempt("status_code"),
                last_latency_ms=_latest_attempt("latency_ms"),
            )
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_redeliver_permission(self, request) -> bool:
        return request.user.has_perm(REDELIVER)

    @admin.display(description="endpoint", ordering="endpoint")
    def endpoint_link(self, delivery: Delivery) -> str:
        url = reverse("admin:webhooks_webhookendpoint_change", args=[delivery.endpoint_id])
        return format_html('<a href="{}">{}</a>', url, delivery.endpoint.public_id)

    @admin.display(description="event", ordering="event__public_id")
    def event_id_text(self, delivery: Delivery) -> str:
        return delivery.event.public_id

    @admin.display(description="type")
    def event_type(self, delivery: Delivery) -> str:
        return delivery.event.type

    @admin.display(description="attempts", ordering="attempt_count")
    def attempts(self, delivery: Delivery) -> int:
        return delivery.attempt_count

    @admin.display(description="last code")
    def last_status_code(self, delivery: Delivery):
        return getattr(delivery, "last_status_code", None) or "-"

    @admin.display(description="latency")
    def last_latency(self, delivery: Delivery) -> str:
        latency = getattr(delivery, "last_latency_ms", None)
        return f"{latency} ms" if latency is not None else "-"

    @admin.action(description="Redeliver selected deliveries' events", permissions=["redeliver"])
    def redeliver(self, request, queryset: QuerySet[Delivery]):
        events_by_endpoint: dict[int, list[int]] = defaultdict(list)
        # One past the limit tells "too many" without reading an unbounded selection.
        picked = list(queryset.values_list("endpoint_id", "event_id")[: MAX_REDELIVERY_EVENTS + 1])
        if len(picked) > MAX_REDELIVERY_EVENTS:
            messages.error(
                request,
                f"That is more than {MAX_REDELIVERY_EVENTS:,} deliveries; pick fewer at a time.",
            )
            return
        for endpoint_id, event_id in picked:
            events_by_endpoint[endpoint_id].append(event_id)
        queued = 0
        for endpoint in WebhookEndpoint.objects.filter(pk__in=list(events_by_endpoint)):
            try:
                queued += deliveries_redeliver(
                    endpoint=endpoint,
                    events=Event.objects.filter(pk__in=events_by_endpoint[endpoint.pk]),
                    requested_by=request.user,
                )
            except DomainError as exc:
                messages.error(request, exc.message)
        messages.success(request, f"Queued {queued} event(s) for redelivery.")
