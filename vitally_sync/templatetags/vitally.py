from django import template

from vitally_sync.conf import sync_config
from vitally_sync.differences import difference_list, difference_rows
from vitally_sync.selectors import account_sync_of, sync_badge

register = template.Library()


@register.simple_tag
def vitally_badge(account):
    """The sync badge of an account row (its sync state joined in by the dashboard query)."""
    return sync_badge(account=account, sync=account_sync_of(account), config=sync_config())


@register.inclusion_tag("vitally_sync/_differs_notice.html")
def vitally_differs_notice(account, only: str = "", exclude: str = ""):
    """Above a form of fields the account's dashboard in Vitally shows: the ones whose value in
    Vitally is another, changed there by hand or held there when the account was linked (`only`
    / `exclude`: trait names, space-separated, to name the form's).
    Pushes leave those alone, but saving a new value here replaces Vitally's, so the person
    editing is told before, not after (two queries: the differences, the sync)."""
    rows = difference_rows(account, difference_list(account_id=account.pk))
    if only:
        rows = [row for row in rows if row.difference.field_name in only.split()]
    if exclude:
        rows = [row for row in rows if row.difference.field_name not in exclude.split()]
    origins = {row.difference.origin for row in rows}
    return {"account": account, "rows": rows, "origin": origins.pop() if len(origins) == 1 else ""}


@register.inclusion_tag("vitally_sync/_phase_notice.html")
def vitally_phase_notice(account, change: str):
    """On the sign-off and reopen forms: what the change does in Vitally, before it is made
    (`change`: "sign_off" or "reopen"). No query: the account's Vitally id and the settings."""
    from vitally_sync.notes import notes_enabled

    config = sync_config()
    return {
        "change": change,
        "linked": config.enabled and bool(account.vitally_account_id),
        "configured": config.enabled,
        "notes": notes_enabled(),
    }


@register.filter
def vitally_value(value, none: str = "not set"):
    """A trait value as people read it: dates as dates, numbers with separators."""
    from vitally_sync.reconcile import value_shown

    return value_shown(value, none=none)


@register.inclusion_tag("vitally_sync/_note_notice.html")
def vitally_note_notice(account, form):
    """Above an implementation note's form: whether it goes to the account's notes in Vitally
    (VITALLY_NOTES_ENABLED, VITALLY_NOTE_CATEGORIES). No query; other logs' forms get nothing."""
    from django.conf import settings

    from vitally_sync.notes import notes_enabled

    model = getattr(getattr(form, "_meta", None), "model", None)
    if model is None or model._meta.label != "logs.JournalEntry" or not notes_enabled():
        return {"show": False}
    chosen = [c.strip() for c in settings.VITALLY_NOTE_CATEGORIES if c.strip()]
    labels = dict(model.Category.choices)
    held = None
    if form.instance.pk is not None:  # a correction: one query, whether it would go
        from vitally_sync.models import NoteSync

        held = NoteSync.objects.filter(journal_entry_id=form.instance.pk).first()
        held = held if held is not None and held.held else None
    return {
        "show": True,
        "account": account,
        "held": held,
        "linked": bool(account.vitally_account_id),
        "categories": [] if "all" in chosen else [labels.get(c, c) for c in chosen],
    }
