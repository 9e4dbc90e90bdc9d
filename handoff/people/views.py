from django.conf import settings
from django.contrib import messages
from django.contrib.auth import password_validation
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse_lazy

from handoff.people.sso import ID_TOKEN_SESSION_KEY, end_session_url, sso_configured


def _sign_in_context() -> dict:
    return {"sso_enabled": sso_configured(), "local_login": settings.LOCAL_LOGIN}


class SignInView(auth_views.LoginView):
    """The sign-in page: "Sign in with SSO" when the identity provider is configured, and the
    password form while LOCAL_LOGIN is on (handoff/people/backends.py refuses the rest)."""

    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **_sign_in_context()}


def sign_in_locked_out(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out user name or address: the sign-in page, with a message
    that is the same whether the name exists or not."""
    context = {
        "form": AuthenticationForm(request),
        "locked_out_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
        **_sign_in_context(),
    }
    return render(request, "registration/login.html", context, status=429)


class _PasswordChangeForm(PasswordChangeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The rules as one line of text (Django's is a list, which a help line cannot hold).
        rules = password_validation.password_validators_help_texts()
        self.fields["new_password1"].help_text = " ".join(rules)


class PasswordChangeView(auth_views.PasswordChangeView):
    """People who sign in with a password change it here (the top bar's "Change password").
    Those who sign in with SSO have none; with LOCAL_LOGIN off only superusers use theirs."""

    form_class = _PasswordChangeForm
    success_url = reverse_lazy("accounts:my_work")

    def dispatch(self, request, *args, **kwargs):
        if not request.user.password_change_allowed:
            raise PermissionDenied("You sign in with SSO: your password is kept there.")
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        response = super().form_valid(form)  # keeps this session signed in, ends the others
        messages.success(self.request, "Your password was changed.")
        return response


class SignOutView(auth_views.LogoutView):
    """Sign out (POST, the top bar's button): the portal's session ends, and when it came from
    the identity provider, the provider's too (RP-initiated logout), which then returns to the
    sign-in page. Without that, signing in with SSO again would not ask for a password."""

    def post(self, request, *args, **kwargs):
        id_token = request.session.get(ID_TOKEN_SESSION_KEY)
        response = super().post(request, *args, **kwargs)  # ends the session, whatever follows
        # Said on the sign-in page the person lands on (the message outlives the session: it
        # is kept in a cookie first).
        messages.info(request, "You have signed out of Handoff.")
        provider = end_session_url(request, id_token)
        return HttpResponseRedirect(provider) if provider else response
