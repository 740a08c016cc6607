from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import TemplateView

from config.api_docs import DocsView, SchemaView
from config.health import healthz
from config.metrics import metrics

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("admin/", admin.site.urls),
    # Operations (docs/operations.md); /health belongs to the Point System protocol below.
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    # A split view: Swagger UI's start-up script is a file, since the Content-Security-Policy allows no inline script.
    path("api/docs/", DocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("engagement.urls")),
    path("api/v1/", include("rewards.urls")),
    path("api/v1/", include("checkin.urls")),
    path("", include("engagement.page_urls")),
    path("", include("checkin.page_urls")),
    path("", include("points_bridge.page_urls")),
    # Last: the Point System protocol lives at the root of the site (its clients drop any base path).
    path("", include("points_bridge.urls")),
] + static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# JSON under /api/ and the Point System's paths, the site's HTML elsewhere (config/error_pages.py).
handler400 = "config.error_pages.bad_request"
handler403 = "config.error_pages.permission_denied"
handler404 = "config.error_pages.page_not_found"
handler500 = "config.error_pages.server_error"
