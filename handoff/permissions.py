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
    # Ask the workers to push the account to Vitally now (the panel's "Push now").
    VITALLY_PUSH = "vitally_push"


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


_RULES: dict[Action, Callable[..., bool]] = {
    # An internal portal: everyone signed in may read every account (TAs review, managers oversee).
    Action.ACCOUNT_VIEW: lambda user, account: True,
    Action.ACCOUNT_CREATE: lambda user, account: (
        _is_admin_or_manager(user) or user.is_implementation_engineer
    ),
    Action.ACCOUNT_EDIT: _maintainer,
    Action.ACCOUNT_CHANGE_PHASE: lambda user, account: _is_admin_or_manager(user),
    Action.RECORD_EDIT: _maintainer,
    # Whoever keeps the record may re-send it; everyone else sees the sync state read-only.
    Action.VITALLY_PUSH: _maintainer,
}


def can(user, action: Action, account: Account | None = None) -> bool:
    if not (user and user.is_authenticated and user.is_active):
        return False
    return _RULES[action](user, account)


def require(user, action: Action, account: Account | None = None) -> None:
    if not can(user, action, account):
        raise PermissionDenied(f"You may not {action.value.replace('_', ' ')} here.")
