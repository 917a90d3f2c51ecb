from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from techparts.admin_input import guard_admin_site
from techparts.admin_login import fix_axes_admin
from techparts.api.views import DocsView, SchemaView, UnknownEndpoint, healthz

admin.site.site_header = "TechParts back office"
admin.site.site_title = "TechParts"
fix_axes_admin(admin.site)
guard_admin_site(admin.site)  # every admin, Django's and third parties' too, gets the input guards

v1_patterns = [
    path("", include("shop.urls")),
    path("", include("inventory.urls")),
    path("", include("orders.urls")),
    path("", include("techparts.events.urls")),
    path("", include("webhooks.urls")),
    path("schema/", SchemaView.as_view(), name="schema"),
    path("docs/", DocsView.as_view(url_name="schema"), name="docs"),
]

urlpatterns = [
    path("v1/", include(v1_patterns)),
    re_path(r"^v1(?:/.*)?$", UnknownEndpoint.as_view()),
    path("healthz", healthz, name="healthz"),
    path("", include("orders.public_urls")),
    path("admin/", admin.site.urls),
]

if settings.BENCH_FLOOR_VIEWS:
    # Bench-only bare views (`make bench`, shop/floor/); `check --deploy` refuses the setting.
    urlpatterns.insert(0, path("bench/floor/", include("shop.floor.urls")))

handler400 = "techparts.api.errors.handler400"
handler403 = "techparts.api.errors.handler403"
handler404 = "techparts.api.errors.handler404"
handler500 = "techparts.api.errors.handler500"
