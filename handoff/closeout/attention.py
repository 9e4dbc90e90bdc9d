"""What needs attention, at the top of the account page: what each contribution
(handoff/registry.py) says a technical advisor should see first: open critical and high issues,
high and critical risks, stale items, sizing warnings, the Vitally sync state, ..."""

from handoff import registry
from handoff.registry import AttentionItem

_RANK = {AttentionItem.Level.CRITICAL: 0, AttentionItem.Level.WARNING: 1}


def attention_items(record) -> list[AttentionItem]:
    """Every contribution's items, critical first, then warnings, then notes, each level in the
    record's order."""
    items = [
        item
        for contribution in registry.contributions()
        for provider in contribution.attention
        for item in provider(record)
    ]
    return sorted(items, key=lambda i: _RANK.get(i.level, 2))
