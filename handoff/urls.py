from django.apps import apps
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from handoff.health import healthz

urlpatterns = [
    path("sign-in/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("", include("handoff.accounts.urls")),
    path("", include("deployments.urls")),
    path("", include("logs.urls")),
    path("", include("handoff.closeout.urls")),
]
if apps.is_installed("vitally_sync"):  # the portal works without it
    urlpatterns.append(path("", include("vitally_sync.urls")))

handler403 = "handoff.errors.permission_denied_view"
