"""Failed sign-ins, logged for the security review: the name tried, the address it came from
and (in the log line's own timestamp) when. Values are written with repr(), so a name holding
a line break cannot forge a second log line."""

import logging

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from handoff.people.middleware import session_clocks_start

logger = logging.getLogger("handoff.security")


@receiver(user_login_failed, dispatch_uid="handoff.people.login_failed")
def login_failed_log(sender, credentials: dict, request=None, **kwargs) -> None:
    meta = request.META if request is not None else {}
    logger.warning(
        "Sign-in failed: username=%r address=%r forwarded_for=%r path=%r",
        str(credentials.get("username", ""))[:150],
        meta.get("REMOTE_ADDR", ""),
        meta.get("HTTP_X_FORWARDED_FOR", "")[:200],
        request.path if request is not None else "",
    )


@receiver(user_logged_in, dispatch_uid="handoff.people.session_clocks")
def session_clocks_on_sign_in(sender, request=None, **kwargs) -> None:
    """Every sign-in (password, SSO, the test client's force_login) starts the session's clocks."""
    if request is not None and hasattr(request, "session"):
        session_clocks_start(request.session)
