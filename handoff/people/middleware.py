"""Sessions end SESSION_IDLE_SECONDS after the last request, and SESSION_COOKIE_AGE after the
sign-in however busy they are (Django's own expiry moves on with every save of the session)."""

import time

from django.conf import settings
from django.contrib import auth

SIGNED_IN_AT = "handoff_signed_in_at"
LAST_SEEN = "handoff_last_seen"
# The last request is written down at most once a minute: not a session write per request.
LAST_SEEN_GRANULARITY = 60


def session_clocks_start(session) -> None:
    now = int(time.time())
    session[SIGNED_IN_AT] = now
    session[LAST_SEEN] = now


class SessionIdleTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        if session.get(auth.SESSION_KEY) is not None:
            now = int(time.time())
            signed_in_at, last_seen = session.get(SIGNED_IN_AT), session.get(LAST_SEEN)
            if signed_in_at is None or last_seen is None:
                session_clocks_start(session)  # a session from before these clocks
            elif (
                now - last_seen > settings.SESSION_IDLE_SECONDS
                or now - signed_in_at > settings.SESSION_COOKIE_AGE
            ):
                auth.logout(request)  # the view then sees a signed-out person (sign-in page)
            elif now - last_seen >= LAST_SEEN_GRANULARITY:
                session[LAST_SEEN] = now
        return self.get_response(request)
