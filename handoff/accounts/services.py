"""Writes to customer accounts, and the one write path of every change under an account
(record_change): in the write's transaction, an audit event and the change version bumped (what
the Vitally sync follows)."""

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone

from handoff.accounts.models import Account
from handoff.accounts.signals import account_changed, account_linking
from handoff.audit.models import AuditEvent
from handoff.audit.services import audit_record
from handoff.common.services import (
    ExpectedVersion,
    check_version,
    checked_save,
    model_create_values,
    model_update,
)

# What account_update changes (and the account forms and the admin offer). The phase is not
# one of them: it moves only through the handoff workflow (handoff/closeout/services.py:
# request, withdraw, sign-off, reopen), so every handed-off account has a sign-off behind it.
ACCOUNT_FIELDS = [
    "name",
    "vitally_account_id",
    "crm_url",
    "implementation_engineer",
    "technical_advisor",
    "manager",
    "planned_completion_date",
]
# A new account's History also shows the phase it starts in.
ACCOUNT_CREATE_FIELDS = [*ACCOUNT_FIELDS[:-1], "phase", ACCOUNT_FIELDS[-1]]

PHASE_NOT_EDITABLE_MESSAGE = (
    "The phase is not changed by editing the account: it moves only through the handoff "
    "workflow (request handoff, withdraw, sign-off, reopen). Nothing was saved."
)


def account_mark_changed(*, account_id: int) -> None:
    """Record, in the caller's transaction, that the account or a record under it changed.

    The bumped change_version is the durable intent to sync; the signal sent after commit only
    lets a receiver act sooner. Services call it through record_change."""
    Account.objects.filter(pk=account_id).update(
        change_version=F("change_version") + 1, changed_at=timezone.now()
    )
    transaction.on_commit(
        lambda: account_changed.send(sender=Account, account_id=account_id), robust=True
    )


def record_change(
    *,
    actor,
    obj: models.Model,
    action: str,
    changes: list[dict[str, Any]] | None = None,
    message: str = "",
    account: Account | None = None,
    mark_changed: bool = True,
) -> AuditEvent:
    """Record a change under an account in the caller's transaction: its audit event, then the
    account marked changed (unless `mark_changed` is off: a save of several rows marks once).
    `account` defaults to obj's own (obj.account, or obj if it is the account): pass it when
    obj.account is not loaded. Writes that change nothing the record shows use audit_record."""
    if account is None:
        # Every row recorded under an account has one.
        account = obj if isinstance(obj, Account) else obj.account  # type: ignore[attr-defined]
    event = audit_record(
        actor=actor, account=account, obj=obj, action=action, changes=changes, message=message
    )
    if mark_changed:
        account_mark_changed(account_id=account.pk)
    return event


@transaction.atomic
def account_create(
    *,
    actor,
    name: str,
    vitally_account_id: str = "",
    crm_url: str = "",
    implementation_engineer=None,
    technical_advisor=None,
    manager=None,
    phase: str = Account.Phase.IMPLEMENTATION,
    planned_completion_date: datetime.date | None = None,
) -> Account:
    account = Account(
        name=name.strip(),
        vitally_account_id=vitally_account_id.strip(),
        crm_url=crm_url.strip(),
        implementation_engineer=implementation_engineer,
        technical_advisor=technical_advisor,
        manager=manager,
        phase=phase,
        planned_completion_date=planned_completion_date,
    )
    account.full_clean()
    checked_save(account)
    record_change(
        actor=actor,
        obj=account,
        action=AuditEvent.Kind.CREATE,
        changes=model_create_values(account, ACCOUNT_CREATE_FIELDS),
    )
    if account.vitally_account_id:
        account_linking.send(sender=Account, account=account, actor=actor)
    return account


@transaction.atomic
def account_update(
    *, account: Account, actor, data: dict[str, Any], expected_version: ExpectedVersion
) -> Account:
    """Apply the edited fields. Refuses (ConcurrentEditError) when the account was saved by
    someone else since `expected_version` was read, and (ValidationError) data that sets the
    phase; then nothing is written."""
    if "phase" in data:
        raise ValidationError(PHASE_NOT_EDITABLE_MESSAGE, code="phase_not_editable")
    locked = Account.objects.select_for_update().get(pk=account.pk)
    check_version(locked, expected_version)
    if isinstance(data.get("name"), str):
        data = {**data, "name": data["name"].strip()}
    changes = model_update(
        instance=locked, fields=[f for f in ACCOUNT_FIELDS if f in data], data=data
    )
    if changes:
        record_change(actor=actor, obj=locked, action=AuditEvent.Kind.UPDATE, changes=changes)
    if locked.vitally_account_id and any(c["field"] == "vitally_account_id" for c in changes):
        account_linking.send(sender=Account, account=locked, actor=actor)
    return locked
