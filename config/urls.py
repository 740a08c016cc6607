from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.decorators.cache import cache_page
from django.views.generic import TemplateView
from django.views.i18n import JavaScriptCatalog

from config.api_docs import DocsView, SchemaView
from config.health import healthz
from config.metrics import metrics

admin.site.site_header = "Plaudit administration"
admin.site.site_title = "Plaudit admin"
admin.site.index_title = "Approvals, catalogue, rules and audit"

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("admin/", admin.site.urls),
    # Operations (docs/operations.md); /health belongs to the Point System protocol below.
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    # Where a login lands depends on the door's rights: the view is checkin's (checkin/navigation.py).
    path("accounts/login/", include("checkin.login_urls")),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The language switcher posts here (Django's set_language); the scripts' messages come from the catalogue.
    path("i18n/", include("django.conf.urls.i18n")),
    # Every page loads it; an hour's cache per language (Django keys cached pages by the active language).
    path("jsi18n/", cache_page(3600)(JavaScriptCatalog.as_view()), name="javascript-catalog"),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    # A split view: Swagger UI's start-up script is a file, since the Content-Security-Policy allows no inline script.
    path("api/docs/", DocsView.as_view(url_name="api-schema"), name="api-docs"),
    # First of the API: a QR claim is the busiest API write, and the resolver tries patterns in order
    # (it came after ~80 others, a quarter of a millisecond per request). No pattern above or in the
    # other api/v1/ includes matches api/v1/points/, so moving it here changes no route.
    path("api/v1/points/", include("points_bridge.api_urls")),
    path("api/v1/", include("engagement.urls")),
    path("api/v1/", include("rewards.urls")),
    path("api/v1/", include("checkin.urls")),
    # The Point System protocol lives at the root of the site (its clients drop any base path). Before
    # the pages, after the API: its awards were resolved after every pattern of the site (~6 % of an
    # award's CPU), while the API's paths never reach it. Every protocol path starts with health,
    # leaderboard or points, and no page's does (tests/test_urls.py), so the order changes no route.
    path("", include("points_bridge.urls")),
    path("", include("engagement.page_urls")),
    path("", include("checkin.page_urls")),
    path("", include("points_bridge.page_urls")),
] + static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# JSON under /api/ and the Point System's paths, the site's HTML elsewhere (config/error_pages.py).
handler400 = "config.error_pages.bad_request"
handler403 = "config.error_pages.permission_denied"
handler404 = "config.error_pages.page_not_found"
handler500 = "config.error_pages.server_error"
