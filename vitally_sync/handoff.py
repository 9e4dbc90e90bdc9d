"""The Vitally sync state on the handoff page's attention strip (handoff/closeout/attention.py).

The account comes from `account_handoff_get`, whose query already joins the sync row (the
registered dashboard column's `prepare`), so this costs no query."""

from django.urls import reverse

from handoff.closeout.attention import AttentionItem
from vitally_sync.conf import sync_config
from vitally_sync.selectors import account_sync_of, sync_badge

_LEVELS = {
    "failed": AttentionItem.Level.CRITICAL,
    "attention": AttentionItem.Level.CRITICAL,
    "retrying": AttentionItem.Level.WARNING,
}


def vitally_attention_items(account) -> list[AttentionItem]:
    """Only what needs someone: a refused key, an account that needs attention, or a push
    being retried."""
    badge = sync_badge(account=account, sync=account_sync_of(account), config=sync_config())
    level = _LEVELS.get(badge.state)
    if level is None:
        return []
    return [
        AttentionItem(
            level=level,
            title=f"Vitally sync: {badge.label.lower()}",
            detail=badge.title,
            url=reverse("accounts:detail", args=[account.pk]) + "#vitally",
        )
    ]
