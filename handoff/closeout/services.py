"""Writes of the handoff workflow: checklist, phase changes, sign-off, reopening, the TA's
acknowledgement and reviews, reminders. Each write: one transaction, the account row locked,
an audit event and, for changes to the record, the account marked changed (record_change);
reviews and reminders record the event alone. E-mails go out after commit, so a rolled-back
write sends nothing."""

import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from handoff.accounts.models import Account
from handoff.accounts.services import record_change
from handoff.audit.models import AuditEvent
from handoff.audit.services import audit_record
from handoff.closeout import notifications
from handoff.closeout.models import (
    ChecklistItem,
    ChecklistTemplateItem,
    Closeout,
    CompletionReminder,
    HandoffReview,
    SignOff,
)
from handoff.closeout.selectors import checklist_template_list
from handoff.closeout.snapshot import snapshot_collect, snapshot_digest
from handoff.common.services import (
    ExpectedVersion,
    check_version,
    checked_save,
    field_changes,
    field_values,
    model_create_values,
    model_update,
)
from handoff.record import account_record_get

TEMPLATE_ITEM_FIELDS = ["title", "guidance", "position", "is_active"]
CHECKLIST_ITEM_FIELDS = ["status", "not_applicable_reason", "evidence_url", "evidence_note"]
Phase = Account.Phase


def _lock_account(account_id: int) -> Account:
    return Account.objects.select_for_update().get(pk=account_id)


def _closeout_locked(account: Account) -> Closeout:
    """The account's closeout row (created on first use); the caller holds the account lock."""
    closeout, _ = Closeout.objects.select_for_update().get_or_create(account=account)
    return closeout


def _actor_name(actor) -> str:
    return (actor.get_full_name() or actor.get_username()) if actor is not None else "System"


def _change_phase(*, account: Account, actor, to: str, message: str) -> None:
    changes = model_update(instance=account, fields=["phase"], data={"phase": to})
    record_change(
        actor=actor,
        obj=account,
        action=AuditEvent.Kind.STATUS,
        changes=changes,
        message=message,
    )


# --- Checklist template (staff, in the admin) -------------------------------------------------
@transaction.atomic
def checklist_template_item_create(
    *, actor, title: str, guidance: str = "", position: int = 0, is_active: bool = True
) -> ChecklistTemplateItem:
    item = ChecklistTemplateItem(
        title=title.strip(), guidance=guidance.strip(), position=position, is_active=is_active
    )
    item.full_clean()
    checked_save(item)
    audit_record(
        actor=actor,
        account=None,
        obj=item,
        action=AuditEvent.Kind.CREATE,
        changes=model_create_values(item, TEMPLATE_ITEM_FIELDS),
    )
    return item


@transaction.atomic
def checklist_template_item_update(
    *, item: ChecklistTemplateItem, actor, data: dict[str, Any]
) -> ChecklistTemplateItem:
    """Changes new checklists only: started checklists keep their own copies."""
    locked = ChecklistTemplateItem.objects.select_for_update().get(pk=item.pk)
    data = {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
    changes = model_update(
        instance=locked, fields=[f for f in TEMPLATE_ITEM_FIELDS if f in data], data=data
    )
    if changes:
        audit_record(
            actor=actor, account=None, obj=locked, action=AuditEvent.Kind.UPDATE, changes=changes
        )
    return locked


# --- An account's checklist --------------------------------------------------------------------
@transaction.atomic
def checklist_start(*, account: Account, actor) -> list[ChecklistItem]:
    """Copy the active template into the account's checklist. An account keeps the items it
    started with: later template edits do not reach it."""
    locked = _lock_account(account.pk)
    if ChecklistItem.objects.filter(account=locked).exists():
        raise ValidationError("This account's closeout checklist has already started.")
    template = list(checklist_template_list())
    if not template:
        raise ValidationError(
            "The checklist template has no active items. Ask an admin to add them."
        )
    items = [
        ChecklistItem(
            account=locked,
            template_item=t,
            position=position,
            title=t.title,
            guidance=t.guidance,
        )
        for position, t in enumerate(template, start=1)
    ]
    for item in items:
        item.full_clean()
    ChecklistItem.objects.bulk_create(items)
    closeout = _closeout_locked(locked)
    closeout.checklist_started_at = timezone.now()
    closeout.checklist_started_by = actor
    closeout.save(update_fields=["checklist_started_at", "checklist_started_by", "updated_at"])
    record_change(
        actor=actor,
        account=locked,
        obj=closeout,
        action=AuditEvent.Kind.CREATE,
        changes=[
            {
                "field": "checklist",
                "label": "Closeout checklist",
                "before": None,
                "after": f"Started with {len(items)} items",
            }
        ],
        message="Started the closeout checklist",
    )
    return items


@transaction.atomic
def checklist_item_update(
    *, item: ChecklistItem, actor, data: dict[str, Any], expected_version: ExpectedVersion
) -> ChecklistItem:
    """Set an item's status (done / not applicable with a reason / open) and evidence.
    Who and when are recorded when the status changes."""
    _lock_account(item.account_id)
    locked = ChecklistItem.objects.select_for_update().get(pk=item.pk)
    check_version(locked, expected_version)
    before = field_values(locked, CHECKLIST_ITEM_FIELDS)
    old_status = locked.status
    for name in CHECKLIST_ITEM_FIELDS:
        if name in data:
            value = data[name]
            setattr(locked, name, value.strip() if isinstance(value, str) else value)
    if locked.status != ChecklistItem.Status.NOT_APPLICABLE:
        locked.not_applicable_reason = ""  # a reason only means something while it applies
    if locked.status != old_status:
        settled = locked.is_settled
        locked.completed_by = actor if settled else None
        locked.completed_at = timezone.now() if settled else None
    locked.full_clean()
    changes = field_changes(locked, before, field_values(locked, CHECKLIST_ITEM_FIELDS))
    if not changes:
        return locked
    locked.version += 1
    locked.save(
        update_fields=[
            *CHECKLIST_ITEM_FIELDS,
            "completed_by",
            "completed_at",
            "version",
            "updated_at",
        ]
    )
    record_change(actor=actor, obj=locked, action=AuditEvent.Kind.UPDATE, changes=changes)
    return locked


# --- Phases --------------------------------------------------------------------------------------
@transaction.atomic
def handoff_request(*, account: Account, actor, notify: bool = True) -> Account:
    """Implementation → Handoff requested. The TA and the manager get an e-mail (unless
    `notify` is off: demo seeding)."""
    locked = _lock_account(account.pk)
    if locked.phase != Phase.IMPLEMENTATION:
        raise ValidationError(
            "Handoff can only be requested while the account is in implementation."
        )
    closeout = _closeout_locked(locked)
    closeout.handoff_requested_at = timezone.now()
    closeout.handoff_requested_by = actor
    closeout.save(update_fields=["handoff_requested_at", "handoff_requested_by", "updated_at"])
    _change_phase(
        account=locked, actor=actor, to=Phase.READY_FOR_HANDOFF, message="Requested handoff"
    )
    if notify:
        notifications.email_handoff_requested(account_id=locked.pk)
    return locked


@transaction.atomic
def handoff_withdraw(*, account: Account, actor, reason: str = "") -> Account:
    """Handoff requested → Implementation, when the implementation turns out not to be done."""
    locked = _lock_account(account.pk)
    if locked.phase != Phase.READY_FOR_HANDOFF:
        raise ValidationError("Only a handoff request that is waiting can be withdrawn.")
    closeout = _closeout_locked(locked)
    closeout.handoff_requested_at = None
    closeout.handoff_requested_by = None
    closeout.save(update_fields=["handoff_requested_at", "handoff_requested_by", "updated_at"])
    reason = reason.strip()
    message = "Withdrew the handoff request" + (f": {reason}" if reason else "")
    _change_phase(account=locked, actor=actor, to=Phase.IMPLEMENTATION, message=message)
    return locked


@transaction.atomic
def handoff_acknowledge(*, account: Account, actor) -> Closeout:
    """The assigned technical advisor says they know the account is coming to them."""
    locked = _lock_account(account.pk)
    if locked.technical_advisor_id != actor.pk:
        raise ValidationError("Only the account's technical advisor can acknowledge it.")
    closeout = _closeout_locked(locked)
    if closeout.ta_acknowledged_by_id == actor.pk:
        return closeout
    fields = ["ta_acknowledged_by"]  # the event's own time says when
    before = field_values(closeout, fields)
    closeout.ta_acknowledged_by = actor
    closeout.ta_acknowledged_at = timezone.now()
    closeout.save(update_fields=["ta_acknowledged_by", "ta_acknowledged_at", "updated_at"])
    record_change(
        actor=actor,
        account=locked,
        obj=closeout,
        action=AuditEvent.Kind.UPDATE,
        changes=field_changes(closeout, before, field_values(closeout, fields)),
        message="Acknowledged the account",
    )
    return closeout


@transaction.atomic
def handoff_mark_reviewed(*, account: Account, actor) -> HandoffReview:
    """Remember where in the audit trail this person last looked. Not a change to the record
    (nothing Vitally shows moves), so the account's change version stays."""
    locked = _lock_account(account.pk)
    now = timezone.now()
    review, _ = HandoffReview.objects.select_for_update().get_or_create(
        account=locked, reviewer=actor, defaults={"reviewed_at": now}
    )
    event = audit_record(
        actor=actor,
        account=locked,
        obj=review,
        action=AuditEvent.Kind.ACTION,
        message="Marked the handoff reviewed",
    )
    review.reviewed_at = now
    review.through_event_id = event.pk
    review.full_clean()
    review.save(update_fields=["reviewed_at", "through_event_id"])
    return review


@transaction.atomic
def closeout_sign_off(
    *, account: Account, actor, override_reason: str = "", notify: bool = True
) -> SignOff:
    """Handoff requested → Handed off. Refused while blockers remain unless the manager writes
    why they sign off anyway. Freezes a snapshot of the record; e-mails the IE and the TA."""
    locked = _lock_account(account.pk)
    if locked.phase != Phase.READY_FOR_HANDOFF:
        raise ValidationError("Only an account whose handoff is requested can be signed off.")
    current = account_record_get(locked.pk, for_snapshot=True)
    readiness = current.readiness
    reason = override_reason.strip()
    blockers = readiness.blockers
    if blockers and not reason:
        many = len(blockers) != 1
        raise ValidationError(
            {
                "override_reason": f"{readiness.shortfall_text}. "
                f"Resolve {'them' if many else 'it'}, or write why you sign off anyway."
            }
        )
    now = timezone.now()
    snapshot = snapshot_collect(current, taken_at=now)
    sign_off = SignOff(
        account=locked,
        signed_by=actor,
        signed_by_name=_actor_name(actor),
        signed_at=now,
        readiness_percent=readiness.percent,
        blockers=[
            {"rule": r.rule.key, "title": b.title, "detail": b.detail, "url": b.url}
            for r in readiness.results
            for b in r.blockers
        ],
        # An override reason only means something when there was something to override.
        override_reason=reason if blockers else "",
        snapshot=snapshot,
        snapshot_sha256=snapshot_digest(snapshot),
    )
    sign_off.full_clean()
    sign_off.save()
    message = "Signed off the closeout"
    if blockers:
        message += (
            f", overriding {len(blockers)} blocker{'s' if len(blockers) != 1 else ''}: {reason}"
        )
    _change_phase(account=locked, actor=actor, to=Phase.HANDED_OFF, message=message)
    if notify:
        notifications.email_signed_off(sign_off_id=sign_off.pk)
    return sign_off


@transaction.atomic
def closeout_reopen(*, account: Account, actor, reason: str, notify: bool = True) -> Account:
    """Handed off → Implementation, with a written reason recorded on the sign-off it reopens
    (the sign-off and its snapshot stay as they were)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Write why the account is reopened."})
    locked = _lock_account(account.pk)
    if locked.phase != Phase.HANDED_OFF:
        raise ValidationError("Only a handed-off account can be reopened.")
    latest = (
        SignOff.objects.select_for_update()
        .filter(account=locked, reopened_at__isnull=True)
        .order_by("-signed_at", "-pk")
        .first()
    )
    if latest is not None:
        latest.reopened_at = timezone.now()
        latest.reopened_by = actor
        latest.reopen_reason = reason
        latest.save(update_fields=["reopened_at", "reopened_by", "reopen_reason"])
    closeout = _closeout_locked(locked)
    closeout.handoff_requested_at = None
    closeout.handoff_requested_by = None
    closeout.save(update_fields=["handoff_requested_at", "handoff_requested_by", "updated_at"])
    _change_phase(
        account=locked, actor=actor, to=Phase.IMPLEMENTATION, message=f"Reopened: {reason}"
    )
    if notify:
        notifications.email_reopened(account_id=locked.pk, reason=reason)
    return locked


# --- Planned completion reminder ----------------------------------------------------------------
def reminder_due(account: Account, closeout: Closeout | None, *, today: datetime.date) -> bool:
    """About three weeks before planned completion, while no TA is assigned or the TA has not
    acknowledged ("pull in the TA to begin planning user onboarding")."""
    date = account.planned_completion_date
    if account.phase == Phase.HANDED_OFF or date is None:
        return False
    days_before = settings.HANDOFF_REMINDER_DAYS_BEFORE
    if not today <= date <= today + datetime.timedelta(days=days_before):
        return False
    return closeout is None or not closeout.acknowledged_by_current_ta(account)


@transaction.atomic
def completion_reminder_send(*, account_id: int, today: datetime.date) -> bool:
    """Send the one reminder for the account's current planned completion date. True when
    sent. The reminder and its e-mail are recorded together: once committed, the same date is
    never reminded again, and an e-mail the mail server refuses is retried by the worker.

    Not a change to the record, so the account's change version stays."""
    account = (
        Account.objects.select_for_update(of=("self",))
        .select_related("implementation_engineer", "technical_advisor", "manager")
        .get(pk=account_id)
    )
    closeout = Closeout.objects.filter(account=account).first()
    planned = account.planned_completion_date
    if planned is None or not reminder_due(account, closeout, today=today):
        return False
    recipients = notifications.people_with_email([account.implementation_engineer, account.manager])
    try:
        with transaction.atomic():
            reminder = CompletionReminder.objects.create(
                account=account,
                planned_completion_date=planned,
                sent_at=timezone.now(),
                recipients=[user.email for user in recipients],
            )
    except IntegrityError:
        return False  # already reminded for this date
    notifications.email_completion_reminder(account=account, recipients=recipients, today=today)
    audit_record(
        actor=None,
        account=account,
        obj=reminder,
        action=AuditEvent.Kind.ACTION,
        message="Sent the planned completion reminder to "
        + (", ".join(str(u) for u in recipients) or "nobody (no e-mail address on file)"),
    )
    return True
