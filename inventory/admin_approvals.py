"""Back office for two-person approval: the policy's thresholds and the approval requests.

Imported by inventory/admin.py. The decision pages call inventory.approvals (never write stock).
"""

from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from inventory.approvals import POLICY_ID, approval_policy
from inventory.models import ApprovalPolicy
from techparts.admin_input import GuardedModelAdminMixin


@admin.register(ApprovalPolicy)
class ApprovalPolicyAdmin(GuardedModelAdminMixin, admin.ModelAdmin):
    """The one policy row: Inventory managers (change_approvalpolicy) and superusers edit it."""

    fields = ["min_units", "min_value", "min_percent", "updated_at", "updated_by"]
    readonly_fields = ["updated_at", "updated_by"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the row is created on first read

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context=None):
        # A list of one setting row says nothing: go straight to the row.
        if not self.has_view_or_change_permission(request):
            return super().changelist_view(request, extra_context)
        approval_policy()
        return HttpResponseRedirect(
            reverse("admin:inventory_approvalpolicy_change", args=[POLICY_ID])
        )

    def save_model(self, request: HttpRequest, obj: ApprovalPolicy, form, change) -> None:
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
