"""Back office for cycle counts: create a session, count blind, review, approve and post.

Every step calls `inventory.counts`; this module only checks who may take it (on GET and POST)
and renders. `blind_ids(request)` is the one question every admin page showing stock counts
asks (stock list and page, product list and page, history, chart, correction form).
"""

import re

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from catalog.models import Category, Product
from inventory.counts import (
    APPROVE_CORRECTION,
    COUNT_STOCK,
    MANAGE_COUNTS,
    MAX_ASSIGNEES,
    MAX_SKUS,
    CountSelection,
    count_line_approve,
    count_lines_record,
    count_review,
    count_session_cancel,
    count_session_create,
    count_session_is_assigned,
    count_session_list,
    count_session_post,
    count_session_reopen,
    count_session_submit,
)
from inventory.counts import blind_product_ids as _blind_product_ids
from inventory.imports import corrections_csv_parse
from inventory.models import MAX_COUNT_LINES, MAX_ON_HAND, CountLine, CountSession, StockImport
from techparts.admin_input import GuardedModelAdminMixin, parse_object_id
from techparts.errors import DomainError

# What a counting clerk sees where a count would be.
HIDDEN = "hidden while you count"
# Longest SKU list text the form reads: MAX_SKUS SKUs of the longest length, with separators.
_SKU_TEXT_MAX = MAX_SKUS * 66
_SKU_SEPARATORS = re.compile(r"[\s,;]+")


def blind_ids(request: HttpRequest) -> frozenset[int]:
    """Return the product ids whose counts this request's user may not see (asked once)."""
    cached = getattr(request, "_blind_product_ids", None)
    if cached is None:
        cached = _blind_product_ids(request.user)
        request._blind_product_ids = cached
    return cached


def without_blind(request: HttpRequest, rows: QuerySet) -> QuerySet:
    """Return `rows` (of a model with a `product`) without those of products the user counts
    blind: pages whose rows show counts (history, approval requests) leave them out entirely,
    so no list, filter, search, sort, page or export of them tells their counts."""
    blind = blind_ids(request)
    return rows.exclude(product_id__in=blind) if blind else rows


def blind_skus(request: HttpRequest) -> frozenset[str]:
    """Return the SKUs of the products this request's user counts blind (no query if none)."""
    blind = blind_ids(request)
    if not blind:
        return frozenset()
    return frozenset(Product.objects.filter(pk__in=blind).values_list("sku", flat=True))


def blind_import_refusal(request: HttpRequest, stock_import: StockImport) -> str | None:
    """Return why this user may not review or apply a corrections file, or None.

    Its rows' outcomes show stock, so a file naming products the user counts blind is refused.
    """
    blind = blind_skus(request)
    if not blind:
        return None
    parsed = corrections_csv_parse(text=stock_import.content)
    counting = sorted(blind & {item.sku for item in parsed.items if item.sku})
    if not counting:
        return None
    return (
        f"This file corrects {', '.join(counting)}, which you are counting in an open cycle "
        "count: their stock is hidden from you until counting ends. Remove those rows, or "
        "upload the file again once the count is submitted for review. Nothing was changed."
    )


def counters() -> QuerySet:
    """Return the active staff users who may count (the `count_stock` permission)."""
    permission = Permission.objects.filter(
        content_type__app_label="inventory", codename="count_stock"
    )
    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True)
        .filter(
            Q(is_superuser=True)
            | Q(groups__permissions__in=permission)
            | Q(user_permissions__in=permission)
        )
        .distinct()
        .order_by("username")
    )


class CountSessionCreateForm(forms.Form):
    """A manager's new session: which products (each criterion narrows) and who counts them."""

    name = forms.CharField(max_length=200, help_text="e.g. 'Aisle 7 graphics cards'.")
    category = forms.ModelChoiceField(
        queryset=Category.objects.order_by("name"), required=False, empty_label="(any)"
    )
    low_stock = forms.BooleanField(
        required=False, label="Low stock only", help_text="Available at or below the threshold."
    )
    not_counted_days = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=36500,
        label="Not counted in (days)",
        help_text="Products never counted are included.",
    )
    skus = forms.CharField(
        required=False,
        max_length=_SKU_TEXT_MAX,
        label="SKUs",
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text=f"One per line (or separated by commas), at most {MAX_SKUS}.",
    )
    assignees = forms.ModelMultipleChoiceField(
        queryset=get_user_model().objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label="Counted by",
        help_text=f"The clerks who count (at most {MAX_ASSIGNEES}).",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignees"].queryset = counters()
        self.fields["assignees"].label_from_instance = lambda user: user.get_username()

    def clean_skus(self) -> tuple[str, ...]:
        pieces = [piece for piece in _SKU_SEPARATORS.split(self.cleaned_data["skus"]) if piece]
        if len(pieces) > MAX_SKUS:
            raise forms.ValidationError(f"List at most {MAX_SKUS} SKUs ({len(pieces)} given).")
        return tuple(dict.fromkeys(piece.upper() for piece in pieces))

    def selection(self) -> CountSelection:
        data = self.cleaned_data
        return CountSelection(
            category_id=data["category"].pk if data.get("category") else None,
            low_stock=data["low_stock"],
            not_counted_days=data.get("not_counted_days"),
            skus=data["skus"],
        )

    def clean(self):
        data = super().clean()
        if not self.errors and self.selection().is_empty:
            raise forms.ValidationError(
                "Pick the products: a category, low stock, not counted in N days, or SKUs."
            )
        return data


class CountEntryForm(forms.Form):
    """The clerk's count screen: one quantity per line, and never the system quantity."""

    def __init__(self, *args, lines: list[CountLine], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            self.fields[self.field_name(line)] = forms.IntegerField(
                required=False,
                min_value=0,
                max_value=MAX_ON_HAND,
                initial=line.counted_quantity,
                label=line.product.sku,
                widget=forms.NumberInput(attrs={"class": "count-input", "size": 6}),
            )

    @staticmethod
    def field_name(line: CountLine) -> str:
        return f"line_{line.pk}"

    def rows(self) -> list[tuple[CountLine, forms.BoundField]]:
        return [(line, self[self.field_name(line)]) for line in self.lines]

    def counts(self) -> dict[int, int]:
        """Return product id -> counted quantity of every line given a number (blanks skipped)."""
        return {
            line.product_id: self.cleaned_data[self.field_name(line)]
            for line in self.lines
            if self.cleaned_data.get(self.field_name(line)) is not None
        }


@admin.register(CountSession)
class CountSessionAdmin(GuardedModelAdminMixin, admin.ModelAdmin):
    """Cycle counts: managers see and run every session; clerks see the ones assigned to them."""

    list_display = [
        "session",
        "state",
        "progress",
        "assigned_to",
        "selection",
        "created_by",
        "created_at",
        "posted_at",
    ]
    list_filter = ["state"]
    search_fields = ["name"]
    list_select_related = ["created_by"]
    list_per_page = 50

    # Permissions: the two count permissions, not the model's view/change ones.

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(MANAGE_COUNTS) or request.user.has_perm(COUNT_STOCK)

    def has_add_permission(self, request):
        return request.user.has_perm(MANAGE_COUNTS)

    def has_change_permission(self, request, obj=None):
        return False  # every change is a step of its own (count, submit, approve, post, ...)

    def has_delete_permission(self, request, obj=None):
        return False  # cancelled, never deleted

    def get_queryset(self, request):
        return count_session_list(user=request.user).prefetch_related("assignees")

    @admin.display(description="cycle count", ordering="-id")
    def session(self, obj: CountSession) -> str:
        return str(obj)

    @admin.display(description="counted")
    def progress(self, obj: CountSession) -> str:
        return f"{obj.counted_count} of {obj.line_count}"

    @admin.display(description="counted by")
    def assigned_to(self, obj: CountSession) -> str:
        return ", ".join(sorted(user.get_username() for user in obj.assignees.all()))

    def get_urls(self):
        wrap = self.admin_site.admin_view
        steps = [
            ("count", self.count_view),
            ("submit", self.submit_view),
            ("reopen", self.reopen_view),
            ("cancel", self.cancel_view),
            ("post", self.post_view),
            ("approve", self.approve_view),
        ]
        return [
            *(
                path(
                    f"<path:object_id>/{step}/",
                    wrap(view),
                    name=f"inventory_countsession_{step}",
                )
                for step, view in steps
            ),
            *super().get_urls(),
        ]

    # Pages

    def _context(self, request: HttpRequest, title: str, **extra) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "has_view_permission": self.has_view_permission(request),
            **extra,
        }

    def add_view(self, request, form_url="", extra_context=None):
        """Create a session (managers): pick products, assign clerks."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            form = CountSessionCreateForm(request.POST)
            if form.is_valid():
                try:
                    created = count_session_create(
                        name=form.cleaned_data["name"],
                        selection=form.selection(),
                        assignees=list(form.cleaned_data["assignees"]),
                        actor=request.user,
                    )
                except DomainError as exc:
                    form.add_error(None, exc.message)
                else:
                    session = created.session
                    lines = session.lines.count()
                    text = (
                        f"Cycle count {session} created with {lines} "
                        f"product{'' if lines == 1 else 's'}."
                    )
                    if created.left_out:
                        text += (
                            f" {len(created.left_out)} matching products are already in another "
                            f"open or in-review count and were left out: "
                            f"{', '.join(created.left_out[:10])}"
                            f"{' …' if len(created.left_out) > 10 else ''}."
                        )
                    self.message_user(request, text, messages.SUCCESS)
                    return redirect("admin:inventory_countsession_change", session.pk)
        else:
            form = CountSessionCreateForm()
        context = self._context(request, "New cycle count", form=form, max_lines=MAX_COUNT_LINES)
        return TemplateResponse(request, "admin/inventory/countsession/add.html", context)

    def _session(self, request: HttpRequest, object_id: str) -> CountSession:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return self.get_object_or_404(request, object_id)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The session's page: the count screen for its clerks while open, else its review."""
        session = self._session(request, object_id)
        user = request.user
        assigned = count_session_is_assigned(session=session, user=user)
        counting = session.state == CountSession.State.OPEN and assigned
        manager = user.has_perm(MANAGE_COUNTS)
        context = self._context(
            request,
            f"Cycle count {session}",
            session=session,
            original=session,
            assignees=sorted(u.get_username() for u in session.assignees.all()),
            counting=counting,
            manager=manager,
            can_submit=session.state == CountSession.State.OPEN and (manager or assigned),
            can_approve=user.has_perm(APPROVE_CORRECTION),
        )
        if counting:
            lines = list(
                session.lines.select_related("product", "counted_by").order_by("product__sku")
            )
            context["form"] = CountEntryForm(lines=lines)
        elif manager and self._counts_blind(request, session):
            # An earlier session of a product the manager now counts blind: its review shows
            # that product's on-hand then and its corrections since, like its stock history.
            context["review_hidden"] = True
        elif manager:
            context["review"] = count_review(session=session)
            if session.adjustment_group:
                context["group_url"] = (
                    reverse("admin:inventory_stockmovement_changelist")
                    + f"?adjustment_group={session.adjustment_group}"
                )
        else:
            context["my_lines"] = session.lines.filter(counted_by=user).count()
        return TemplateResponse(request, "admin/inventory/countsession/session.html", context)

    @staticmethod
    def _counts_blind(request: HttpRequest, session: CountSession) -> bool:
        blind = blind_ids(request)
        return bool(blind) and session.lines.filter(product_id__in=blind).exists()

    # Steps (POST only; each answers with the session page and a message)

    def _step(self, request: HttpRequest, object_id: str, allowed: bool, action) -> object:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        session = self._session(request, object_id)
        if not allowed(session):
            raise PermissionDenied
        try:
            text = action(session)
        except DomainError as exc:
            details = f" {' '.join(exc.details)}" if exc.details else ""
            self.message_user(request, f"{exc.message}{details}", messages.ERROR)
        else:
            self.message_user(request, text, messages.SUCCESS)
        return redirect("admin:inventory_countsession_change", session.pk)

    def count_view(self, request: HttpRequest, object_id: str):
        """Record the clerk's counts (assigned clerks holding count_stock, open sessions)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        session = self._session(request, object_id)
        if not request.user.has_perm(COUNT_STOCK):
            raise PermissionDenied
        lines = list(session.lines.select_related("product").order_by("product__sku"))
        form = CountEntryForm(request.POST, lines=lines)
        if not form.is_valid():
            context = self._context(
                request,
                f"Cycle count {session}",
                session=session,
                original=session,
                assignees=sorted(u.get_username() for u in session.assignees.all()),
                counting=True,
                can_submit=True,
                form=form,
            )
            return TemplateResponse(
                request, "admin/inventory/countsession/session.html", context, status=400
            )
        try:
            recorded = count_lines_record(
                session_id=session.pk, counts=form.counts(), actor=request.user
            )
            if "_submit" in request.POST:
                count_session_submit(session_id=session.pk, actor=request.user)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            text = f"{len(recorded)} counts recorded."
            if "_submit" in request.POST:
                text += " Counting has ended: the session is in review."
            self.message_user(request, text, messages.SUCCESS)
        return redirect("admin:inventory_countsession_change", session.pk)

    def submit_view(self, request: HttpRequest, object_id: str):
        user = request.user

        def allowed(session: CountSession) -> bool:
            return user.has_perm(MANAGE_COUNTS) or (
                user.has_perm(COUNT_STOCK) and count_session_is_assigned(session=session, user=user)
            )

        def submit(session: CountSession) -> str:
            count_session_submit(session_id=session.pk, actor=user)
            return "Counting has ended: the session is in review."

        return self._step(request, object_id, allowed, submit)

    def reopen_view(self, request: HttpRequest, object_id: str):
        user = request.user

        def reopen(session: CountSession) -> str:
            count_session_reopen(session_id=session.pk, actor=user)
            return "The session is open for counting again; its counts are kept."

        return self._step(request, object_id, lambda s: user.has_perm(MANAGE_COUNTS), reopen)

    def cancel_view(self, request: HttpRequest, object_id: str):
        user = request.user

        def cancel(session: CountSession) -> str:
            count_session_cancel(session_id=session.pk, actor=user)
            return "The session is cancelled; nothing was posted."

        return self._step(request, object_id, lambda s: user.has_perm(MANAGE_COUNTS), cancel)

    def post_view(self, request: HttpRequest, object_id: str):
        user = request.user

        def post(session: CountSession) -> str:
            posting = count_session_post(session_id=session.pk, actor=user)
            return (
                f"Posted: {posting.adjusted} of {posting.counted} counted products adjusted "
                f"(reason 'Cycle count', reference '{posting.session.reference}')."
            )

        return self._step(request, object_id, lambda s: user.has_perm(MANAGE_COUNTS), post)

    def approve_view(self, request: HttpRequest, object_id: str):
        """Approve one line's variance (POST `line`: its id)."""
        user = request.user
        line_pk = parse_object_id(CountLine, request.POST.get("line"))

        def approve(session: CountSession) -> str:
            line = session.lines.filter(pk=line_pk).first() if line_pk is not None else None
            if line is None:
                raise DomainError("No such line in this cycle count.")
            line = count_line_approve(line_id=line.pk, actor=user)
            return f"The variance of {line.product.sku} is approved."

        return self._step(request, object_id, lambda s: user.has_perm(APPROVE_CORRECTION), approve)


def hidden_count_html() -> str:
    """The marker shown instead of a count the user is counting blind."""
    return format_html('<span class="count-hidden">{}</span>', HIDDEN)


def hidden_stock_response(request: HttpRequest, context: dict) -> TemplateResponse:
    """The page shown instead of a product's stock (correction form, chart and history) while
    the user counts it blind: which sessions, and that corrections wait until counting ends."""
    record = context["original"]
    context["counting_sessions"] = list(
        CountSession.objects.filter(
            state=CountSession.State.OPEN,
            assignees=request.user,
            lines__product_id=record.product_id,
        ).distinct()
    )
    return TemplateResponse(
        request,
        "admin/inventory/stockrecord/hidden.html",
        context,
        status=403 if request.method == "POST" else 200,
    )
