"""An edit conflict, shown the one way every edit form shows it.

An edit form carries the version it was rendered from and, in `started_from`, a fingerprint of
each field's value at that moment (VersionedFormMixin). When the save is refused because
someone saved meanwhile (ConcurrentEditError), `conflict_resolve` compares three values per
field: what this person started from, what they sent (yours) and what is saved now (theirs):

- only they changed it: their value is taken into the form (listed, no choice);
- only you changed it: yours stays in the form (no choice, nothing to decide);
- both changed it, differently: a row with both values and a choice, "Keep theirs" by default
  (radio `conflict__<field>`); the next POST applies "Keep theirs" by putting their value back
  (`conflict_choices_apply`, run by the form on a bound POST).

The form then carries the current version and fingerprints: saving applies the choices.
templates/includes/conflict.html shows it."""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django import forms
from django.db import models
from django.utils import timezone

STARTED_FROM = "started_from"
CHOICE_PREFIX = "conflict__"
THEIRS, MINE = "theirs", "mine"


def _canonical(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | models.QuerySet):
        return json.dumps(sorted(_canonical(v) for v in value))
    return str(value)


def fingerprint(value: Any) -> str:
    """A short digest of a field's value: enough to tell "changed" from "not changed"."""
    return hashlib.sha256(_canonical(value).encode()).hexdigest()[:12]


def compared_fields(form) -> list[str]:
    """The form's fields that are the instance's own columns."""
    instance = getattr(form, "instance", None)
    if instance is None:
        return []
    columns = {f.name for f in instance._meta.concrete_fields if f.editable}
    return [name for name in form.fields if name in columns]


def _saved_value(instance, name: str) -> Any:
    """The column's value (a related row's pk, not the row: no query)."""
    return getattr(instance, instance._meta.get_field(name).attname)


def _form_value(form, name: str) -> Any:
    value = form.cleaned_data.get(name)
    return value.pk if isinstance(value, models.Model) else value


def started_from_encode(instance, names: list[str]) -> str:
    return json.dumps({name: fingerprint(_saved_value(instance, name)) for name in names})


def started_from_values(values: dict, names: list[str]) -> str:
    """The fingerprints of a row form rendered from values rather than an instance (a list
    form's rows: the code hosts)."""
    return json.dumps({name: fingerprint(values.get(name)) for name in names})


def started_from_decode(text: str) -> dict[str, str]:
    try:
        decoded = json.loads(text or "{}")
    except ValueError:
        return {}
    return decoded if isinstance(decoded, dict) else {}


def _put(data, form, name: str, instance) -> None:
    """Put the instance's value of `name` into a (mutable) copy of the form's data, as the
    field's widget would post it (under the form's prefix, a list form's row)."""
    value = forms.models.model_to_dict(instance, [name]).get(name)
    field = form.fields[name]
    key = form.add_prefix(name)
    if isinstance(field.widget, forms.CheckboxInput):
        data[key] = "true" if value else "false"
    elif isinstance(value, list | tuple):
        data.setlist(key, [str(field.prepare_value(v)) for v in value])
    else:
        value = field.prepare_value(value)
        data[key] = "" if value is None else str(value)


def conflict_choices_apply(form, *, instance=None, names: list[str] | None = None) -> None:
    """A POST that answers a conflict: where it chose "Keep theirs", their (saved) value.
    `instance`: the saved row when the form is not bound to it (a list form's row)."""
    data = form.data
    instance = instance if instance is not None else form.instance
    names = names if names is not None else compared_fields(form)
    chosen = [n for n in names if data.get(form.add_prefix(CHOICE_PREFIX + n)) == THEIRS]
    if not chosen:
        return
    data = data.copy()
    for name in chosen:
        _put(data, form, name, instance)
    form.data = data


@dataclass
class ConflictRow:
    name: str
    label: str
    theirs: Any
    yours: Any
    choice: str = THEIRS
    prefix: str = ""  # a list form's row: its fields' prefix ("codehosts-0-")

    @property
    def input_name(self) -> str:
        return self.prefix + CHOICE_PREFIX + self.name


@dataclass
class Conflict:
    message: str
    rows: list[ConflictRow] = field(default_factory=list)  # both changed: choose
    taken: list[ConflictRow] = field(default_factory=list)  # only they changed: taken
    # A form's row lists (an environment's documents): theirs shown, yours kept in the form
    lists: list[ConflictRow] = field(default_factory=list)


def _display(instance, name: str) -> Any:
    from handoff.common.services import display_value

    return display_value(instance, name)


def conflict_rows(
    form, current, started_from: dict[str, str], *, names=None, label: str = ""
) -> tuple[list, list]:
    """(rows to choose, rows taken from theirs) for a form whose save `current` refused.

    `form.instance` holds what this person sent (a ModelForm's clean puts it there). A field
    the form did not fingerprint (an old form) counts as changed by both when the values
    differ: the person decides. `names`: the fields to compare (else the instance's columns
    the form has); `label`: what each row's label starts with (a list form's row)."""
    rows, taken = [], []
    yours_instance = form.instance
    prefix = form.add_prefix("") if form.prefix else ""
    for name in names if names is not None else compared_fields(form):
        theirs = _saved_value(current, name)
        yours = _form_value(form, name)
        if fingerprint(theirs) == fingerprint(yours):
            continue
        started = started_from.get(name)
        they_changed = started is None or fingerprint(theirs) != started
        you_changed = started is None or fingerprint(yours) != started
        if not they_changed:
            continue  # only yours changed: nothing to decide, yours is in the form
        row = ConflictRow(
            name=name,
            label=f"{label}{form[name].label}",
            theirs=_display(current, name),
            yours=_display(yours_instance, name),
            prefix=prefix,
        )
        (rows if you_changed else taken).append(row)
    return rows, taken


def _ready(data, form, current, rows: list, taken: list, names: list[str]) -> None:
    """Make the form's part of `data` (mutable) ready for the next save: their changes taken,
    a choice for each clash ("Keep theirs" unless chosen), the current version and
    fingerprints."""
    for row in taken:
        _put(data, form, row.name, current)
    for row in rows:
        data[row.input_name] = data.get(row.input_name) or THEIRS
        row.choice = data[row.input_name]
    data[form.add_prefix("version")] = current.version
    data[form.add_prefix(STARTED_FROM)] = started_from_encode(current, names)


def _message(current, rows: list, taken: list) -> str:
    from handoff.audit.selectors import audit_event_latest_for_object_get

    event = audit_event_latest_for_object_get(obj=current)
    who = (event.actor_name if event else "") or "Someone else"
    when = timezone.localtime(event.created_at if event else current.updated_at)
    saved = f"{who} saved this record at {when:%H:%M} while you were editing."
    if rows:
        differ = "1 field differs" if len(rows) == 1 else f"{len(rows)} fields differ"
        return f"{saved} {differ}: choose for each, then save."
    if taken:
        return f"{saved} Their changes are now in the form with yours: check, then save."
    return f"{saved} Nothing of theirs clashes with yours: save again to keep yours."


def conflict_resolve(form, error, *, current=None, lists: tuple = ()) -> Conflict:
    """The conflict for the form whose save `error` (ConcurrentEditError) refused; the form is
    made ready for the next save: current version and fingerprints, their changes taken.
    `lists`: (label, theirs, yours) of the form's row lists, as text; shown where they differ.
    `current`: the saved row when the caller has it loaded."""
    current = current or error.instance
    if current is form.instance:  # the form's clean wrote what was typed into it: reload
        current = type(current)._default_manager.get(pk=current.pk)
    started = started_from_decode(form.data.get(STARTED_FROM, ""))
    rows, taken = conflict_rows(form, current, started)
    data = form.data.copy()
    _ready(data, form, current, rows, taken, compared_fields(form))
    form.data = data
    differing = [
        ConflictRow(name="", label=label, theirs=theirs, yours=yours)
        for label, theirs, yours in lists
        if (theirs or "") != (yours or "")
    ]
    return Conflict(message=_message(current, rows, taken), rows=rows, taken=taken, lists=differing)


def conflict_resolve_rows(
    data, pairs: list[tuple[Any, Any, str]], *, names: list[str], note: str = "", lists: tuple = ()
) -> Conflict:
    """The conflict of a list form (a formset, one form per saved row) whose save was refused:
    `pairs` are (the row's form, its saved row now, its label) for each row someone saved
    meanwhile; `data` is the formset's posted data (mutable), made ready for the next save as
    `conflict_resolve` does for one form. `note`: what else the refusal says (rows removed
    meanwhile); `lists`: (label, theirs, yours) shown as they are (a row you removed)."""
    rows, taken = [], []
    for form, current, label in pairs:
        started = started_from_decode(data.get(form.add_prefix(STARTED_FROM), ""))
        mine, theirs = conflict_rows(form, current, started, names=names, label=f"{label}: ")
        _ready(data, form, current, mine, theirs, names)
        rows += mine
        taken += theirs
    shown = [ConflictRow(name="", label=label, theirs=t, yours=y) for label, t, y in lists]
    message = _message(pairs[0][1], rows, taken) if pairs else ""
    return Conflict(
        message=" ".join(part for part in (message, note) if part),
        rows=rows,
        taken=taken,
        lists=shown,
    )
