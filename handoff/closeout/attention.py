"""The attention strip at the top of the handoff page: a registry of providers, each returning
the items a technical advisor should see first (open critical and high issues, high and
critical risks, stale items, sizing warnings, the Vitally sync state, ...).

    register_attention_provider("open_issues", open_issue_items, order=100, prefetch=("issues",))

`fn(account) -> list[AttentionItem]`, with the same account and prefetch rules as readiness
rules (see readiness.py): constant queries, no query per row.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.db.models import Prefetch


@dataclass(frozen=True)
class AttentionItem:
    class Level:
        CRITICAL = "critical"
        WARNING = "warning"
        INFO = "info"

    level: str  # AttentionItem.Level.*
    title: str
    detail: str = ""
    url: str = ""

    @property
    def badge_class(self) -> str:
        return {"critical": "bad", "warning": "warn"}.get(self.level, "muted")

    @property
    def level_label(self) -> str:
        return {"critical": "Critical", "warning": "Warning"}.get(self.level, "Note")


@dataclass(frozen=True)
class AttentionProvider:
    key: str
    items: Callable[..., list[AttentionItem]]
    order: int = 100
    prefetch: tuple[str | Prefetch, ...] = ()


_providers: dict[str, AttentionProvider] = {}


def register_attention_provider(
    key: str,
    fn: Callable[..., list[AttentionItem]],
    *,
    order: int = 100,
    prefetch: Sequence[str | Prefetch] = (),
) -> None:
    _providers[key] = AttentionProvider(key=key, items=fn, order=order, prefetch=tuple(prefetch))


def unregister_attention_provider(key: str) -> None:
    _providers.pop(key, None)


def attention_providers() -> list[AttentionProvider]:
    return sorted(_providers.values(), key=lambda p: (p.order, p.key))


def attention_items(account) -> list[AttentionItem]:
    """Every provider's items, critical first, then in provider order."""
    items = [item for provider in attention_providers() for item in provider.items(account)]
    rank = {AttentionItem.Level.CRITICAL: 0, AttentionItem.Level.WARNING: 1}
    return sorted(items, key=lambda i: rank.get(i.level, 2))
