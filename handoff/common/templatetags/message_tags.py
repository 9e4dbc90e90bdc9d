from django import template
from django.apps import apps
from django.urls import reverse

from handoff.common.messages import message_account_id

register = template.Library()


@register.filter
def sync_badge_url(message) -> str:
    """The URL of the live sync badge for a saved message (handoff/common/messages.py), or ""
    when the message has none or the Vitally sync is not installed."""
    account_id = message_account_id(message)
    if account_id is None or not apps.is_installed("vitally_sync"):
        return ""
    return reverse("vitally_sync:panel", args=[account_id]) + "?part=badge"
