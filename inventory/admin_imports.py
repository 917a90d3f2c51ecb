"""Back office: stock corrections from a CSV file (inventory.imports), for `correct_stock`.

Upload -> review (a dry run of the bulk service: every row's outcome, nothing changed) ->
apply (the same file, through the same bulk service as POST /v1/inventory/bulk, as one
adjustment group). The views only call inventory.imports; permissions are checked on every
request, GET and POST.
"""

from uuid import UUID

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from inventory import reasons
from inventory.admin_counts import blind_import_refusal
from inventory.errors import BulkRejected, CorrectionsFileRefused
from inventory.imports import (
    COLUMNS,
    MAX_FILE_BYTES,
    MAX_ROWS,
    NOTE_MAX_LENGTH,
    ImportReview,
    StockMovedSinceReview,
    corrections_template_rows,
    stock_import_apply,
    stock_import_create,
    stock_import_get,
    stock_import_review,
)
from inventory.services import ALL_OR_NOTHING, PENDING_APPROVAL, REJECT_FAILED_ITEMS
from techparts.csv_export import csv_lines, csv_response
from techparts.errors import DomainError

CORRECT = "inventory.correct_stock"
VIEW_HISTORY = "inventory.view_stockmovement"
# A multipart body is the file plus a few hundred bytes of form fields and boundaries.
MAX_UPLOAD_BODY = MAX_FILE_BYTES + 64 * 1024


class CorrectionsUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        error_messages={"required": "Choose a CSV file to upload."},
        help_text=f"UTF-8 CSV, comma- or semicolon-separated, at most {MAX_ROWS} rows "
        f"and {MAX_FILE_BYTES // 1024} KB.",
    )


class CorrectionsApplyForm(forms.Form):
    error_policy = forms.ChoiceField(
        label="If a row fails",
        choices=[
            (ALL_OR_NOTHING, "All or nothing: apply only if every row passes"),
            (REJECT_FAILED_ITEMS, "Apply the rows that pass and skip the failing ones"),
        ],
        initial=ALL_OR_NOTHING,
        widget=forms.RadioSelect,
    )
    # The reviewed outcomes' fingerprint: the apply goes ahead only if they still hold.
    reviewed = forms.RegexField(regex=r"\A[0-9a-f]{64}\Z", widget=forms.HiddenInput)


class StockImportAdminMixin:
    """The import pages, hung under the stock list (StockRecordAdmin)."""

    def import_urls(self) -> list:
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_upload_view), name="inventory_stockrecord_import"),
            path(
                "import/template.csv",
                wrap(self.import_template_view),
                name="inventory_stockrecord_import_template",
            ),
            path(
                "import/<uuid:object_id>/",
                wrap(self.import_review_view),
                name="inventory_stockrecord_import_review",
            ),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {"can_import": request.user.has_perm(CORRECT)}
        return super().changelist_view(request, {**extra, **(extra_context or {})})

    def _import_context(self, request: HttpRequest, title: str) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "columns": COLUMNS,
            "max_rows": MAX_ROWS,
            "note_max_length": NOTE_MAX_LENGTH,
            "reason_codes": reasons.caller_code_choices(),
            "template_url": reverse("admin:inventory_stockrecord_import_template"),
        }

    # CSRF is checked below, after the body's size: the check itself would read the body.
    @csrf_exempt
    def import_upload_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a corrections file; a readable one goes on to its review."""
        if not request.user.has_perm(CORRECT):
            raise PermissionDenied
        if request.method == "POST" and _content_length(request) > MAX_UPLOAD_BODY:
            # Refused from its declared length, before Django reads (and stores) the body.
            too_large = (
                f"The file is larger than {MAX_FILE_BYTES // 1024} KB; split it into smaller files."
            )
            return self._upload_page(request, CorrectionsUploadForm(), error=too_large, status=413)
        return csrf_protect(self._upload)(request)

    def _upload(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return self._upload_page(request, CorrectionsUploadForm())
        form = CorrectionsUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                stock_import = stock_import_create(
                    user=request.user,
                    filename=upload.name or "upload.csv",
                    data=upload.read(MAX_FILE_BYTES + 1),
                )
            except CorrectionsFileRefused as exc:
                form.add_error("file", exc.message)
            else:
                return redirect("admin:inventory_stockrecord_import_review", stock_import.id)
        return self._upload_page(request, form, status=400)

    def _upload_page(
        self, request: HttpRequest, form, *, error: str | None = None, status: int = 200
    ) -> TemplateResponse:
        context = {
            **self._import_context(request, "Import stock corrections (CSV)"),
            "form": form,
            "error": error,
        }
        return TemplateResponse(
            request, "admin/inventory/stockrecord/import_upload.html", context, status=status
        )

    def import_template_view(self, request: HttpRequest) -> HttpResponse:
        """The CSV template: the header and two example rows."""
        if not request.user.has_perm(CORRECT):
            raise PermissionDenied
        return csv_response(
            csv_lines(COLUMNS, corrections_template_rows()),
            filename="stock-corrections-template.csv",
        )

    def import_review_view(self, request: HttpRequest, object_id: UUID) -> HttpResponse:
        """GET: the dry run (or, once applied, the result). POST: apply the reviewed file."""
        if not request.user.has_perm(CORRECT):
            raise PermissionDenied
        try:
            stock_import = stock_import_get(import_id=object_id, user=request.user)
        except DomainError as exc:
            raise Http404(exc.message) from exc
        # Its rows' outcomes show stock: not of products the user counts blind (cycle counts).
        if refusal := blind_import_refusal(request, stock_import):
            self.message_user(request, refusal, messages.ERROR)
            return redirect("admin:inventory_stockrecord_import")
        if request.method != "POST":
            review = stock_import_review(stock_import=stock_import)
            return self._review_page(request, review, CorrectionsApplyForm())
        form = CorrectionsApplyForm(request.POST)
        if not form.is_valid():
            review = stock_import_review(stock_import=stock_import)
            return self._review_page(request, review, form, status=400)
        try:
            review = stock_import_apply(
                import_id=object_id,
                user=request.user,
                error_policy=form.cleaned_data["error_policy"],
                reviewed=form.cleaned_data["reviewed"],
            )
        except StockMovedSinceReview as exc:
            return self._review_page(request, exc.review, form, error=exc.message, status=409)
        except DomainError as exc:
            stock_import.refresh_from_db()
            review = stock_import_review(stock_import=stock_import)
            message = exc.message
            if isinstance(exc, BulkRejected):
                message = (
                    f"Nothing was applied: {len(exc.extra['failed_items'])} of "
                    f"{len(review.rows)} rows fail (see below). Correct them and upload the "
                    "file again, or choose to apply the rows that pass."
                )
            return self._review_page(
                request, review, CorrectionsApplyForm(request.POST), error=message, status=409
            )
        waiting = review.count(PENDING_APPROVAL)
        self.message_user(
            request,
            f"Applied {stock_import.filename}: {review.count('applied')} rows changed stock, "
            f"{review.count('unchanged')} unchanged, {review.count('failed')} failed"
            + (f", {waiting} waiting for a second person's approval." if waiting else "."),
            messages.SUCCESS,
        )
        return redirect("admin:inventory_stockrecord_import_review", object_id)

    def _review_page(
        self,
        request: HttpRequest,
        review: ImportReview,
        form: CorrectionsApplyForm,
        *,
        error: str | None = None,
        status: int = 200,
    ) -> TemplateResponse:
        if not review.applied:
            form = CorrectionsApplyForm(
                {
                    "error_policy": form.data.get("error_policy", ALL_OR_NOTHING),
                    "reviewed": review.fingerprint,
                }
            )
        group = review.adjustment_group
        context = {
            **self._import_context(
                request,
                f"{'Applied' if review.applied else 'Review'}: {review.stock_import.filename}",
            ),
            "review": review,
            "form": form,
            "error": error,
            "upload_url": reverse("admin:inventory_stockrecord_import"),
            "history_url": (
                reverse("admin:inventory_stockmovement_changelist") + f"?adjustment_group={group}"
                if group is not None and request.user.has_perm(VIEW_HISTORY)
                else None
            ),
            "applied_at": (
                timezone.localtime(review.stock_import.applied_at) if review.applied else None
            ),
        }
        return TemplateResponse(
            request, "admin/inventory/stockrecord/import_review.html", context, status=status
        )


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0
