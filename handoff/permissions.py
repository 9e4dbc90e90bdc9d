"""Who may do what: the one place that decides, by role × phase × assignment.

Views call `require(user, Action.X, account)` before every write and use `can(...)` to decide
which buttons to show; services trust that the view asked. Later capabilities add their actions
here, never in a view. The README shows the resulting matrix (`python manage.py
permission_matrix` prints it).

The Django admin asks here too (`Action.ADMIN_USE`, through `handoff/common/admin.py`), never
Django's model permissions. Django's superuser flag is not a portal role: it only decides, in
the people admin, who may grant superuser status, groups and permissions, and change a
superuser's account.
"""

from collections.abc import Callable
from enum import StrEnum

from django.core.exceptions import PermissionDenied

from handoff.accounts.models import Account


class Action(StrEnum):
    ACCOUNT_VIEW = "account_view"
    ACCOUNT_CREATE = "account_create"
    ACCOUNT_EDIT = "account_edit"
    # The deployment record (environments, design documents, code hosts) and the logs.
    RECORD_EDIT = "record_edit"
    # Implementation notes: anyone signed in adds; the author or the maintainer edits.
    JOURNAL_ADD = "journal_add"
    JOURNAL_EDIT = "journal_edit"
    # Issues Log, Risk Log, Expansion Opportunities: add, edit, change status.
    LOG_EDIT = "log_edit"
    # The cross-account open issues list and risk heatmap.
    LOGS_OVERVIEW = "logs_overview"
    # The handoff workflow (handoff/closeout). The phase only moves through these actions.
    CHECKLIST_START = "checklist_start"
    CHECKLIST_EDIT = "checklist_edit"
    HANDOFF_REQUEST = "handoff_request"
    HANDOFF_WITHDRAW = "handoff_withdraw"
    HANDOFF_ACKNOWLEDGE = "handoff_acknowledge"
    HANDOFF_MARK_REVIEWED = "handoff_mark_reviewed"
    CLOSEOUT_SIGN_OFF = "closeout_sign_off"
    CLOSEOUT_REOPEN = "closeout_reopen"

    # Ask the workers to push the account to Vitally now (the panel's "Push now").
    VITALLY_PUSH = "vitally_push"
    # The Vitally sync of every account on one page (vitally_sync:health).
    VITALLY_HEALTH = "vitally_health"
    # Create portal accounts from Vitally's accounts (the mirror's import page).
    VITALLY_IMPORT = "vitally_import"

    # The Django admin: read every record there; add and change accounts, people and their
    # roles, the closeout checklist template; "Retry the push now".
    ADMIN_USE = "admin_use"


# How the README and `permission_matrix` name each action.
ACTION_LABELS: dict[Action, str] = {
    Action.ACCOUNT_VIEW: "view an account",
    Action.ACCOUNT_CREATE: "create an account",
    Action.ACCOUNT_EDIT: "edit the account",
    Action.RECORD_EDIT: "edit the deployment record",
    Action.JOURNAL_ADD: "add an implementation note",
    Action.JOURNAL_EDIT: "correct an implementation note (author or maintainer)",
    Action.LOG_EDIT: "add and update issues, risks, opportunities (maintainer or item owner)",
    Action.LOGS_OVERVIEW: "see open issues and the risk heatmap across accounts",
    Action.CHECKLIST_START: "start the closeout checklist",
    Action.CHECKLIST_EDIT: "update closeout checklist items",
    Action.HANDOFF_REQUEST: "request handoff",
    Action.HANDOFF_WITHDRAW: "withdraw the handoff request",
    Action.HANDOFF_ACKNOWLEDGE: "acknowledge the account (TA)",
    Action.HANDOFF_MARK_REVIEWED: "mark the handoff reviewed",
    Action.CLOSEOUT_SIGN_OFF: "sign off the closeout",
    Action.CLOSEOUT_REOPEN: "reopen a handed-off account",
    Action.VITALLY_PUSH: "push the account to Vitally now",
    Action.VITALLY_HEALTH: "see the Vitally sync of every account",
    Action.VITALLY_IMPORT: "import accounts from Vitally",
    Action.ADMIN_USE: "use the admin (people and roles, accounts, checklist template, records)",
}

# What a refusal says (the 403 page), in the words of the pages: what the person cannot do, and
# who can. Never the action's internal name or the matrix's shorthand ("maintainer").
REFUSALS: dict[Action, str] = {
    Action.ACCOUNT_VIEW: "You can’t open this account.",
    Action.ACCOUNT_CREATE: "You can’t create accounts: implementation engineers and managers do.",
    Action.ACCOUNT_EDIT: "You can’t edit this account’s details (its people, planned completion, "
    "Vitally account id and CRM link).",
    Action.RECORD_EDIT: "You can’t change this account’s production deployment, other "
    "environments or code hosts.",
    Action.JOURNAL_ADD: "You can’t add implementation notes to this account.",
    Action.JOURNAL_EDIT: "You can’t correct this implementation note: its author can, and so "
    "can whoever keeps the record.",
    Action.LOG_EDIT: "You can’t change this account’s Issues Log, Risk Log or Expansion "
    "Opportunities: whoever keeps the record can, and each item’s owner can update it.",
    Action.LOGS_OVERVIEW: "The open issues and the risk heatmap across accounts are for "
    "technical advisors and managers.",
    Action.CHECKLIST_START: "You can’t start this account’s closeout checklist.",
    Action.CHECKLIST_EDIT: "You can’t change this account’s closeout checklist.",
    Action.HANDOFF_REQUEST: "You can’t request the handoff of this account.",
    Action.HANDOFF_WITHDRAW: "You can’t withdraw this account’s handoff request.",
    Action.HANDOFF_ACKNOWLEDGE: "Only the account’s technical advisor acknowledges it, before "
    "the sign-off.",
    Action.HANDOFF_MARK_REVIEWED: "Only the account’s technical advisor marks its handoff "
    "reviewed.",
    Action.CLOSEOUT_SIGN_OFF: "Only a manager signs off an account, once its handoff is requested.",
    Action.CLOSEOUT_REOPEN: "Only a manager reopens an account, once it is handed off.",
    Action.VITALLY_PUSH: "You can’t push this account to Vitally.",
    Action.VITALLY_HEALTH: "You can’t see the Vitally sync of every account: it is for managers "
    "and the portal's admins. Each account's own Vitally page shows its sync to everyone.",
    Action.ADMIN_USE: "The admin is for the portal’s administrators.",
    Action.VITALLY_IMPORT: "Importing accounts from Vitally is for managers and the portal's "
    "admins.",
}

# Actions that do not concern one account (the matrix shows them once).
ACCOUNTLESS_ACTIONS = frozenset(
    {
        Action.ACCOUNT_CREATE,
        Action.LOGS_OVERVIEW,
        Action.VITALLY_HEALTH,
        Action.VITALLY_IMPORT,
        Action.ADMIN_USE,
    }
)


Phase = Account.Phase


def _is_admin_or_manager(user) -> bool:
    return user.is_staff or user.is_manager


def _keeper_is_ta(account: Account) -> bool:
    """Implementation (and while waiting for handoff): the assigned implementation engineer
    keeps the record. Handed off: the assigned technical advisor ("This section will be
    maintained by the TA after the initial implementation work has been completed")."""
    return account.phase == Phase.HANDED_OFF


def _maintainer(user, account: Account | None) -> bool:
    """The person who keeps the account's record in its current phase (`record_keeper`), and
    managers and admins always."""
    if account is None:
        return False
    if _is_admin_or_manager(user):
        return True
    if _keeper_is_ta(account):
        return user.is_technical_advisor and account.technical_advisor_id == user.pk
    return user.is_implementation_engineer and account.implementation_engineer_id == user.pk


def record_keeper(account: Account):
    """Who keeps the account's record now (the user, or None when nobody is assigned): the
    same rule `_maintainer` applies. Needs the account's people loaded (account_get)."""
    return account.technical_advisor if _keeper_is_ta(account) else account.implementation_engineer


def record_keeper_sentence(account: Account) -> str:
    """Why a record is read-only for someone: "Jonas Berg keeps this record during
    implementation; ask them or a manager to change it." Managers may always edit, so the
    sentence names them when nobody is assigned."""
    keeper = record_keeper(account)
    when = "after handoff" if _keeper_is_ta(account) else "during implementation"
    if keeper is None:
        role = "technical advisor" if _keeper_is_ta(account) else "implementation engineer"
        return f"No {role} is assigned: a manager keeps this record {when}."
    return f"{keeper} keeps this record {when}; ask them or a manager to change it."


def _journal_edit(user, account: Account | None, entry=None) -> bool:
    """The entry's author may correct it; so may whoever keeps the account's record."""
    return _maintainer(user, account) or (entry is not None and entry.author_id == user.pk)


def _log_edit(user, account: Account | None, item=None) -> bool:
    """The maintainer keeps the logs; an item's owner may also update it (the digest asks
    owners for updates, so they must be able to give them)."""
    return _maintainer(user, account) or (item is not None and item.owner_id == user.pk)


def _assigned_ie(user, account: Account) -> bool:
    return user.is_implementation_engineer and account.implementation_engineer_id == user.pk


def _assigned_ta(user, account: Account) -> bool:
    return user.is_technical_advisor and account.technical_advisor_id == user.pk


def _in_phase(*phases: str) -> Callable[[Account | None], bool]:
    return lambda account: account is not None and account.phase in phases


_before_handoff = _in_phase(Phase.IMPLEMENTATION, Phase.READY_FOR_HANDOFF)
_implementation = _in_phase(Phase.IMPLEMENTATION)
_ready = _in_phase(Phase.READY_FOR_HANDOFF)
_handed_off = _in_phase(Phase.HANDED_OFF)


def _implementer(user, account: Account) -> bool:
    """Who drives the closeout before handoff: the assigned IE, managers and admins."""
    return _is_admin_or_manager(user) or _assigned_ie(user, account)


_RULES: dict[Action, Callable[..., bool]] = {
    # An internal portal: everyone signed in may read every account (TAs review, managers oversee).
    Action.ACCOUNT_VIEW: lambda user, account: True,
    Action.ACCOUNT_CREATE: lambda user, account: (
        _is_admin_or_manager(user) or user.is_implementation_engineer
    ),
    Action.ACCOUNT_EDIT: _maintainer,
    Action.RECORD_EDIT: _maintainer,
    Action.JOURNAL_ADD: lambda user, account: True,
    Action.JOURNAL_EDIT: _journal_edit,
    Action.LOG_EDIT: _log_edit,
    Action.LOGS_OVERVIEW: lambda user, account: (
        _is_admin_or_manager(user) or user.is_technical_advisor
    ),
    # The checklist is the implementation's to complete; once signed off it is frozen with the
    # sign-off (a manager reopens the account to change it).
    Action.CHECKLIST_START: lambda user, account: (
        _before_handoff(account) and _implementer(user, account)
    ),
    Action.CHECKLIST_EDIT: lambda user, account: (
        _before_handoff(account) and _implementer(user, account)
    ),
    Action.HANDOFF_REQUEST: lambda user, account: (
        _implementation(account) and _implementer(user, account)
    ),
    Action.HANDOFF_WITHDRAW: lambda user, account: _ready(account) and _implementer(user, account),
    # Personal acts of the assigned technical advisor: nobody can do them on the TA's behalf.
    Action.HANDOFF_ACKNOWLEDGE: lambda user, account: (
        _before_handoff(account) and _assigned_ta(user, account)
    ),
    Action.HANDOFF_MARK_REVIEWED: lambda user, account: (
        account is not None and _assigned_ta(user, account)
    ),
    # "A manager signs off the closeout checklist" (admins may act for a manager).
    Action.CLOSEOUT_SIGN_OFF: lambda user, account: _ready(account) and _is_admin_or_manager(user),
    Action.CLOSEOUT_REOPEN: lambda user, account: (
        _handed_off(account) and _is_admin_or_manager(user)
    ),
    # Whoever keeps the record may re-send it; everyone else sees the sync state read-only.
    Action.VITALLY_PUSH: _maintainer,
    # Watching the sync across accounts (on call for it) is the managers' and admins' job.
    Action.VITALLY_HEALTH: lambda user, account: _is_admin_or_manager(user),
    # Creating accounts from Vitally's (several at once, with their people): managers, admins.
    Action.VITALLY_IMPORT: lambda user, account: _is_admin_or_manager(user),
    # "Admin (staff only)": the staff flag, whatever the role (a manager is not an admin).
    Action.ADMIN_USE: lambda user, account: user.is_staff,
}


def can(user, action: Action, account: Account | None = None, obj=None) -> bool:
    """`obj` is the row acted on, for the rules that look at it (author, owner)."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    if obj is not None:
        return _RULES[action](user, account, obj)
    return _RULES[action](user, account)


class AccountPermissionDenied(PermissionDenied):
    """A refusal about one account: the 403 page names who keeps its record and links back."""

    def __init__(self, message: str, *, account: Account):
        super().__init__(message)
        self.account = account


def link_for(user, account: Account, item) -> str:
    """Where a readiness blocker or an attention item links for this viewer: the place to fix
    it when they may (its `action`), else where it reads (`view_url`, or nothing). The page
    never offers a link that answers "You can’t…"."""
    if not item.action or can(user, Action(item.action), account):
        return item.url
    return item.view_url


def refusal(action: Action, account: Account | None = None) -> str:
    """What the 403 page says was refused, in the pages' words; the phase when it is why."""
    if account is not None:
        if action in (Action.CHECKLIST_START, Action.CHECKLIST_EDIT) and _handed_off(account):
            return (
                f"{REFUSALS[action]} It was settled with the sign-off: a manager reopens the "
                "account to change it."
            )
        if action == Action.HANDOFF_REQUEST and not _implementation(account):
            already = "is handed off" if _handed_off(account) else "has its handoff requested"
            return f"{REFUSALS[action]} It {already} already."
        if action == Action.HANDOFF_WITHDRAW and not _ready(account):
            return f"{REFUSALS[action]} No handoff request is waiting for sign-off."
    return REFUSALS[action]


def require(user, action: Action, account: Account | None = None, obj=None) -> None:
    if not can(user, action, account, obj):
        message = refusal(action, account if isinstance(account, Account) else None)
        if isinstance(account, Account) and account.pk is not None:
            raise AccountPermissionDenied(message, account=account)
        raise PermissionDenied(message)
