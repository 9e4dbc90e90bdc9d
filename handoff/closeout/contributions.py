"""What the core contributes to an account's record (handoff/registry.py), as two contributions:
"account" (the people rules, the planned completion and sign-off notes, the account and people
parts of the snapshot) first, and "closeout" (the checklist: its rule, its snapshot part and the
closeout section of the account page) after the apps' own, in the handbook's order."""

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from handoff.closeout.forms import ChecklistItemForm
from handoff.closeout.markdown import md_date, md_link, md_table, md_text
from handoff.permissions import Action, can
from handoff.registry import AttentionItem, Blocker, Contribution, Part, Rule, Section, Trait


def _account_url(account, fragment: str = "") -> str:
    return reverse("accounts:detail", args=[account.pk]) + (f"#{fragment}" if fragment else "")


def _edit_url(account, field: str) -> str:
    return reverse("accounts:edit", args=[account.pk]) + f"#id_{field}"


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _name(user) -> str | None:
    return str(user) if user is not None else None


# --- Readiness rules -------------------------------------------------------------------------
def rule_technical_advisor_assigned(record) -> list[Blocker]:
    account = record.account
    if account.technical_advisor_id:
        return []
    return [
        Blocker(
            title="No technical advisor assigned",
            detail="Assign the technical advisor who takes the account over; they then "
            "acknowledge it on the account page.",
            url=_edit_url(account, "technical_advisor"),
            action=Action.ACCOUNT_EDIT,
        )
    ]


def rule_technical_advisor_acknowledged(record) -> list[Blocker]:
    account = record.account
    if record.acknowledged:
        return []
    if account.technical_advisor_id is None:
        return [
            Blocker(
                title="No technical advisor to acknowledge the account",
                detail="Assign a technical advisor; they then acknowledge the account on the "
                "account page.",
                url=_edit_url(account, "technical_advisor"),
                action=Action.ACCOUNT_EDIT,
            )
        ]
    return [
        Blocker(
            title=f"{account.technical_advisor} has not acknowledged the account",
            detail="The technical advisor acknowledges the account on the account page.",
            url=_account_url(account, "handoff-status"),
        )
    ]


def rule_manager_assigned(record) -> list[Blocker]:
    account = record.account
    if account.manager_id:
        return []
    return [
        Blocker(
            title="No manager assigned",
            detail="Assign the manager who signs off the closeout.",
            url=_edit_url(account, "manager"),
            action=Action.ACCOUNT_EDIT,
        )
    ]


def rule_checklist_complete(record) -> list[Blocker]:
    account, items = record.account, record.checklist
    if not items:
        return [
            Blocker(
                title="Closeout checklist not started",
                detail="Start the closeout checklist, then mark each item done or not applicable.",
                url=_account_url(account, "closeout"),
            )
        ]
    return [
        Blocker(
            title=f"Checklist item open: {item.title}",
            detail="Mark it done, or not applicable with a reason.",
            url=_account_url(account, f"checklist-item-{item.position}"),
        )
        for item in items
        if not item.is_settled
    ]


def summary_checklist_complete(record, blockers) -> str:
    if not record.checklist or len(blockers) == 1:
        return ""  # the blocker's own title says it
    return f"{len(blockers)} of {len(record.checklist)} checklist items open"


# --- Attention items -------------------------------------------------------------------------
def attention_planned_completion(record) -> list[AttentionItem]:
    return planned_completion_items(record.account, acknowledged=record.acknowledged)


def planned_completion_items(account, *, acknowledged: bool) -> list[AttentionItem]:
    """A planned completion date that has passed, or that is near while no technical advisor
    has acknowledged the account (the account page's attention list and the manager's My work
    read the same items)."""
    date = account.planned_completion_date
    if date is None or account.phase == account.Phase.HANDED_OFF:
        return []
    days = (date - timezone.localdate()).days
    if days < 0:
        return [
            AttentionItem(
                level=AttentionItem.Level.WARNING,
                title="Planned completion date has passed",
                detail=f"It was {date:%-d %b %Y}, {-days} day{'s' if days != -1 else ''} ago.",
                url=_edit_url(account, "planned_completion_date"),
                action=Action.ACCOUNT_EDIT,
            )
        ]
    if days > settings.HANDOFF_REMINDER_DAYS_BEFORE or acknowledged:
        return []
    when = f"Planned completion in {days} day{'s' if days != 1 else ''}"
    if account.technical_advisor_id is None:
        return [
            AttentionItem(
                level=AttentionItem.Level.WARNING,
                title=f"{when}, no technical advisor assigned",
                detail="Pull the technical advisor in to plan user onboarding.",
                url=_edit_url(account, "technical_advisor"),
                action=Action.ACCOUNT_EDIT,
            )
        ]
    return [
        AttentionItem(
            level=AttentionItem.Level.WARNING,
            title=f"{when}, not acknowledged by {account.technical_advisor}",
            detail="The technical advisor acknowledges the account on this page.",
            url=_account_url(account, "handoff-status"),
        )
    ]


def attention_sign_off(record) -> list[AttentionItem]:
    account, sign_off = record.account, record.latest_sign_off
    if sign_off is None:
        return []
    if sign_off.reopened_at and account.phase != account.Phase.HANDED_OFF:
        return [
            AttentionItem(
                level=AttentionItem.Level.INFO,
                title=f"Reopened after sign-off by {sign_off.reopened_by or 'a manager'}",
                detail=sign_off.reopen_reason,
                url=sign_off.get_absolute_url(),
            )
        ]
    if sign_off.blockers and account.phase == account.Phase.HANDED_OFF:
        count = len(sign_off.blockers)
        return [
            AttentionItem(
                level=AttentionItem.Level.INFO,
                title=f"Signed off with {count} blocker{'s' if count != 1 else ''} overridden",
                detail=sign_off.override_reason,
                url=sign_off.get_absolute_url(),
            )
        ]
    return []


# --- Snapshot sections and their Markdown ------------------------------------------------------
def snapshot_account(record) -> dict:
    account, closeout = record.account, record.closeout
    return {
        "name": account.name,
        "vitally_account_id": account.vitally_account_id,
        "crm_url": account.crm_url,
        "phase": account.get_phase_display(),
        "planned_completion_date": _iso(account.planned_completion_date),
        "handoff_requested_at": _iso(closeout and closeout.handoff_requested_at),
        "handoff_requested_by": _name(closeout and closeout.handoff_requested_by),
        "ta_acknowledged_at": _iso(closeout and closeout.ta_acknowledged_at),
        "ta_acknowledged_by": _name(closeout and closeout.ta_acknowledged_by),
    }


def _person(user) -> dict | None:
    return {"name": str(user), "email": user.email} if user is not None else None


def snapshot_people(record) -> dict:
    account = record.account
    return {
        "implementation_engineer": _person(account.implementation_engineer),
        "technical_advisor": _person(account.technical_advisor),
        "manager": _person(account.manager),
    }


def snapshot_checklist(record) -> dict:
    closeout = record.closeout
    return {
        "started_at": _iso(closeout and closeout.checklist_started_at),
        "started_by": _name(closeout and closeout.checklist_started_by),
        "items": [
            {
                "position": item.position,
                "title": item.title,
                "status": item.get_status_display(),
                "not_applicable_reason": item.not_applicable_reason,
                "evidence_url": item.evidence_url,
                "evidence_note": item.evidence_note,
                "completed_by": _name(item.completed_by),
                "completed_at": _iso(item.completed_at),
            }
            for item in record.checklist
        ],
    }


def _by(when: str | None, who: str | None) -> str:
    if not when:
        return "—"
    return f"{md_date(when)} by {md_text(who)}" if who else md_date(when)


def markdown_account(data: dict) -> str:
    rows = [
        ["Account name", md_text(data["name"])],
        ["Vitally account id", md_text(data["vitally_account_id"])],
        ["CRM link", md_link(data["crm_url"])],
        ["Phase", md_text(data["phase"])],
        ["Planned completion date", md_date(data["planned_completion_date"])],
        ["Handoff requested", _by(data["handoff_requested_at"], data["handoff_requested_by"])],
        [
            "Acknowledged by the technical advisor",
            _by(data["ta_acknowledged_at"], data["ta_acknowledged_by"]),
        ],
    ]
    return md_table(["Field", "Value"], rows)


def markdown_people(data: dict) -> str:
    roles = [
        ("Implementation engineer", "implementation_engineer"),
        ("Technical advisor", "technical_advisor"),
        ("Manager", "manager"),
    ]
    rows = []
    for label, key in roles:
        person = data.get(key)
        if person:
            rows.append([label, md_text(person["name"]), md_text(person["email"])])
        else:
            rows.append([label, "Not assigned", "—"])
    return md_table(["Role", "Name", "E-mail"], rows)


def markdown_checklist(data: dict) -> str:
    if not data["items"]:
        return "The closeout checklist has not started."
    rows = []
    for item in data["items"]:
        status = md_text(item["status"])
        if item["not_applicable_reason"]:
            status += f": {md_text(item['not_applicable_reason'])}"
        evidence = " — ".join(
            part
            for part in (
                md_link(item["evidence_url"]) if item["evidence_url"] else "",
                md_text(item["evidence_note"]) if item["evidence_note"] else "",
            )
            if part
        )
        rows.append(
            [
                str(item["position"]),
                md_text(item["title"]),
                status,
                evidence or "—",
                md_text(item["completed_by"]),
                md_date(item["completed_at"]),
            ]
        )
    settled = sum(1 for i in data["items"] if i["status"] != "Open")
    head = (
        f"Started {_by(data['started_at'], data['started_by'])}. "
        f"{settled} of {len(data['items'])} items done or not applicable."
    )
    return head + "\n\n" + md_table(["#", "Item", "Status", "Evidence", "By", "When"], rows)


# --- The closeout section (the account page; its context also feeds the page's top) ----------
def closeout_permissions(user, account) -> dict[str, bool]:
    return {
        "edit_account": can(user, Action.ACCOUNT_EDIT, account),
        "start": can(user, Action.CHECKLIST_START, account),
        "edit_items": can(user, Action.CHECKLIST_EDIT, account),
        "request": can(user, Action.HANDOFF_REQUEST, account),
        "withdraw": can(user, Action.HANDOFF_WITHDRAW, account),
        "acknowledge": can(user, Action.HANDOFF_ACKNOWLEDGE, account),
        "mark_reviewed": can(user, Action.HANDOFF_MARK_REVIEWED, account),
        "sign_off": can(user, Action.CLOSEOUT_SIGN_OFF, account),
        "reopen": can(user, Action.CLOSEOUT_REOPEN, account),
    }


def closeout_context(record, user) -> dict:
    """Status, actions and the checklist, each item with its form for those who may edit."""
    permissions = closeout_permissions(user, record.account)
    items = record.checklist
    return {
        "account": record.account,
        "closeout": record.closeout,
        "acknowledged": record.acknowledged,
        "items": [
            {
                "item": item,
                "form": ChecklistItemForm(instance=item) if permissions["edit_items"] else None,
            }
            for item in items
        ],
        "settled": sum(1 for item in items if item.is_settled),
        "readiness": record.readiness,
        "latest_sign_off": record.latest_sign_off,
        "can": permissions,
    }


ACCOUNT = Contribution(
    key="account",
    rules=(
        Rule(
            "technical_advisor_assigned",
            "A technical advisor assigned",
            rule_technical_advisor_assigned,
        ),
        Rule(
            "technical_advisor_acknowledged",
            "The technical advisor has acknowledged the account",
            rule_technical_advisor_acknowledged,
            cleared_by="technical_advisor",
            waits_for="technical_advisor_assigned",
        ),
        Rule("manager_assigned", "A manager assigned", rule_manager_assigned),
    ),
    attention=(attention_planned_completion, attention_sign_off),
    snapshot=(
        Part("account", "Account", snapshot_account, markdown_account),
        Part("people", "People", snapshot_people, markdown_people),
    ),
)


def vitally_values(record) -> dict:
    return {"handoff_status": record.account.get_phase_display()}


CLOSEOUT = Contribution(
    key="closeout",
    rules=(
        Rule(
            "checklist_complete",
            "Every closeout checklist item done or not applicable",
            rule_checklist_complete,
            summary_checklist_complete,
        ),
    ),
    snapshot=(Part("checklist", "Closeout checklist", snapshot_checklist, markdown_checklist),),
    sections=(
        Section(
            "closeout", "Closeout checklist", "closeout/_closeout_section.html", closeout_context
        ),
    ),
    # The account's phase: where the handoff stands.
    vitally_traits=(
        Trait("handoff_status", "Handoff phase", "vitally.custom.handoffStatus", "text", "string"),
    ),
    vitally_values=vitally_values,
)
