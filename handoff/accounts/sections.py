"""Sections of the account page. Each app registers its own (in AppConfig.ready), so the core
never imports deployments or logs, and an app removed from INSTALLED_APPS takes its section away.

A section's `get_context(account=..., user=...)` must use a constant number of queries."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AccountSection:
    key: str  # also the HTML id, so blockers and the nav can link to it
    title: str
    template: str
    get_context: Callable[..., dict[str, Any]]
    order: int = 100


_sections: dict[str, AccountSection] = {}

# How the account page loads its account. The core joins the people; the handoff workflow
# registers its own load (every section's rows prefetched once), so the sections read that
# instead of querying one by one and the page costs the same whatever the record's size.
_page_loader: Callable[..., Any] | None = None


def register_account_page_loader(loader: Callable[..., Any]) -> None:
    """`loader(account_id=...)` returns the account or raises Account.DoesNotExist."""
    global _page_loader
    _page_loader = loader


def account_page_load(*, account_id: int):
    from handoff.accounts.selectors import account_get

    return (_page_loader or account_get)(account_id=account_id)


def register_section(section: AccountSection) -> None:
    _sections[section.key] = section


def account_sections() -> list[AccountSection]:
    return sorted(_sections.values(), key=lambda s: (s.order, s.key))
