"""Reads: the portal's values for an account (from its record) and the sync state people see
(badge, panel)."""

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ObjectDoesNotExist

from handoff import registry
from handoff.accounts.models import Account
from handoff.record import account_record_get
from vitally_sync.conf import SyncConfig
from vitally_sync.models import AccountSync, SyncAttempt
from vitally_sync.payloads import PortalValues


def portal_values_of(record) -> PortalValues:
    """What the portal shows for the account, from its record (handoff/record.py): each
    contribution's `vitally_values`. Apps that are not installed contribute nothing: their
    traits are left out of the payload rather than sent as null."""
    values: dict[str, Any] = {}
    for contribution in registry.contributions():
        if contribution.vitally_values is not None:
            values.update(contribution.vitally_values(record))
    return values


def portal_values_get(*, account_id: int) -> PortalValues:
    """As `portal_values_of`, loading the account's record. Constant query count."""
    return portal_values_of(account_record_get(account_id))


def sync_known_traits(sync: AccountSync, target: str) -> dict:
    """What Vitally is known to hold for the account: the acknowledged traits, less those of a
    request whose answer was never recorded (it may or may not have been applied), and nothing
    when the account now points at another Vitally account. A push sends what differs."""
    if sync.pushed_vitally_id != target or not sync.acked_traits:
        return {}
    unknown = set(sync.inflight_traits or ())
    return {key: value for key, value in sync.acked_traits.items() if key not in unknown}


def account_sync_of(account: Account) -> AccountSync | None:
    """The account's sync row if it has one (loaded by select_related("vitally_sync"))."""
    try:
        return account.vitally_sync
    except ObjectDoesNotExist:
        return None


@dataclass(frozen=True)
class Badge:
    state: str  # synced / pending / retrying / failed / not_linked / not_configured
    label: str
    css: str
    title: str  # the tooltip: what happened (the last error when there is one)
    explanation: str = ""  # the panel's "State": what happens next


_NEXT = {
    "synced": "Vitally holds the account's current values.",
    "pending": "A change is waiting to be pushed; a worker sends it within seconds.",
    "retrying": (
        "The last attempt did not go through; it is retried automatically, and after 10 "
        "failures in a row the account shows Needs attention. Push now tries again at once."
    ),
    "differs": (
        "Vitally holds the portal's other values. Someone changed the fields below in "
        "Vitally; pushes leave them as they are until the person who keeps this record (the "
        "implementation engineer, after handoff the technical advisor) or a manager decides."
    ),
    "failed": (
        "Vitally refuses the portal's API key, so nothing is sent with it. The portal asks "
        "Vitally about once a minute whether the key works again and then pushes every account "
        "that waited; nothing is lost meanwhile. If it lasts, tell the portal's administrators "
        "(they restore or replace VITALLY_API_KEY, which retries every account at once)."
    ),
    "attention": (
        "A person needs to look: fix the cause (see Last error), then edit the account or use "
        "Push now. It is retried by itself once an hour."
    ),
}


def failure_holds(*, account: Account, sync: AccountSync, config: SyncConfig) -> bool:
    """The sync is stuck on something people must know about (the same rules as the
    sweeper's services.sync_due_q): a key Vitally refuses, or an account that needs attention
    until it is edited (for a 4xx), pushed by hand, or its hourly retry succeeds."""
    if sync.status == AccountSync.Status.FAILED:
        return sync.failed_key == config.key_fingerprint
    if sync.status != AccountSync.Status.ATTENTION or sync.push_requested:
        return False
    return not (sync.failed_version and account.change_version > sync.failed_version)


def sync_badge(*, account: Account, sync: AccountSync | None, config: SyncConfig) -> Badge:
    badge = _badge(account=account, sync=sync, config=config)
    return Badge(badge.state, badge.label, badge.css, badge.title, _NEXT.get(badge.state, ""))


def _badge(*, account: Account, sync: AccountSync | None, config: SyncConfig) -> Badge:
    if not config.enabled:
        return Badge(
            "not_configured",
            "Not configured",
            "muted",
            config.error
            or "The Vitally sync is off: VITALLY_BASE_URL and VITALLY_API_KEY are not set.",
        )
    if not account.vitally_account_id:
        return Badge(
            "not_linked", "Not linked", "muted", "No Vitally account id: nothing is pushed."
        )
    if sync is not None and failure_holds(account=account, sync=sync, config=config):
        if sync.status == AccountSync.Status.FAILED:
            return Badge("failed", "Failed", "bad", sync.last_error or "Vitally refuses the key.")
        return Badge(
            "attention", "Needs attention", "bad", sync.last_error or "The last push failed."
        )
    if (
        sync is not None
        and account.change_version <= sync.acked_version
        and not sync.push_requested
        and sync.config_fingerprint == config.fingerprint
    ):
        if sync.differences:
            fields = f"{sync.differences} field{'s' if sync.differences != 1 else ''}"
            return Badge(
                "differs",
                "Differs in Vitally",
                "warn",
                f"{fields} changed in Vitally: keep the portal's value or take Vitally's "
                "(the Vitally section of the account page).",
            )
        return Badge("synced", "Synced", "ok", "Vitally holds the account's current values.")
    if sync is not None and sync.status == AccountSync.Status.RETRYING:
        return Badge(
            "retrying", "Retrying", "warn", sync.last_error or "The last push did not go through."
        )
    return Badge("pending", "Pending", "info", "A change is waiting to be pushed to Vitally.")


def sync_attempt_list(*, account_id: int, limit: int = 5) -> list[SyncAttempt]:
    return list(SyncAttempt.objects.filter(account_id=account_id).order_by("-at", "-id")[:limit])
