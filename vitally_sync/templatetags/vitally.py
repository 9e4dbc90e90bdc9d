from django import template

from vitally_sync.conf import sync_config
from vitally_sync.selectors import account_sync_of, sync_badge

register = template.Library()


@register.simple_tag
def vitally_badge(account):
    """The sync badge of an account row (its sync state joined in by the dashboard query)."""
    return sync_badge(account=account, sync=account_sync_of(account), config=sync_config())
