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


def register_section(section: AccountSection) -> None:
    _sections[section.key] = section


def account_sections() -> list[AccountSection]:
    return sorted(_sections.values(), key=lambda s: (s.order, s.key))
