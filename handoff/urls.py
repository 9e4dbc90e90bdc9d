from django.apps import apps
from django.contrib import admin
from django.urls import include, path

from handoff.health import healthz
from handoff.people import sso
from handoff.people.views import PasswordChangeView, SignInView, SignOutView

urlpatterns = [
    path("sign-in/", SignInView.as_view(), name="login"),
    path("sign-in/sso/", sso.SsoStartView.as_view(), name="sso_start"),
    path("sign-in/sso/callback/", sso.sso_callback, name="sso_callback"),
    path("sign-out/", SignOutView.as_view(), name="logout"),
    path("password/", PasswordChangeView.as_view(), name="password_change"),
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
