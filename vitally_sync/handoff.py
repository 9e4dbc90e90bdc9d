"""The Vitally sync on the handoff page's attention strip (handoff/closeout/attention.py).

The account comes from `account_handoff_get`, whose query already joins the sync row (the
registered dashboard column's `prepare`) and which applies the differences' prefetch this
module registers (`reconcile.differences_prefetch`), so neither provider queries."""

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from handoff.closeout.attention import AttentionItem
from vitally_sync.conf import sync_config
from vitally_sync.differences import difference_rows
from vitally_sync.reconcile import value_text
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


def vitally_difference_items(account) -> list[AttentionItem]:
    """Each field someone changed in Vitally since the portal sent it ("Differs in Vitally"):
    the field in the handbook's words, both values, since when; linked to the panel's row,
    where the maintainer keeps the portal's value or takes Vitally's."""
    page = reverse("accounts:detail", args=[account.pk])
    return [
        AttentionItem(
            level=AttentionItem.Level.WARNING,
            title=f"Differs in Vitally: {row.label}",
            detail=(
                f"The portal: {value_text(row.difference.portal_value)} · Vitally: "
                f"{value_text(row.difference.vitally_value, none='not set')} · first seen "
                f"{date_format(timezone.localtime(row.difference.first_seen_at), 'j M Y, H:i')}"
            ),
            url=f"{page}#{row.anchor}",
        )
        for row in difference_rows(account)
    ]
