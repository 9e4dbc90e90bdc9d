"""Helpers every write service uses: field-level diffs, optimistic concurrency, full_clean."""

import datetime
import enum
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, Final, Literal, cast

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from handoff.common.models import SubmissionToken

# Claimed tokens are kept this long: a form resubmitted later creates again (it is a new intent).
SUBMISSION_TOKEN_DAYS = 2


class AnyVersion(enum.Enum):
    """The type of ANY_VERSION (an enum member, so type checkers know there is only one)."""

    ANY_VERSION = "any version"

    def __repr__(self) -> str:
        return "ANY_VERSION"


# What an edit service takes instead of the version a form was rendered from when the caller
# overwrites on purpose: seed data, a test that sets up a row. Never what a form sent: an edit
# that arrives without its version is refused (MissingVersionError), not waved through.
ANY_VERSION: Final = AnyVersion.ANY_VERSION

ExpectedVersion = int | Literal[AnyVersion.ANY_VERSION]

MISSING_VERSION_MESSAGE = (
    "This form was sent without its version, so nothing was saved. Reload the page and make "
    "your change again."
)
MISSING_SUBMISSION_MESSAGE = (
    "This form was sent without its one-time token, so nothing was saved. Reload the page and "
    "send it again."
)
INVALID_VERSION_MESSAGE = (
    "This form's version is not valid, so nothing was saved. Reload the page and make your "
    "change again."
)


class MissingVersionError(ValidationError):
    """An edit came without the version it was made from (None). Refused, because None used to
    mean "do not check" and a form that lost its hidden field would overwrite someone else's
    change. Callers that mean to overwrite pass ANY_VERSION."""

    def __init__(self):
        super().__init__(MISSING_VERSION_MESSAGE, code="missing_version")


class ConcurrentEditError(ValidationError):
    """Someone saved the record after the form was rendered; nothing was written."""

    def __init__(self, *, instance: models.Model):
        self.instance = instance
        super().__init__(
            "Someone else saved this record while you were editing it. Nothing was saved: "
            "review their values below, then make your change again.",
            code="concurrent_edit",
        )


def _field(instance: models.Model, name: str) -> models.Field:
    """A concrete field of the model (services only name those)."""
    return cast(models.Field, instance._meta.get_field(name))


def display_value(instance: models.Model, field_name: str) -> Any:
    """The value a person reads in History: choice labels, names, ISO dates, JSON-safe."""
    field = _field(instance, field_name)
    value = getattr(instance, field_name)
    if value is None or value == "":
        return None
    if field.choices:
        return getattr(instance, f"get_{field_name}_display")()
    if isinstance(field, models.ForeignKey):
        return str(value)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, int | float):
        return value
    return str(value)


def field_values(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    return {name: display_value(instance, name) for name in fields}


def field_changes(
    instance: models.Model, before: dict[str, Any], after: dict[str, Any]
) -> list[dict[str, Any]]:
    """[{field, label, before, after}] for the fields whose displayed value changed, in form
    order (a list, because PostgreSQL's jsonb does not keep an object's key order)."""
    changes = []
    for name, old in before.items():
        new = after.get(name)
        if old != new:
            label = str(_field(instance, name).verbose_name)
            changes.append(
                {"field": name, "label": label[:1].upper() + label[1:], "before": old, "after": new}
            )
    return changes


def check_version(instance: "models.Model", expected_version: ExpectedVersion) -> None:
    """Refuse the edit unless `instance` (locked by the caller) is still at `expected_version`.

    ANY_VERSION skips the comparison; None is refused (MissingVersionError)."""
    if expected_version is ANY_VERSION:
        return
    if expected_version is None:
        raise MissingVersionError()
    if cast(Any, instance).version != expected_version:  # every versioned model has one
        raise ConcurrentEditError(instance=instance)


def _raw(field: models.Field, value: Any) -> Any:
    """The column value `value` would store (a related object's pk for a foreign key)."""
    if isinstance(field, models.ForeignKey) and isinstance(value, models.Model):
        return value.pk
    return value


def model_update(
    *, instance: models.Model, fields: list[str], data: dict[str, Any]
) -> list[dict[str, Any]]:
    """Apply `data` to `fields`, validate, save only what changed; return the field diff.

    Only the fields whose value changes are read for History and validated (with the model's
    own clean() and the constraints they take part in), so an edit of one field does not
    re-check every foreign key and unique name. The caller holds the transaction (and normally
    a row lock from select_for_update)."""
    meta = instance._meta
    changing = [
        name
        for name in fields
        if name in data
        and getattr(instance, _field(instance, name).attname)
        != _raw(_field(instance, name), data[name])
    ]
    if not changing:
        return []
    before = field_values(instance, changing)
    for name in changing:
        setattr(instance, name, data[name])
    unchecked = [f.name for f in meta.fields if f.name not in changing]
    instance.full_clean(exclude=unchecked)
    changes = field_changes(instance, before, field_values(instance, changing))
    if changes:
        changed = {change["field"] for change in changes}
        update_fields = [_field(instance, n).attname for n in changing if n in changed]
        if hasattr(instance, "version"):
            instance.version += 1
            update_fields.append("version")
        if hasattr(instance, "updated_at"):
            update_fields.append("updated_at")
        checked_save(
            instance,
            exclude=[f.name for f in meta.fields if f.name not in changing],
            update_fields=update_fields,
        )
    return changes


def checked_save(
    instance: models.Model, *, exclude: list[str] | None = None, **save_kwargs
) -> None:
    """Save a row that passed full_clean(). Another request may save a row with the same unique
    value between that check and this write; the database then refuses it (IntegrityError).
    Check again, now that the other row is there, so the person gets the field error the
    check gives rather than a server error. The savepoint keeps the caller's transaction
    usable; an IntegrityError the check cannot explain is a bug, and is raised."""
    try:
        with transaction.atomic():
            instance.save(**save_kwargs)
    except IntegrityError:
        instance.full_clean(exclude=exclude)
        raise


def model_create_values(instance: models.Model, fields: list[str]) -> list[dict[str, Any]]:
    """The 'before → after' of a new row: every filled field from nothing."""
    after = field_values(instance, fields)
    return field_changes(instance, dict.fromkeys(fields), after)


class SubmissionRefusedError(ValidationError):
    """A create form's one-time token was missing or already used: nothing is saved."""


class MissingSubmissionError(SubmissionRefusedError):
    def __init__(self):
        super().__init__(MISSING_SUBMISSION_MESSAGE, code="missing_submission")


class DuplicateSubmissionError(SubmissionRefusedError):
    """The form was already submitted once and that submission was saved."""

    def __init__(self):
        super().__init__(
            "This form was already submitted and saved once, so it was not saved again. "
            "Check the list before adding it anew.",
            code="duplicate_submission",
        )


@transaction.atomic
def submission_claim(*, token: str, user) -> None:
    """Claim a create form's one-time token. Call it in the transaction of the create: if the
    create fails, the claim rolls back with it and the corrected form can be sent again."""
    if not token:
        # Without it the same POST sent twice (a replay, a double click) would create twice.
        raise MissingSubmissionError()
    try:
        with transaction.atomic():
            SubmissionToken.objects.create(token=token, user=user)
    except IntegrityError:
        raise DuplicateSubmissionError() from None
    cutoff = timezone.now() - datetime.timedelta(days=SUBMISSION_TOKEN_DAYS)
    SubmissionToken.objects.filter(created_at__lt=cutoff).delete()


@contextmanager
def submission_once(*, form, user) -> Iterator[None]:
    """`with submission_once(form=form, user=user): thing_create(...)`: the token's claim and the
    create commit together or not at all."""
    with transaction.atomic():
        submission_claim(token=form.submission_token(), user=user)
        yield
