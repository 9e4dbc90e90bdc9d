"""Failed sign-ins, logged for the security review: the name tried, the address it came from
and (in the log line's own timestamp) when. Values are written with repr(), so a name holding
a line break cannot forge a second log line."""

import logging

from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver

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
