"""Production settings over plain http on loopback, for the web scanner (`make scan`).

The one production setting turned off is the redirect to https (there is no TLS here). Every
other one stays as production serves it: DEBUG off, Secure and HttpOnly cookies, CSP, the
security headers, hashed static files. A finding that exists only because the scan speaks
plain http goes on the allow-list in .ci/scan.py, with its reason.
"""

from django.core.exceptions import ImproperlyConfigured

from handoff.settings import *  # noqa: F403
from handoff.settings import (
    CSRF_COOKIE_SECURE,
    DEBUG,
    SECURE_HSTS_SECONDS,
    SESSION_COOKIE_SECURE,
    STORAGES,
)

SECURE_SSL_REDIRECT = False

# Refuse to scan something other than production: an exported DEBUG=1 or SESSION_COOKIE_SECURE=0
# in the shell would otherwise make the scanner pass on settings nobody deploys.
_production = {
    "DEBUG off": not DEBUG,
    "SESSION_COOKIE_SECURE": SESSION_COOKIE_SECURE,
    "CSRF_COOKIE_SECURE": CSRF_COOKIE_SECURE,
    "SECURE_HSTS_SECONDS": SECURE_HSTS_SECONDS > 0,
    "hashed static files": "Manifest" in STORAGES["staticfiles"]["BACKEND"],
}
if not all(_production.values()):
    missing = ", ".join(name for name, ok in _production.items() if not ok)
    raise ImproperlyConfigured(f"The scan runs on production settings; not so here: {missing}")
