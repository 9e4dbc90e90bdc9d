from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Warning, register

from vitally_sync.payloads import trait_map_resolve


@register()
def vitally_settings_check(app_configs, **kwargs):
    """A wrong VITALLY_TRAIT_MAP or base URL stops the deploy instead of failing every push."""
    errors = []
    try:
        trait_map_resolve(settings.VITALLY_TRAIT_MAP)
    except (ValueError, TypeError) as error:
        errors.append(Error(str(error), id="vitally_sync.E001"))
    base_url = settings.VITALLY_BASE_URL
    if base_url and urlsplit(base_url).scheme not in ("http", "https"):
        message = f"VITALLY_BASE_URL must start with https:// (got {base_url!r})."
        errors.append(Error(message, id="vitally_sync.E002"))
    account_url = settings.VITALLY_ACCOUNT_URL
    if account_url and (
        urlsplit(account_url).scheme not in ("http", "https") or "{id}" not in account_url
    ):
        message = (
            "VITALLY_ACCOUNT_URL must be an http(s) address with {id} where the account's "
            f"Vitally id goes (got {account_url!r})."
        )
        errors.append(Error(message, id="vitally_sync.E004"))
    request_seconds = settings.VITALLY_CONNECT_TIMEOUT + settings.VITALLY_READ_TIMEOUT
    if request_seconds >= settings.VITALLY_LEASE_SECONDS * 0.75:
        errors.append(
            Warning(
                "VITALLY_LEASE_SECONDS should be well above VITALLY_CONNECT_TIMEOUT + "
                "VITALLY_READ_TIMEOUT, or a slow request can outlive its claim.",
                id="vitally_sync.W001",
            )
        )
    share = settings.VITALLY_RECONCILE_SHARE
    if not 0 < share <= 1:
        message = f"VITALLY_RECONCILE_SHARE must be more than 0 and at most 1 (got {share!r})."
        errors.append(Error(message, id="vitally_sync.E003"))
    return errors
