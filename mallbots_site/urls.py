from django.contrib import admin
from django.contrib.staticfiles import views as static_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from mallbots_site import health, schemas

handler400 = "web.errors.bad_request_view"
handler404 = "web.errors.not_found_view"
handler500 = "web.errors.server_error_view"

# Django tries the patterns in order, one by one: the modules' API comes first, the kiosk's busiest first
# (their first path segments differ, so the order changes no match; ADR 27).
API_MODULES = ("baskets", "ordering", "payments", "customers", "stores", "depot", "search")

urlpatterns = [path("api/", include(f"{module}.api")) for module in API_MODULES]
urlpatterns += [
    path("admin/", admin.site.urls),
    path("", include("search.pages")),
    path("liveness", health.liveness, name="liveness"),
    path("readiness", health.readiness, name="readiness"),
    path("metrics", health.metrics, name="metrics"),
    path("static/<path:path>", static_views.serve, {"insecure": True}),
    path("api/schema", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/asyncapi", schemas.asyncapi, name="asyncapi"),
]

