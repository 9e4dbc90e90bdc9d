"""Sign-in with the company's identity provider (OpenID Connect), on mozilla-django-oidc.

The library does the authorization code flow: state, nonce and the PKCE verifier kept in the
session and used once, the token request, the ID token's signature against the provider's
published keys, and the nonce. This module adds what it leaves to its users:

- discovery: the provider's endpoints come from OIDC_ISSUER's openid-configuration, whose
  `issuer` must be OIDC_ISSUER itself (cached for an hour);
- the ID token's issuer, audience (and `azp`), expiry and issue time are checked too;
- people are found by issuer + `sub` (people.services.person_sso_sign_in), never by e-mail;
- a refusal (no group that gives access, deactivated in the portal, a tampered or replayed
  answer) is a page of the portal that says so, and a line in the security log.
"""

import logging
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
import requests
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils.decorators import method_decorator
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationRequestView

from handoff.people.models import User
from handoff.people.services import SsoRefusedError, person_sso_sign_in

logger = logging.getLogger("handoff.security")

BACKEND = "handoff.people.sso.SsoBackend"
# The library's session key for the ID token; sign-out sends it back as id_token_hint.
ID_TOKEN_SESSION_KEY = "oidc_id_token"  # noqa: S105  # nosec B105  # a key's name, no secret
DISCOVERY_SECONDS = 3600
LEEWAY_SECONDS = 60  # clock difference tolerated on exp and iat

# The library's settings, as this portal names or fixes them.
_ALIASES = {
    "OIDC_RP_CLIENT_ID": "OIDC_CLIENT_ID",
    "OIDC_RP_CLIENT_SECRET": "OIDC_CLIENT_SECRET",  # nosec B105  # a setting's name
    "OIDC_RP_SCOPES": "OIDC_SCOPES",
    "OIDC_RP_SIGN_ALGO": "OIDC_SIGN_ALGORITHM",
}
_FIXED: dict[str, Any] = {
    "OIDC_USE_PKCE": True,
    "OIDC_PKCE_CODE_CHALLENGE_METHOD": "S256",
    "OIDC_USE_NONCE": True,
    # The ID token is kept for sign-out's id_token_hint; the access token is not needed.
    "OIDC_STORE_ID_TOKEN": True,  # nosec B105  # a setting's name
    "OIDC_STORE_ACCESS_TOKEN": False,  # nosec B105  # a setting's name
    # client_secret_basic: Okta, Entra ID and Google take it.
    "OIDC_TOKEN_USE_BASIC_AUTH": True,  # nosec B105  # a setting's name
    "OIDC_ALLOW_UNSECURED_JWT": False,
    "OIDC_VERIFY_SSL": True,
    "OIDC_TIMEOUT": 10,
    "OIDC_AUTHENTICATION_CALLBACK_URL": "sso_callback",
    "OIDC_REDIRECT_FIELD_NAME": "next",
}


def _setting(attr: str, *default):
    if attr in _FIXED:
        return _FIXED[attr]
    return import_from_settings(_ALIASES.get(attr, attr), *default)


class SsoUnavailableError(Exception):
    """The provider's discovery document could not be read or names another issuer."""


def sso_configured() -> bool:
    return bool(settings.OIDC_ISSUER and settings.OIDC_CLIENT_ID)


_discovered: dict[str, tuple[float, dict]] = {}


def discovery() -> dict:
    """The provider's openid-configuration, read once an hour per process."""
    issuer = settings.OIDC_ISSUER
    cached = _discovered.get(issuer)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=10)
        response.raise_for_status()
        config = response.json()
    except (requests.RequestException, ValueError) as error:
        raise SsoUnavailableError(f"discovery at {url} failed: {error}") from error
    if config.get("issuer") != issuer:  # OpenID Connect Discovery 1.0, section 4.3
        raise SsoUnavailableError(f"discovery names issuer {config.get('issuer')!r}")
    _discovered[issuer] = (time.monotonic() + DISCOVERY_SECONDS, config)
    return config


class SsoBackend(OIDCAuthenticationBackend):
    """Signs a person in from the provider's answer. Django's authenticate() never reaches it
    (a user name and password are not its business); the callback view calls `sign_in`.

    Being listed in AUTHENTICATION_BACKENDS lets the session find the person again, through
    ModelBackend's get_user, which refuses a person who has been deactivated since."""

    get_settings = staticmethod(_setting)
    get_user = ModelBackend.get_user

    def __init__(self, *args, **kwargs):
        self.UserModel = User

    def authenticate(self, request, **kwargs):
        return None

    def sign_in(self, request, *, nonce: str, code_verifier: str | None) -> User | None:
        config = discovery()
        self.OIDC_OP_TOKEN_ENDPOINT = config["token_endpoint"]
        self.OIDC_OP_USER_ENDPOINT = config.get("userinfo_endpoint")
        self.OIDC_OP_JWKS_ENDPOINT = config["jwks_uri"]
        self.OIDC_RP_CLIENT_ID = settings.OIDC_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_SIGN_ALGORITHM
        self.OIDC_RP_IDP_SIGN_KEY = None
        return super().authenticate(request, nonce=nonce, code_verifier=code_verifier)

    def _verify_jws(self, payload, key):
        """The signature (the library checks the nonce after), and the ID token's issuer,
        audience, expiry and issue time, which the library leaves unchecked."""
        algorithm = jwt.get_unverified_header(payload).get("alg")
        if algorithm != self.OIDC_RP_SIGN_ALGO:
            raise SuspiciousOperation(f"ID token signed with {algorithm!r}")
        try:
            claims = jwt.decode(
                payload,
                key,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=settings.OIDC_ISSUER,
                leeway=LEEWAY_SECONDS,
                options={"require": ["iss", "sub", "aud", "exp", "iat"]},
            )
        except jwt.InvalidTokenError as error:
            raise SuspiciousOperation(f"ID token refused: {error}") from error
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.OIDC_RP_CLIENT_ID:
            raise SuspiciousOperation("ID token for several audiences, not authorized for us")
        return claims

    def get_or_create_user(self, access_token, id_token, payload):
        userinfo = {}
        if self.OIDC_OP_USER_ENDPOINT:
            userinfo = self.get_userinfo(access_token, id_token, payload)
            if userinfo.get("sub") != payload["sub"]:  # OpenID Connect Core 1.0, 5.3.2
                raise SuspiciousOperation("userinfo is about someone else")
        return person_sso_sign_in(
            issuer=payload["iss"],
            claims={**userinfo, **payload},  # the signed ID token wins
            groups_claim=settings.OIDC_GROUPS_CLAIM,
            group_roles=settings.OIDC_GROUP_ROLES,
            staff_groups=settings.OIDC_STAFF_GROUPS,
        )


@method_decorator(login_not_required, name="dispatch")
class SsoStartView(OIDCAuthenticationRequestView):
    """ "Sign in with SSO": off to the provider with a fresh state, nonce and PKCE challenge."""

    get_settings = staticmethod(_setting)

    def __init__(self, **kwargs):
        super(OIDCAuthenticationRequestView, self).__init__(**kwargs)

    def get(self, request):
        if not sso_configured():
            raise Http404("SSO is not configured")
        try:
            self.OIDC_OP_AUTH_ENDPOINT = discovery()["authorization_endpoint"]
        except (SsoUnavailableError, KeyError) as error:
            logger.error("SSO unavailable: %s", error)
            return _refused(request, "unavailable", status=502)
        self.OIDC_RP_CLIENT_ID = settings.OIDC_CLIENT_ID
        return super().get(request)


@login_not_required
def sso_callback(request):
    """The provider sends the person back here with a code and the state we gave it."""
    if not sso_configured():
        raise Http404("SSO is not configured")
    states = request.session.get("oidc_states", {})
    state = request.GET.get("state", "")
    # Each state is used once, whatever happens next (the library's rule against replays).
    entry = states.pop(state, None) if isinstance(states, dict) else None
    request.session.modified = True
    if entry is None or request.GET.get("error") or not request.GET.get("code"):
        _log_refusal(request, "no matching state, or the provider answered with an error")
        return _refused(request, "incomplete", status=400)
    next_url = request.session.get("oidc_login_next")
    try:
        user = SsoBackend().sign_in(
            request, nonce=entry.get("nonce"), code_verifier=entry.get("code_verifier")
        )
    except SsoRefusedError as refusal:
        _log_refusal(request, f"{refusal.reason}, groups={refusal.groups!r}")
        return _refused(request, refusal.reason, status=403)
    except (SsoUnavailableError, SuspiciousOperation, requests.RequestException) as error:
        _log_refusal(request, str(error)[:500])
        return _refused(request, "incomplete", status=400)
    if user is None or not user.is_active:
        _log_refusal(request, "no person")
        return _refused(request, "incomplete", status=400)
    id_token = request.session.get(ID_TOKEN_SESSION_KEY)
    auth.login(request, user, backend=BACKEND)
    request.session[ID_TOKEN_SESSION_KEY] = id_token
    return HttpResponseRedirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))


def _log_refusal(request, why: str) -> None:
    logger.warning(
        "SSO sign-in refused: %s address=%r", why[:500], request.META.get("REMOTE_ADDR", "")
    )


def _refused(request, reason: str, *, status: int):
    # A person the provider signed in but the portal refuses can only try another company
    # account once the provider's session ends: "Sign in with SSO" would sign them in again.
    switch_url = None
    if reason in (SsoRefusedError.NO_GROUP, SsoRefusedError.DEACTIVATED):
        switch_url = end_session_url(request, request.session.pop(ID_TOKEN_SESSION_KEY, None))
    return render(
        request,
        "people/sso_refused.html",
        {
            "switch_url": switch_url,
            "reason": reason,
            "access_groups": sorted(
                {*settings.OIDC_GROUP_ROLES, *settings.OIDC_STAFF_GROUPS}, key=str.casefold
            ),
            "local_login": settings.LOCAL_LOGIN,
        },
        status=status,
    )


def end_session_url(request, id_token: str | None) -> str | None:
    """Where sign-out sends the browser to end the provider's session too (RP-initiated logout),
    when this session came from the provider and the provider advertises end_session_endpoint.
    The provider then returns to the sign-in page."""
    if not (id_token and sso_configured()):
        return None
    try:
        endpoint = discovery().get("end_session_endpoint")
    except SsoUnavailableError as error:
        logger.error("SSO unavailable at sign-out, the provider's session stays: %s", error)
        return None
    if not endpoint:
        return None
    query = urlencode(
        {
            "id_token_hint": id_token,
            "client_id": settings.OIDC_CLIENT_ID,
            "post_logout_redirect_uri": request.build_absolute_uri(reverse("login")),
        }
    )
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


class SsoFormActionMiddleware:
    """The top bar's Sign out form ends, after its POST, at the provider's end_session_endpoint:
    CSP's form-action must allow the provider's origin on every page that has that form."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if sso_configured():
            issuer = urlsplit(settings.OIDC_ISSUER)
            update = dict(getattr(response, "_csp_update", None) or {})
            update["form-action"] = [
                *update.get("form-action", []),
                f"{issuer.scheme}://{issuer.netloc}",
            ]
            response._csp_update = update
        return response
