"""Rendered account pages (the account page, the handoff page) kept in the cache under a key
made of everything they show, so a repeat view costs a few queries instead of loading and
rendering the whole record.

What a page shows depends on, and so its key holds:
- the account's record: every service that writes under an account bumps
  `Account.change_version` in the same transaction (accounts.services.account_mark_changed),
  and the newest audit event of the account (for writes that only record an event: a review,
  a reminder, a push asked for);
- the people it names: the newest `User.updated_at` and how many people there are;
- state that changes without it, which a contribution names as its `page_version`
  (handoff/registry.py: the Vitally sync row);
- who is looking: their id, name, role and staff flag, plus what the page adds for them (the
  caller's `extra`, e.g. the TA's review);
- the URL, which the page's forms post back with (a URL with a query string is not cached);
- the release, the secret key and the settings that change what pages show.

A change therefore shows at once, and nothing ever needs invalidating: the next view asks for a
key no entry has yet. Only the clock is not in the key (an item turning stale, days open), so an
entry lives at most HANDOFF_PAGE_CACHE_SECONDS.

A cache that is down (a shared Redis, CACHE_URL) only costs the render: the page is served.

Never cached: the CSRF token (pages are stored with a placeholder that every response replaces
with the requester's own token), pages with one-time messages to show, and htmx requests."""

import hashlib
import logging
from collections.abc import Iterable
from functools import cache as memoise
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.crypto import salted_hmac

from handoff import registry

logger = logging.getLogger(__name__)


@memoise
def _placeholder() -> str:
    # Derived from SECRET_KEY: the same in every process sharing the cache, and no text typed
    # into a record can guess it.
    return "csrf-" + salted_hmac("handoff.page_cache", "csrf-token-placeholder").hexdigest()


def page_cache_key(
    request: HttpRequest, account, *, page: str, extra: Iterable[object] = ()
) -> str | None:
    """The key of this page as this person sees it now, or None when it must be rendered for
    this request alone. `account` comes from `accounts.selectors.account_version_get`."""
    if settings.HANDOFF_PAGE_CACHE_SECONDS <= 0 or request.headers.get("HX-Request"):
        return None
    # The pages take no query parameters: one would only add copies (or be someone filling
    # the cache on purpose).
    if request.GET or len(get_messages(request)):  # counting messages does not mark them shown
        return None
    user = request.user
    parts = (
        _deployment(),
        page,
        request.path,
        account.pk,
        account.change_version,
        account.latest_event_id,
        (account.people_updated_at, account.people_count),
        tuple((c.key, c.page_version(account)) for c in registry.contributions() if c.page_version),
        (user.pk, user.get_username(), user.get_full_name(), user.role, user.is_staff),
        tuple(extra),
    )
    return "account-page:" + hashlib.sha256(repr(parts).encode()).hexdigest()


@memoise
def _deployment() -> tuple:
    """What a page depends on that is fixed for the life of a process: the code (RELEASE), the
    secret its token placeholder comes from, and the settings that change what pages show. With
    a cache shared by processes (CACHE_URL), a deploy or a new setting starts afresh."""
    return (
        settings.RELEASE or _code_digest(),
        _placeholder(),
        settings.TIME_ZONE,
        sorted(settings.LOGS_STALE_ISSUE_DAYS.items()),
        sorted(settings.LOGS_STALE_RISK_DAYS.items()),
        settings.HANDOFF_REMINDER_DAYS_BEFORE,
        settings.VITALLY_BASE_URL,
        bool(settings.VITALLY_API_KEY),
        settings.VITALLY_TRAIT_MAP,
        settings.VITALLY_RECONCILE_SECONDS,  # the Vitally panel says when reading back is off
    )


def _code_digest() -> str:
    """Without RELEASE: a digest of the portal's own code and templates, read once a process."""
    digest = hashlib.sha256()
    base = Path(settings.BASE_DIR)
    for folder in _CODE_FOLDERS:
        for path in sorted((base / folder).rglob("*")):
            if path.suffix in (".py", ".html") and path.is_file():
                digest.update(path.relative_to(base).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


_CODE_FOLDERS = ("handoff", "deployments", "logs", "vitally_sync", "templates")


def cached_page(request: HttpRequest, key: str | None) -> HttpResponse | None:
    if key is None:
        return None
    try:
        html = cache.get(key)
    except Exception:  # a shared cache that is down must not take the page down with it
        logger.warning("page cache unavailable; rendering %s", request.path, exc_info=True)
        return None
    return None if html is None else _respond(request, html)


def page_render(
    request: HttpRequest, key: str | None, template: str, context: dict[str, Any]
) -> HttpResponse:
    """Render the page with the token placeholder, keep it under `key`, answer with the
    requester's token in place."""
    html = render_to_string(template, {**context, "csrf_token": _placeholder()}, request)
    if key is not None:
        try:
            cache.set(key, html, settings.HANDOFF_PAGE_CACHE_SECONDS)
        except Exception:  # as in cached_page: the page is rendered, keeping it is optional
            logger.warning("page cache unavailable; not keeping %s", request.path, exc_info=True)
    return _respond(request, html)


def _respond(request: HttpRequest, html: str) -> HttpResponse:
    return HttpResponse(html.replace(_placeholder(), get_token(request)))
