"""The admin's stock overview (Inventory managers): a period's movements, loss and top products.

Numbers come from inventory.dashboard (aggregated in the database); the charts are drawn here
as server-side SVG (inventory.charts), and each chart's numbers download as CSV.
"""

from datetime import date

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.safestring import SafeString

from catalog.models import Category
from inventory.admin_counts import blind_ids
from inventory.charts import BarRow, BarSeries, bar_chart_svg
from inventory.dashboard import (
    CHARTS,
    DEFAULT_PRESET,
    PRESETS,
    Amount,
    InOut,
    Period,
    StockOverview,
    chart_csv_lines,
    period_of,
    stock_overview,
    store_today,
)
from inventory.models import StockOverview as StockOverviewPage
from techparts.admin_input import GuardedModelAdminMixin
from techparts.csv_export import csv_response

VIEW_OVERVIEW = "inventory.view_stockoverview"
# Dates a period may start or end on: the database and every time zone can hold their
# midnights (year 1 in a zone east of UTC would be before the first representable instant).
FIRST_DATE, LAST_DATE = date(1900, 1, 1), date(9998, 12, 31)
IN_SERIES = BarSeries("In (units)", "#16a34a")
OUT_SERIES = BarSeries("Out (units)", "#dc2626")
LOSS_SERIES = BarSeries("Loss value", "#b45309")
MOVES_SERIES = BarSeries("Movements", "#2563eb")


class OverviewForm(forms.Form):
    """The period (a preset, or custom dates in the store's time zone) and optional category."""

    period = forms.ChoiceField(choices=PRESETS, required=False, initial=DEFAULT_PRESET)
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    category = forms.ChoiceField(required=False)

    def __init__(self, *args, categories: list[Category], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "All categories")] + [
            (str(category.pk), category.name) for category in categories
        ]

    def clean(self):
        data = super().clean()
        preset = data.get("period") or DEFAULT_PRESET
        data["period"] = preset
        if preset != "custom":
            return data
        first, last = data.get("date_from"), data.get("date_to")
        if first is None or last is None:
            if "date_from" not in self.errors and "date_to" not in self.errors:
                raise forms.ValidationError("Custom dates need both a From and a To date.")
            return data
        if first > last:
            raise forms.ValidationError("The From date must be on or before the To date.")
        if first < FIRST_DATE or last > LAST_DATE:
            raise forms.ValidationError(
                f"Dates must be between {FIRST_DATE:%Y-%m-%d} and {LAST_DATE:%Y-%m-%d}."
            )
        return data

    def chosen_period(self) -> Period:
        data = self.cleaned_data
        return period_of(
            data["period"],
            today=store_today(),
            first_day=data.get("date_from"),
            last_day=data.get("date_to"),
        )

    def category_name(self) -> str:
        value = self.cleaned_data.get("category")
        return dict(self.fields["category"].choices)[value] if value else ""

    def category_id(self) -> int | None:
        value = self.cleaned_data.get("category")
        return int(value) if value else None


def _in_out_chart(title: str, groups: list[InOut]) -> SafeString:
    rows = [
        BarRow(
            label=group.label,
            lengths=(group.incoming.units, group.outgoing.units),
            texts=(group.incoming.text, group.outgoing.text),
        )
        for group in groups
    ]
    return bar_chart_svg(
        title=title, rows=rows, series=[IN_SERIES, OUT_SERIES], empty="Nothing moved."
    )


def _loss_chart(title: str, losses: list[tuple[str, Amount]]) -> SafeString:
    # Bars by known value; a loss of unknown value is a hairline that says so in its text.
    rows = [
        BarRow(label=label, lengths=(loss.value,), texts=(loss.text,)) for label, loss in losses
    ]
    return bar_chart_svg(
        title=title, rows=rows, series=[LOSS_SERIES], empty="No loss in this period."
    )


def overview_charts(overview: StockOverview) -> dict[str, SafeString]:
    """Return the SVG of each chart (CHARTS' names) for the overview."""
    return {
        "kinds": _in_out_chart(CHARTS["kinds"], overview.by_kind),
        "reasons": _in_out_chart(CHARTS["reasons"], overview.by_reason),
        "loss": _loss_chart(
            CHARTS["loss"], [(group.label, group.outgoing) for group in overview.loss_by_reason]
        ),
        "top-loss": _loss_chart(
            CHARTS["top-loss"],
            [(f"{item.sku} {item.name}", item.amount) for item in overview.top_loss],
        ),
        "top-moves": bar_chart_svg(
            title=CHARTS["top-moves"],
            rows=[
                BarRow(
                    label=f"{item.sku} {item.name}",
                    lengths=(item.movements,),
                    texts=(
                        f"{item.movements} movements (+{item.units_in} / -{item.units_out} units)",
                    ),
                )
                for item in overview.top_moves
            ],
            series=[MOVES_SERIES],
            empty="Nothing moved.",
        ),
    }


@admin.register(StockOverviewPage)
class StockOverviewAdmin(GuardedModelAdminMixin, admin.ModelAdmin):
    """Inventory > Stock overview: a page, not a list of rows (its URL is the change list's)."""

    # What the page and its CSVs read from the query string (OverviewForm's fields).
    query_parameters = ("period", "date_from", "date_to", "category")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(VIEW_OVERVIEW)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("", wrap(self.overview_view), name="inventory_stockoverview_changelist"),
            path("csv/<str:chart>/", wrap(self.csv_view), name="inventory_stockoverview_csv"),
        ]

    def _form(self, request: HttpRequest) -> OverviewForm:
        categories = list(Category.objects.order_by("name", "pk"))
        return OverviewForm(request.GET or {"period": DEFAULT_PRESET}, categories=categories)

    def _overview(self, request: HttpRequest, form: OverviewForm) -> StockOverview:
        # Products the user counts blind (cycle counts) are left out of every number.
        return stock_overview(
            period=form.chosen_period(),
            category_id=form.category_id(),
            hidden_product_ids=blind_ids(request),
        )

    def overview_view(self, request: HttpRequest):
        """Show the overview for the chosen period and category (GET parameters)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = self._form(request)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Stock overview",
            "form": form,
            "store_time_zone": settings.STORE_TIME_ZONE,
        }
        if form.is_valid():
            overview = self._overview(request, form)
            query = urlencode(
                {
                    name: value
                    for name, value in request.GET.items()
                    if name in form.fields and value
                }
            )
            low = {"level": "low"}
            if overview.category_id is not None:
                low["product__category__id__exact"] = overview.category_id
            svgs = overview_charts(overview)
            csv_query = f"?{query}" if query else ""
            context.update(
                overview=overview,
                category_name=form.category_name(),
                charts=[
                    {
                        "name": name,
                        "title": title,
                        "svg": svgs[name],
                        "csv_url": reverse("admin:inventory_stockoverview_csv", args=[name])
                        + csv_query,
                    }
                    for name, title in CHARTS.items()
                ],
                low_stock_url=reverse("admin:inventory_stockrecord_changelist")
                + "?"
                + urlencode(low),
            )
        return TemplateResponse(request, "admin/inventory/stockoverview/overview.html", context)

    def csv_view(self, request: HttpRequest, chart: str):
        """Download the numbers behind one chart, for the same period and category."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if chart not in CHARTS:
            raise Http404("No such chart.")
        form = self._form(request)
        if not form.is_valid():
            problems = "; ".join(str(error) for errors in form.errors.values() for error in errors)
            return HttpResponse(
                f"Cannot export: {problems}", status=400, content_type="text/plain; charset=utf-8"
            )
        overview = self._overview(request, form)
        period = overview.period
        filename = f"stock-overview-{chart}-{period.first_day:%Y%m%d}-{period.last_day:%Y%m%d}.csv"
        return csv_response(chart_csv_lines(overview, chart), filename=filename)
