"""Back office for two-person approval: the policy's thresholds and the approval requests.

Imported by inventory/admin.py. The decision page calls inventory.approvals.approval_decide
(never writes stock itself); permissions are checked on GET and POST.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html

from inventory.admin_counts import without_blind
from inventory.approvals import (
    APPROVE,
    APPROVE_PERMISSION,
    POLICY_ID,
    REJECT,
    approval_decide,
    approval_own_request,
    approval_policy,
)
from inventory.models import ApprovalPolicy, ApprovalRequest
from techparts.admin_input import GuardedModelAdminMixin
from techparts.errors import DomainError

CORRECT = "inventory.correct_stock"
VIEW = "inventory.view_approvalrequest"


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


class DecisionForm(forms.Form):
    comment = forms.CharField(
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Why: kept with the decision and shown to the requester (for an API key's "
        "request, its integrator reads it in the API and the decision event).",
    )


class ProductFilter(admin.SimpleListFilter):
    """Filter by product: the products that have requests, by SKU."""

    title = "product"
    parameter_name = "product"

    def lookups(self, request, model_admin):
        products = (
            model_admin.get_queryset(request)
            .order_by("product__sku")
            .values_list("product_id", "product__sku")
            .distinct()
        )
        return [(str(product_id), sku) for product_id, sku in products[:200]]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if not (value.isascii() and value.isdigit()) or len(value) > 18:
            return queryset.none()
        return queryset.filter(product_id=int(value))


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(GuardedModelAdminMixin, admin.ModelAdmin):
    """Approval requests: managers decide others' requests; everyone follows their own."""

    change_form_template = "admin/inventory/approvalrequest/change_form.html"
    list_display = [
        "public_id",
        "created_at",
        "sku",
        "product_name",
        "change",
        "held",
        "actor_name",
        "status_badge",
        "decided_by",
        "decided_at",
        "threshold",
    ]
    list_filter = [
        "status",
        ("actor_name", admin.AllValuesFieldListFilter),
        ProductFilter,
        ("created_at", admin.DateFieldListFilter),
    ]
    date_hierarchy = "created_at"
    search_fields = ["public_id", "product__sku", "product__name", "reference", "reason"]
    list_select_related = ["product", "decided_by"]
    fields = [
        "public_id",
        "status",
        "product",
        "change",
        "on_hand_at_request",
        "held",
        "kind",
        "reason_code",
        "reason",
        "reference",
        "threshold",
        "source",
        "actor_name",
        "created_at",
        "decided_by",
        "decided_at",
        "comment",
        "ledger_rows",
    ]
    readonly_fields = fields

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._may_follow(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._may_follow(request)

    def _may_follow(self, request: HttpRequest) -> bool:
        # Whoever may make a correction follows the requests it becomes.
        user = request.user
        return user.is_active and user.is_staff and (user.has_perm(VIEW) or user.has_perm(CORRECT))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # requests come from corrections

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # decided on their own page, through the service

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApprovalRequest]:
        # A request shows the on-hand at its time (and the threshold's words may too): those
        # of products the user counts blind are left out until counting ends (cycle counts).
        requests = without_blind(
            request, super().get_queryset(request).select_related("product", "decided_by")
        )
        if request.user.has_perm(APPROVE_PERMISSION):
            return requests
        return requests.filter(requested_by=request.user)

    @admin.display(description="SKU", ordering="product__sku")
    def sku(self, request: ApprovalRequest) -> str:
        return request.product.sku

    @admin.display(description="product", ordering="product__name")
    def product_name(self, request: ApprovalRequest) -> str:
        return request.product.name

    @admin.display(description="change", ordering="on_hand_delta")
    def change(self, request: ApprovalRequest) -> str:
        return f"{request.on_hand_delta:+d}"

    @admin.display(description="status", ordering="status")
    def status_badge(self, request: ApprovalRequest) -> str:
        return format_html(
            '<span class="approval-status approval-{}">{}</span>',
            request.status,
            request.get_status_display(),
        )

    @admin.display(description="ledger rows")
    def ledger_rows(self, request: ApprovalRequest) -> str:
        url = reverse("admin:inventory_stockmovement_changelist")
        rows = list(
            request.movements.order_by("id").values_list(
                "id", "kind", "on_hand_delta", "reserved_delta"
            )
        )
        if not rows:
            return "-"
        # A hold moves reserved units, a correction on-hand ones.
        return format_html(
            '<a href="{}?product={}">{}</a>',
            url,
            request.product_id,
            ", ".join(
                f"#{pk} {kind} {on_hand or reserved:+d}" for pk, kind, on_hand, reserved in rows
            ),
        )

    def get_urls(self):
        return [
            path(
                "<path:object_id>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="inventory_approvalrequest_decide",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        approval = self.get_object(request, object_id)
        extra = {}
        if approval is not None:
            own = approval_own_request(approval, user=request.user)
            extra = {
                "may_decide": approval.is_pending
                and request.user.has_perm(APPROVE_PERMISSION)
                and own is None,
                "own_request": own is not None,
                "own_key": own is not None and approval.requested_by_id != request.user.pk,
                "is_pending": approval.is_pending,
                "decision_form": DecisionForm(),
                "decide_url": reverse("admin:inventory_approvalrequest_decide", args=[approval.pk]),
            }
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def decide_view(self, request: HttpRequest, object_id: str):
        """Approve or reject (POST, with a comment) through approval_decide."""
        if not request.user.has_perm(APPROVE_PERMISSION):
            raise PermissionDenied
        approval = self.get_object_or_404(request, object_id)
        back = redirect("admin:inventory_approvalrequest_change", approval.pk)
        if request.method != "POST":
            return back
        decision = APPROVE if "_approve" in request.POST else REJECT
        if "_approve" not in request.POST and "_reject" not in request.POST:
            self.message_user(request, "Choose Approve or Reject.", messages.ERROR)
            return back
        form = DecisionForm(request.POST)
        if not form.is_valid():
            self.message_user(request, " ".join(form.errors["comment"]), messages.ERROR)
            return back
        try:
            decided = approval_decide(
                request_id=approval.pk,
                decision=decision,
                user=request.user,
                comment=form.cleaned_data["comment"],
            )
        except DomainError as refused:
            self.message_user(request, refused.message, messages.ERROR)
            return back
        self.log_change(request, decided, f"{decided.get_status_display()}: {decided.comment}")
        if decision == APPROVE:
            text = (
                f"Request {decided.public_id} approved: the change of {decided.on_hand_delta:+d} to "
                f"{decided.product.sku} was applied."
            )
        else:
            text = f"Request {decided.public_id} rejected: nothing was applied."
        if decided.held and decision == APPROVE:
            text += f" Its {decided.held} held units left the stock with it."
        elif decided.held:
            text += f" The {decided.held} held units are available again."
        self.message_user(request, text, messages.SUCCESS)
        return back
