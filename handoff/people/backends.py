"""Password sign-in: throttled (django-axes) and, with LOCAL_LOGIN off, for superusers only."""

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth.backends import ModelBackend


class SignInThrottleBackend(AxesStandaloneBackend):
    """django-axes' check, first of AUTHENTICATION_BACKENDS: a user name or an address with too
    many failed sign-ins (AXES_FAILURE_LIMIT within AXES_COOLOFF_TIME) is refused before any
    password is checked, whether the name exists or not.

    Every password form of the portal (the sign-in page, the admin's) passes the request. Only
    the test client's login() has none; it is let through rather than refused with an error."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class LocalPasswordBackend(ModelBackend):
    """Django's password check, for everyone while LOCAL_LOGIN is on and for superusers (the
    break-glass accounts) when it is off. A refused person gets the same answer as a wrong
    password, so the answer says nothing about the name."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None and not (settings.LOCAL_LOGIN or user.is_superuser):
            return None
        return user


def client_address(request) -> str:
    """The address failed sign-ins are counted by. Behind the TLS proxy (BEHIND_TLS_PROXY) it is
    the last X-Forwarded-For entry, the one our proxy added; earlier ones a client can forge."""
    if settings.SECURE_PROXY_SSL_HEADER:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    return request.META.get("REMOTE_ADDR", "")


def attempted_username(request, credentials) -> str:
    """The user name failures are counted by: as typed, without NUL (PostgreSQL refuses it in
    text) and cut to 150 characters, a user name's longest (axes' column holds 255; the
    generated-input test sends 100,000)."""
    if credentials:
        name = credentials.get(settings.AXES_USERNAME_FORM_FIELD)
    else:
        name = request.POST.get(settings.AXES_USERNAME_FORM_FIELD)
    return str(name or "").replace("\x00", "")[:150]
