from django.contrib import admin, messages
from django.template.response import TemplateResponse

from techparts.admin_input import GuardedModelAdminMixin
from techparts.apikeys.forms import ApiKeyForm
from techparts.apikeys.models import ApiKey
from techparts.apikeys.services import api_key_create, api_key_revoke, api_key_update


@admin.register(ApiKey)
class ApiKeyAdmin(GuardedModelAdminMixin, admin.ModelAdmin):
    form = ApiKeyForm
    list_display = [
        "name",
        "owner",
        "display_prefix",
        "scope_list",
        "status",
        "expires_at",
        "last_used_at",
        "created_at",
    ]
    list_filter = ["owner", "corrections_need_approval"]
    search_fields = ["name", "owner", "prefix"]
    actions = ["revoke"]
    readonly_fields = [
        "display_prefix",
        "created_at",
        "created_by",
        "revoked_at",
        "last_used_at",
    ]

    def get_fields(self, request, obj=None):
        editable = ["name", "owner", "scopes", "expires_at", "corrections_need_approval"]
        if obj is None:
            return editable
        return [*editable, *self.readonly_fields]

    def has_delete_permission(self, request, obj=None):
        # Keys are revoked, not deleted: the stock ledger and orders keep pointing at them.
        return False

    @admin.display(description="scopes")
    def scope_list(self, key: ApiKey) -> str:
        return ", ".join(key.scopes)

    @admin.display(description="status")
    def status(self, key: ApiKey) -> str:
        if key.is_revoked:
            return "revoked"
        if key.is_expired:
            return "expired"
        return "active"

    @admin.action(description="Revoke selected API keys")
    def revoke(self, request, queryset):
        for key in queryset:
            api_key_revoke(key=key)
        messages.success(request, f"Revoked {queryset.count()} key(s).")

    def save_model(self, request, obj, form, change):
        if change:
            api_key_update(
                key=obj,
                name=form.cleaned_data["name"],
                owner=form.cleaned_data["owner"],
                scopes=form.cleaned_data["scopes"],
                expires_at=form.cleaned_data.get("expires_at"),
                corrections_need_approval=form.cleaned_data["corrections_need_approval"],
            )
            return
        key, full_key = api_key_create(
            name=form.cleaned_data["name"],
            owner=form.cleaned_data["owner"],
            scopes=form.cleaned_data["scopes"],
            expires_at=form.cleaned_data.get("expires_at"),
            corrections_need_approval=form.cleaned_data["corrections_need_approval"],
            created_by=request.user,
        )
        obj.pk = key.pk
        # Kept on the request only, for response_add to show once; never stored.
        request._new_api_key = full_key

    def response_add(self, request, obj, post_url_continue=None):
        full_key = getattr(request, "_new_api_key", None)
        if full_key is None:
            return super().response_add(request, obj, post_url_continue)
        key = ApiKey.objects.get(pk=obj.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": "API key created",
            "key": key,
            "full_key": full_key,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/apikeys/apikey/created.html", context)
