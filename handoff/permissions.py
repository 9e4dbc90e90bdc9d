"""Who may do what: the one place that decides, by role × phase × assignment.

Views call `require(user, Action.X, account)` before every write and use `can(...)` to decide
which buttons to show; services trust that the view asked. Later capabilities add their actions
here, never in a view. The README shows the resulting matrix (`python manage.py
permission_matrix` prints it).
"""

from collections.abc import Callable
from enum import StrEnum

from django.core.exceptions import PermissionDenied

from handoff.accounts.models import Account


class Action(StrEnum):
    ACCOUNT_VIEW = "account_view"
    ACCOUNT_CREATE = "account_create"
    ACCOUNT_EDIT = "account_edit"
    ACCOUNT_CHANGE_PHASE = "account_change_phase"
    # The deployment record (environments, design documents, code hosts) and the logs.
    RECORD_EDIT = "record_edit"
    # Implementation notes: anyone signed in adds; the author or the maintainer edits.
    JOURNAL_ADD = "journal_add"
    JOURNAL_EDIT = "journal_edit"
    # Issues Log, Risk Log, Expansion Opportunities: add, edit, change status.
    LOG_EDIT = "log_edit"
    # The cross-account open issues list and risk heatmap.
    LOGS_OVERVIEW = "logs_overview"


Phase = Account.Phase


def _is_admin_or_manager(user) -> bool:
    return user.is_staff or user.is_manager


def _maintainer(user, account: Account | None) -> bool:
    """The person who keeps the account's record in its current phase.

    Implementation (and while waiting for handoff): the assigned implementation engineer.
    Handed off: the assigned technical advisor ("This section will be maintained by the TA after
    the initial implementation work has been completed"). Managers and admins always."""
    if account is None:
        return False
    if _is_admin_or_manager(user):
        return True
    if account.phase == Phase.HANDED_OFF:
        return user.is_technical_advisor and account.technical_advisor_id == user.pk
    return user.is_implementation_engineer and account.implementation_engineer_id == user.pk


def _journal_edit(user, account: Account | None, entry=None) -> bool:
    """The entry's author may correct it; so may whoever keeps the account's record."""
    return _maintainer(user, account) or (entry is not None and entry.author_id == user.pk)


def _log_edit(user, account: Account | None, item=None) -> bool:
    """The maintainer keeps the logs; an item's owner may also update it (the digest asks
    owners for updates, so they must be able to give them)."""
    return _maintainer(user, account) or (item is not None and item.owner_id == user.pk)


_RULES: dict[Action, Callable[..., bool]] = {
    # An internal portal: everyone signed in may read every account (TAs review, managers oversee).
    Action.ACCOUNT_VIEW: lambda user, account: True,
    Action.ACCOUNT_CREATE: lambda user, account: (
        _is_admin_or_manager(user) or user.is_implementation_engineer
    ),
    Action.ACCOUNT_EDIT: _maintainer,
    Action.ACCOUNT_CHANGE_PHASE: lambda user, account: _is_admin_or_manager(user),
    Action.RECORD_EDIT: _maintainer,
    Action.JOURNAL_ADD: lambda user, account: True,
    Action.JOURNAL_EDIT: _journal_edit,
    Action.LOG_EDIT: _log_edit,
    Action.LOGS_OVERVIEW: lambda user, account: (
        _is_admin_or_manager(user) or user.is_technical_advisor
    ),
}


def can(user, action: Action, account: Account | None = None, obj=None) -> bool:
    """`obj` is the row acted on, for the rules that look at it (author, owner)."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    if obj is not None:
        return _RULES[action](user, account, obj)
    return _RULES[action](user, account)


def require(user, action: Action, account: Account | None = None, obj=None) -> None:
    if not can(user, action, account, obj):
        raise PermissionDenied(f"You may not {action.value.replace('_', ' ')} here.")
