"""Differences found in Vitally (reconcile.py reads them back): what people see, and what
the account's maintainer does about each field.

- "Differs in Vitally" on the account's Vitally panel and the account page's attention list:
  the field in the handbook's words, the portal's value, Vitally's value, since when. Both read
  the differences the account's record loaded (`difference_list`), so neither adds a query.
- Keep the portal's value: the key is forgotten from the known state and the account marked
  changed, so the next push sends it again (the sweeper guarantees it; the kick is for speed).
- Take Vitally's value: an ordinary edit of the production environment through
  `deployments.services.environment_update` (its version checked, its form's validation,
  History saying where the value came from). Only fields that are one editable portal field
  can be taken; derived values (counts, the phase, the design documents' list) only kept.
"""

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.formats import date_format

from handoff.accounts.models import Account
from handoff.accounts.services import record_change
from handoff.audit.models import AuditEvent
from vitally_sync.conf import SyncConfig, sync_config
from vitally_sync.models import AccountSync, TraitDifference
from vitally_sync.payloads import trait_fields, traits_build
from vitally_sync.reconcile import trait_date, value_text, values_agree
from vitally_sync.selectors import account_sync_of, portal_values_get, sync_known_traits


# --- what people see ---------------------------------------------------------------------------
def difference_list(*, account_id: int) -> list[TraitDifference]:
    """The differences found in Vitally for an account (the record's Vitally slice): one query."""
    return list(
        TraitDifference.objects.filter(account_id=account_id).order_by("first_seen_at", "pk")
    )


def difference_lists(*, account_ids: list[int]) -> dict[int, list[TraitDifference]]:
    """The differences of many accounts (handoff.record.account_records_list): one query."""
    by_account: dict[int, list[TraitDifference]] = {pk: [] for pk in account_ids}
    for difference in TraitDifference.objects.filter(account_id__in=account_ids).order_by(
        "first_seen_at", "pk"
    ):
        by_account[difference.account_id].append(difference)
    return by_account


# Fields that are one editable field of the production environment: Vitally's value can be
# taken (`difference_take`). The others are derived from several rows, or move only through a
# workflow: the portal's value can only be kept.
TAKE_FIELDS: dict[str, str] = {
    "prod_infra_start_date": "infra_start_date",
    "prod_infra_completion_date": "infra_completion_date",
    "sourcegraph_instance_url": "sourcegraph_instance_url",
    "deployment_type": "deployment_type",
    "infrastructure_hosting_provider": "hosting_provider",
    "machine_instance_types": "instance_types",
    "total_cpu": "total_cpu",
    "total_memory_gb": "total_memory_gb",
    "total_disk_space_gb": "total_disk_space_gb",
}
_CODE_HOSTS = "Counted from the code host connections: change them there."
NOT_TAKEN_BECAUSE: dict[str, str] = {
    "technical_design_document_urls": (
        "Each link has a title in the portal: change the list on the production deployment."
    ),
    "code_hosts_in_use": _CODE_HOSTS,
    "number_of_repositories": _CODE_HOSTS,
    "number_of_monorepos": _CODE_HOSTS,
    "largest_repository_mb": _CODE_HOSTS,
    "handoff_status": "The phase moves only through the handoff workflow.",
    "open_issues": "Counted from the Issues Log.",
    "open_high_risks": "Counted from the Risk Log.",
}


@dataclass(frozen=True)
class DifferenceRow:
    difference: TraitDifference
    label: str
    takeable: bool
    reason: str  # why only the portal's value can be kept
    error: str = ""  # why the last "Take" was refused (shown next to the field)

    @property
    def anchor(self) -> str:
        return f"vitally-difference-{self.difference.pk}"


def difference_rows(
    account: Account,
    differences: list[TraitDifference],
    *,
    config: SyncConfig | None = None,
    errors: Mapping[int, str] | None = None,
) -> list[DifferenceRow]:
    """The account's differences that still hold, in the table's order: those whose portal
    value is still what Vitally was known to hold (when the portal's value changed since, its
    push overwrote Vitally's or is about to). No query: the sync row comes joined with the
    account, the differences with the record."""
    config = config or sync_config()
    sync = account_sync_of(account)
    if not config.enabled or sync is None or not account.vitally_account_id:
        return []
    known = sync_known_traits(sync, account.vitally_account_id)
    order = {trait.name: n for n, trait in enumerate(trait_fields())}
    rows = [d for d in differences if d.trait_key in known and known[d.trait_key] == d.portal_value]
    rows.sort(key=lambda d: (order.get(d.field_name, len(order)), d.pk))
    deployments = apps.is_installed("deployments")
    errors = errors or {}
    return [
        DifferenceRow(
            difference=d,
            label=d.label,
            takeable=deployments and d.field_name in TAKE_FIELDS,
            reason=NOT_TAKEN_BECAUSE.get(d.field_name, "")
            if d.field_name not in TAKE_FIELDS
            else ("" if deployments else "The deployment record is not installed."),
            error=errors.get(d.pk, ""),
        )
        for d in rows
    ]


# --- resolving ---------------------------------------------------------------------------------
class ResolveRefused(Exception):
    """Nothing was changed. `beside_field`: the message belongs next to the field (a value the
    form refuses), else it is a notice for the panel."""

    def __init__(self, message: str, *, beside_field: bool = False):
        super().__init__(message)
        self.message = message
        self.beside_field = beside_field


GONE = (
    "This difference is no longer open: someone resolved it, or Vitally agrees again. "
    "Nothing was changed."
)
CHANGED = (
    "Vitally's value of this field changed since the page was shown: look at it again. "
    "Nothing was changed."
)
PUSH_UNDER_WAY = (
    "A push to Vitally is under way for this account: try again in a few seconds. "
    "Nothing was changed."
)


def _locked(
    *, account: Account, difference_id: int, expected_version: int | None
) -> tuple[AccountSync | None, TraitDifference]:
    """Lock the account's sync row, then the difference. Keep and Take lock in this order, and
    only these rows (`of=("self",)`, ordered by pk: a model's default ordering by its account
    would join the account row into the lock), so two resolutions of one account wait for
    each other instead of deadlocking (the web scanner once sent Keep and Take at once)."""
    sync = (
        AccountSync.objects.select_for_update(of=("self",))
        .annotate(db_now=Now())
        .filter(pk=account.pk)
        .order_by("pk")
        .first()
    )
    difference = (
        TraitDifference.objects.select_for_update(of=("self",))
        .filter(pk=difference_id, account_id=account.pk)
        .order_by("pk")
        .first()
    )
    if difference is None:
        raise ResolveRefused(GONE)
    if expected_version is None or difference.version != expected_version:
        raise ResolveRefused(CHANGED)
    return sync, difference


def _seen(difference: TraitDifference) -> str:
    return date_format(timezone.localtime(difference.last_seen_at), "j M Y, H:i")


def differences_recount(*, account_id: int) -> None:
    """The sync row's count of open differences (what the badge reads), after one was
    resolved or a push sent the portal's value over it."""
    AccountSync.objects.filter(pk=account_id).update(
        differences=TraitDifference.objects.filter(account_id=account_id).count()
    )


@transaction.atomic
def difference_keep(
    *, account: Account, difference_id: int, expected_version: int | None, actor
) -> TraitDifference:
    """Keep the portal's value: Vitally is no longer known to hold the key, and the account is
    marked changed, so the next push sends the portal's value again (and the next read agrees).
    Refused while a push holds the account: its acknowledgement would restore the key."""
    sync, difference = _locked(
        account=account, difference_id=difference_id, expected_version=expected_version
    )
    if sync is not None:
        if sync.lease_until is not None and sync.lease_until > sync.db_now:
            raise ResolveRefused(PUSH_UNDER_WAY)
        known = dict(sync.acked_traits or {})
        known.pop(difference.trait_key, None)
        AccountSync.objects.filter(pk=account.pk).update(acked_traits=known)
    # Marking the account changed is the durable intent; its signal kicks a push.
    record_change(
        actor=actor,
        account=account,
        obj=difference,
        action=AuditEvent.Kind.ACTION,
        message=(
            f"Kept the portal's value of {difference.label} "
            f"({value_text(difference.portal_value)}) over Vitally's "
            f"({value_text(difference.vitally_value, none='not set')}, read "
            f"{_seen(difference)}): "
            "it is sent to Vitally again."
        ),
    )
    difference.delete()
    differences_recount(account_id=account.pk)
    return difference


_INSTANCE_ITEM = re.compile(r"^(\d+)\s*[×xX*]\s*(\S.*)$")


def _choice_input(value: Any, choices, other: str) -> tuple[str, str]:
    """A label as the portal sends it ("Kubernetes with Helm", "Other: Nomad") back to the
    form's (choice, "other" text). A text that is no choice stays as it is: the form refuses."""
    if value is None:
        return "", ""
    text = str(value).strip()
    if text.casefold().startswith("other:"):
        return other, text.split(":", 1)[1].strip()
    for choice, label in choices:
        if text.casefold() in (str(label).casefold(), str(choice).casefold()):
            return choice, ""
    return text, ""


def _instance_rows(value: Any) -> tuple[list, list[str]]:
    """ "3 × m6a.4xlarge, 1 × m6a.2xlarge" back to rows, checked as the form's rows are."""
    from deployments.forms import MAX_INSTANCE_ROWS, InstanceTypeForm
    from deployments.services import InstanceSpec

    if value is None or not str(value).strip():
        return [], []
    items = [item.strip() for item in str(value).split(",") if item.strip()]
    if len(items) > MAX_INSTANCE_ROWS:
        return [], [f"Vitally's value has {len(items)} rows; the form takes {MAX_INSTANCE_ROWS}."]
    rows, errors = [], []
    for n, item in enumerate(items, start=1):
        match = _INSTANCE_ITEM.match(item)
        if match is None:
            errors.append(f"“{item}” is not a row like “3 × m6a.4xlarge” (count × instance type).")
            continue
        form = InstanceTypeForm(data={"count": match[1], "instance_type": match[2]})
        if not form.is_valid():
            errors += [
                f"Row {n}, {form.fields[name].label.lower()}: {message}"
                for name, messages in form.errors.items()
                for message in messages
            ]
            continue
        rows.append(
            InstanceSpec(
                count=form.cleaned_data["count"],
                instance_type=form.cleaned_data["instance_type"],
            )
        )
    return rows, errors


def _form_errors(form) -> dict[str, list[str]]:
    return {name: list(messages) for name, messages in form.errors.items()}


def _take_input(field_name: str, value: Any, production) -> tuple[dict, list | None, list[str]]:
    """What Vitally's value is in the production form's terms, checked by that form: (data for
    environment_update, instance rows or None, the messages the form would show)."""
    from deployments.forms import EnvironmentForm
    from deployments.models import Environment

    target = TAKE_FIELDS[field_name]
    if target == "instance_types":
        rows, errors = _instance_rows(value)
        return {}, rows, errors
    shown = EnvironmentForm(instance=production, production=True)
    current = {name: shown[name].value() for name in shown.fields}
    data = dict(current)
    if target == "deployment_type":
        choice, other = _choice_input(
            value, Environment.DeploymentType.choices, Environment.DeploymentType.OTHER
        )
        data.update(
            deployment_type=choice, deployment_type_other=other or data.get("deployment_type_other")
        )
    elif target == "hosting_provider":
        choice, other = _choice_input(
            value, Environment.HostingProvider.choices, Environment.HostingProvider.OTHER
        )
        data.update(
            hosting_provider=choice,
            hosting_provider_other=other or data.get("hosting_provider_other"),
        )
    elif target in ("infra_start_date", "infra_completion_date"):
        date = trait_date(value)
        data[target] = date.isoformat() if date else ("" if value is None else str(value))
    elif value is None:
        data[target] = ""
    elif isinstance(value, float) and value.is_integer():
        data[target] = str(int(value))
    else:
        data[target] = str(value)
    # The form's verdict on the record as it is, and with Vitally's value: only what the value
    # adds counts (an old record may fail a rule that came later, on another field).
    as_is = EnvironmentForm(data=current, instance=copy.copy(production), production=True)
    before = _form_errors(as_is)
    after_form = EnvironmentForm(data=data, instance=copy.copy(production), production=True)
    after_form.is_valid()
    added = []
    for name, messages in _form_errors(after_form).items():
        for message in messages:
            if message in before.get(name, ()):
                continue
            if name in (target, f"{target}_other", "__all__"):
                added.append(message)
            else:
                added.append(f"{after_form.fields[name].label}: {message}")
    if added:
        return {}, None, added
    cleaned = getattr(after_form, "cleaned_data", {})
    names = [target] + (
        [f"{target}_other"] if target in ("deployment_type", "hosting_provider") else []
    )
    taken = {name: cleaned.get(name, data[name]) for name in names}
    if target in ("deployment_type", "hosting_provider") and taken[target] != "other":
        taken.pop(f"{target}_other")  # kept as it was: it only describes "Other"
    return taken, None, []


def _validation_messages(error: ValidationError) -> list[str]:
    if hasattr(error, "message_dict"):
        return [m for messages in error.message_dict.values() for m in messages]
    return list(error.messages)


@transaction.atomic
def difference_take(
    *, account: Account, difference_id: int, expected_version: int | None, actor
) -> TraitDifference:
    """Take Vitally's value: an ordinary edit of the production environment through its own
    service (its version checked, its validation, History saying it came from Vitally). The
    push that follows sends the value back to Vitally, which then agrees. Refused, changing
    nothing, when the field is not one editable field, the portal's value changed since the
    read, or the form would refuse Vitally's value (`beside_field`)."""
    _sync, difference = _locked(
        account=account, difference_id=difference_id, expected_version=expected_version
    )
    if difference.field_name not in TAKE_FIELDS:
        raise ResolveRefused(
            NOT_TAKEN_BECAUSE.get(difference.field_name, "This field cannot be taken.")
            + " Only the portal's value can be kept.",
            beside_field=True,
        )
    if not apps.is_installed("deployments"):
        raise ResolveRefused("The deployment record is not installed.", beside_field=True)
    from deployments.models import Environment
    from deployments.services import environment_update
    from handoff.common.services import ConcurrentEditError

    production = (
        Environment.objects.select_for_update(of=("self",))
        .filter(account_id=account.pk, kind=Environment.Kind.PRODUCTION)
        .order_by("pk")
        .first()
    )
    if production is None:
        raise ResolveRefused(
            "This account has no production deployment in the portal: record it first.",
            beside_field=True,
        )
    config = sync_config()
    current = traits_build(portal_values_get(account_id=account.pk), trait_map=config.trait_map)
    now = current.get(difference.trait_key)
    if not values_agree(difference.portal_value, now, field_name=difference.field_name):
        raise ResolveRefused(
            f"The portal's value changed since Vitally was read (it is now {value_text(now)}) "
            "and is sent to Vitally. Nothing was taken.",
            beside_field=True,
        )
    data, rows, problems = _take_input(difference.field_name, difference.vitally_value, production)
    if problems:
        raise ResolveRefused(
            "The form refuses Vitally's value: " + " ".join(problems) + " Nothing was changed.",
            beside_field=True,
        )
    version = production.version
    try:
        updated = environment_update(
            environment=production,
            actor=actor,
            data=data,
            expected_version=version,
            instance_types=rows,
            message=(
                f"Taken from Vitally: {difference.label} was "
                f"{value_text(difference.portal_value)} in the portal and "
                f"{value_text(difference.vitally_value, none='not set')} in Vitally (read "
                f"{_seen(difference)})."
            ),
        )
    except ValidationError as error:
        raise ResolveRefused(
            "The form refuses Vitally's value: "
            + " ".join(_validation_messages(error))
            + " Nothing was changed.",
            beside_field=True,
        ) from error
    except ConcurrentEditError as error:  # the row is locked above: only if that changes
        raise ResolveRefused(str(error)) from error
    if updated.version == version:
        raise ResolveRefused(
            f"Vitally's value ({value_text(difference.vitally_value)}) is what the portal has "
            "already, written another way: nothing to take. Keep the portal's value to send "
            "it to Vitally as the portal writes it.",
            beside_field=True,
        )
    difference.delete()
    differences_recount(account_id=account.pk)
    return difference
