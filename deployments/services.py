"""Writes to the deployment record. Every write: one transaction, full_clean, and record_change:
an audit event with field-level before → after, and the account marked changed (what the
Vitally sync follows). A save of several code hosts records an event per row and marks once."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Max

from deployments.models import CodeHostConnection, DesignDocument, Environment, InstanceTypeRow
from handoff.accounts.models import Account
from handoff.accounts.services import account_mark_changed, record_change
from handoff.audit.models import AuditEvent
from handoff.common.services import (
    ANY_VERSION,
    ExpectedVersion,
    MissingVersionError,
    check_version,
    checked_save,
    field_changes,
    field_values,
    model_create_values,
    model_update,
)

# In form order: History lists changes in this order.
ENVIRONMENT_FIELDS = [
    "kind",
    "name",
    "infra_start_date",
    "infra_completion_date",
    "sourcegraph_instance_url",
    "deployment_type",
    "deployment_type_other",
    "hosting_provider",
    "hosting_provider_other",
    "total_cpu",
    "total_memory_gb",
    "total_disk_space_gb",
    "sourcegraph_version",
    "rockskip_enabled",
    "external_postgres",
    "external_redis",
    "external_object_storage",
    "executors_enabled",
    "special_details",
    "max_users",
    "max_concurrent_users",
    "max_repositories",
]
CODE_HOST_FIELDS = [
    "kind",
    "display_name",
    "url",
    "repository_count",
    "monorepo_count",
    "largest_repository_mb",
]
DESIGN_DOCUMENTS_LABEL = "Link to any Technical Design Documents"
INSTANCE_TYPES_LABEL = "Machine Instance Types"


@dataclass(frozen=True)
class DocumentLink:
    title: str
    url: str


@dataclass(frozen=True)
class InstanceSpec:
    count: int
    instance_type: str


def instance_types_text(rows) -> str:
    """ "3 × m6a.4xlarge, 1 × m6a.2xlarge": how History and Vitally show the rows."""
    return ", ".join(f"{row.count} × {row.instance_type}" for row in rows)


def design_documents_text(rows) -> str:
    return "; ".join(f"{row.title} <{row.url}>" for row in rows)


def _create_changes(instance, fields: list[str]) -> list[dict[str, Any]]:
    """A new row's History: every filled field, leaving out the switches left off."""
    return [
        change
        for change in model_create_values(instance, fields)
        if not (
            isinstance(instance._meta.get_field(change["field"]), models.BooleanField)
            and change["after"] == "No"
        )
    ]


def _clean_strings(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}


def _replace_children(
    *,
    environment: Environment,
    design_documents: list[DocumentLink] | None,
    instance_types: list[InstanceSpec] | None,
) -> list[dict[str, Any]]:
    """Replace the ordered child rows when they differ; return their History entries.

    The rows are values of the environment (no identity of their own), so a changed list is
    rewritten as a whole and the environment's version covers them."""
    changes = []
    if design_documents is not None:
        rows = [DocumentLink(title=d.title.strip(), url=d.url.strip()) for d in design_documents]
        current = list(environment.design_documents.all())
        if [(d.title, d.url) for d in current] != [(d.title, d.url) for d in rows]:
            environment.design_documents.all().delete()
            for position, row in enumerate(rows):
                document = DesignDocument(
                    environment=environment, position=position, title=row.title, url=row.url
                )
                _full_clean_row(document, "design_documents", position, "Document")
                document.save()
            changes.append(
                {
                    "field": "design_documents",
                    "label": DESIGN_DOCUMENTS_LABEL,
                    "before": design_documents_text(current) or None,
                    "after": design_documents_text(rows) or None,
                }
            )
    if instance_types is not None:
        specs = [
            InstanceSpec(count=i.count, instance_type=i.instance_type.strip())
            for i in instance_types
        ]
        current_rows = list(environment.instance_types.all())
        if [(i.count, i.instance_type) for i in current_rows] != [
            (i.count, i.instance_type) for i in specs
        ]:
            environment.instance_types.all().delete()
            for position, spec in enumerate(specs):
                instance = InstanceTypeRow(
                    environment=environment,
                    position=position,
                    count=spec.count,
                    instance_type=spec.instance_type,
                )
                _full_clean_row(instance, "instance_types", position, "Instance row")
                instance.save()
            changes.append(
                {
                    "field": "instance_types",
                    "label": INSTANCE_TYPES_LABEL,
                    "before": instance_types_text(current_rows) or None,
                    "after": instance_types_text(specs) or None,
                }
            )
    return changes


def _full_clean_row(row, key: str, position: int, noun: str) -> None:
    try:
        row.full_clean(exclude=["environment"])
    except ValidationError as error:
        messages = [
            f"{noun} {position + 1}, {row._meta.get_field(name).verbose_name}: {message}"
            for name, errors in error.message_dict.items()
            for message in errors
        ]
        raise ValidationError({key: messages}) from error


@transaction.atomic
def environment_create(
    *,
    account: Account,
    actor,
    kind: str,
    data: dict[str, Any],
    design_documents: Sequence[DocumentLink] = (),
    instance_types: Sequence[InstanceSpec] = (),
) -> Environment:
    # Lock the account: two people recording its production environment at once get one
    # production row and a clear refusal, not an IntegrityError (the constraint backs this up).
    Account.objects.select_for_update().filter(pk=account.pk).first()
    fields = {k: v for k, v in _clean_strings(data).items() if k in ENVIRONMENT_FIELDS}
    fields.pop("kind", None)
    environment = Environment(account=account, kind=kind, **fields)
    environment.full_clean()
    checked_save(environment)
    child_changes = _replace_children(
        environment=environment,
        design_documents=list(design_documents),
        instance_types=list(instance_types),
    )
    record_change(
        actor=actor,
        obj=environment,
        action=AuditEvent.Kind.CREATE,
        changes=_create_changes(environment, ENVIRONMENT_FIELDS) + child_changes,
    )
    return environment


@transaction.atomic
def environment_update(
    *,
    environment: Environment,
    actor,
    data: dict[str, Any],
    expected_version: ExpectedVersion,
    design_documents: list[DocumentLink] | None = None,
    instance_types: list[InstanceSpec] | None = None,
    message: str = "",
) -> Environment:
    """Apply the edited fields and child rows. Refuses (ConcurrentEditError) when the
    environment was saved by someone else since `expected_version`; then nothing is written.
    `message` goes into History with the changes (e.g. where the values came from)."""
    locked = Environment.objects.select_for_update().get(pk=environment.pk)
    check_version(locked, expected_version)
    data = _clean_strings(data)
    if "kind" in data and (data["kind"] == Environment.Kind.PRODUCTION) != locked.is_production:
        raise ValidationError(
            {"kind": "The production environment stays production; record others separately."}
        )
    changes = model_update(
        instance=locked, fields=[f for f in ENVIRONMENT_FIELDS if f in data], data=data
    )
    child_changes = _replace_children(
        environment=locked, design_documents=design_documents, instance_types=instance_types
    )
    if child_changes and not changes:
        # Only the rows changed: the environment's version still has to move, so a form
        # rendered before this save is refused.
        locked.version += 1
        locked.save(update_fields=["version", "updated_at"])
    if changes or child_changes:
        record_change(
            actor=actor,
            obj=locked,
            action=AuditEvent.Kind.UPDATE,
            changes=changes + child_changes,
            message=message,
        )
    return locked


@transaction.atomic
def environment_delete(
    *, environment: Environment, actor, expected_version: ExpectedVersion
) -> None:
    locked = Environment.objects.select_for_update().get(pk=environment.pk)
    check_version(locked, expected_version)
    if locked.is_production:
        raise ValidationError("The production environment cannot be removed; edit it instead.")
    before = field_values(locked, ENVIRONMENT_FIELDS)
    changes = field_changes(locked, before, {})
    children = _replace_children(environment=locked, design_documents=[], instance_types=[])
    record_change(
        actor=actor,
        obj=locked,
        action=AuditEvent.Kind.DELETE,
        changes=changes + children,
    )
    locked.delete()


# --- Code hosts --------------------------------------------------------------------------------


class CodeHostConflictError(ValidationError):
    """Code hosts in the submitted list were changed or removed by someone else meanwhile.
    Nothing was written; `current` holds the saved rows, `gone_ids` the removed ones."""

    def __init__(self, *, current: list[CodeHostConnection], gone_ids: list[int]):
        self.current = current
        self.gone_ids = gone_ids
        parts = []
        if current:
            parts.append(
                "Someone else saved "
                + ", ".join(f"“{c.name}”" for c in current)
                + " while you were editing. Their values are shown below."
            )
        if gone_ids:
            noun = "code host" if len(gone_ids) == 1 else "code hosts"
            parts.append(
                f"{len(gone_ids)} {noun} you edited were removed by someone else; saving again "
                "adds what you typed back as new."
                if len(gone_ids) > 1
                else f"A {noun} you edited was removed by someone else; saving again adds what "
                "you typed back as new."
            )
        super().__init__(
            "Nothing was saved. " + " ".join(parts) + " Make your change again, then save.",
            code="concurrent_edit",
        )


@dataclass(frozen=True)
class CodeHostChange:
    """One row of the code hosts form: new (id None), edited, or removed (delete). A saved row
    (an id) carries the version it was made from, or ANY_VERSION; None only for a new row."""

    data: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
    version: ExpectedVersion | None = None
    delete: bool = False


def _code_host_create(
    *, account: Account, actor, data: dict[str, Any], mark_changed: bool
) -> CodeHostConnection:
    last = CodeHostConnection.objects.filter(account=account).aggregate(m=Max("position"))["m"]
    fields = {k: v for k, v in _clean_strings(data).items() if k in CODE_HOST_FIELDS}
    code_host = CodeHostConnection(
        account=account, position=0 if last is None else last + 1, **fields
    )
    code_host.full_clean()
    checked_save(code_host)
    record_change(
        actor=actor,
        obj=code_host,
        action=AuditEvent.Kind.CREATE,
        changes=model_create_values(code_host, CODE_HOST_FIELDS),
        mark_changed=mark_changed,
    )
    return code_host


def _code_host_update(
    *, locked: CodeHostConnection, actor, data: dict[str, Any], mark_changed: bool
) -> bool:
    data = _clean_strings(data)
    changes = model_update(
        instance=locked, fields=[f for f in CODE_HOST_FIELDS if f in data], data=data
    )
    if changes:
        record_change(
            actor=actor,
            obj=locked,
            action=AuditEvent.Kind.UPDATE,
            changes=changes,
            mark_changed=mark_changed,
        )
    return bool(changes)


def _code_host_delete(*, locked: CodeHostConnection, actor, mark_changed: bool) -> None:
    record_change(
        actor=actor,
        obj=locked,
        action=AuditEvent.Kind.DELETE,
        changes=field_changes(locked, field_values(locked, CODE_HOST_FIELDS), {}),
        mark_changed=mark_changed,
    )
    locked.delete()


@transaction.atomic
def code_host_create(*, account: Account, actor, data: dict[str, Any]) -> CodeHostConnection:
    return _code_host_create(account=account, actor=actor, data=data, mark_changed=True)


@transaction.atomic
def code_host_update(
    *,
    code_host: CodeHostConnection,
    actor,
    data: dict[str, Any],
    expected_version: ExpectedVersion,
) -> CodeHostConnection:
    locked = CodeHostConnection.objects.select_for_update().get(pk=code_host.pk)
    check_version(locked, expected_version)
    _code_host_update(locked=locked, actor=actor, data=data, mark_changed=True)
    return locked


@transaction.atomic
def code_host_delete(
    *, code_host: CodeHostConnection, actor, expected_version: ExpectedVersion
) -> None:
    locked = CodeHostConnection.objects.select_for_update().get(pk=code_host.pk)
    check_version(locked, expected_version)
    _code_host_delete(locked=locked, actor=actor, mark_changed=True)


@transaction.atomic
def code_host_list_save(*, account: Account, actor, rows: list[CodeHostChange]) -> int:
    """Save the code hosts form as one change: every row is checked against its version before
    anything is written, so a stale row refuses the whole save (CodeHostConflictError).

    Rows are looked up within `account` only: an id of another account's code host is "gone"
    here, never touched. A saved row without its version refuses the save
    (MissingVersionError). Returns the number of rows that changed."""
    if any(row.id is not None and row.version is None for row in rows):
        raise MissingVersionError()
    ids = [row.id for row in rows if row.id is not None]
    locked = {
        c.pk: c
        for c in CodeHostConnection.objects.select_for_update()
        .select_related("account")
        .filter(account=account, pk__in=ids)
    }
    gone = [pk for pk in ids if pk not in locked]
    stale = [
        locked[row.id]
        for row in rows
        if row.id in locked
        and row.version is not ANY_VERSION
        and locked[row.id].version != row.version
    ]
    if gone or stale:
        raise CodeHostConflictError(current=stale, gone_ids=gone)
    changed = 0
    for row in rows:
        if row.id is None:
            if not row.delete:
                _code_host_create(account=account, actor=actor, data=row.data, mark_changed=False)
                changed += 1
        elif row.delete:
            _code_host_delete(locked=locked[row.id], actor=actor, mark_changed=False)
            changed += 1
        elif _code_host_update(
            locked=locked[row.id], actor=actor, data=row.data, mark_changed=False
        ):
            changed += 1
    if changed:
        account_mark_changed(account_id=account.pk)
    return changed
