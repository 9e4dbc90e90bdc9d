"""Differences found in Vitally (reconcile.py reads them back; linking.py finds those Vitally
already held when the account was linked): what people see, and what the account's maintainer
does about each field.

- "Differs in Vitally" on the account's Vitally panel and the account page's attention list:
  the field in the handbook's words, the portal's value, Vitally's value, and where it came
  from (`origin_sentence`: changed in Vitally after the portal sent its value, or held in
  Vitally when the account was linked). Both read the differences the account's record loaded
  (`difference_list`), so neither adds a query.
- Keep the portal's value: the key is forgotten from the known state and the account marked
  changed, so the next push sends it (the sweeper guarantees it; the kick is for speed). When
  the portal has no value that push deletes Vitally's, so the button says "Clear Vitally's
  value" and so do the result and History.
- Take Vitally's value: an ordinary edit of the production environment through
  `deployments.services.environment_update` (its version checked, its form's validation,
  History saying where the value came from). Only fields that are one editable portal field
  can be taken; derived values (counts, the phase, the design documents' list) only kept. An
  account without a production deployment gets one first, created as the import does from
  Vitally's deployment type and hosting provider (`production_from_vitally`).
- Take all of Vitally's values (`differences_take_all`): each takeable difference in turn,
  what can be taken is, the rest stays with its reason. The import takes its first values with
  it too.
"""

import copy
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.functions import Now
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from handoff.accounts.models import Account
from handoff.accounts.services import record_change
from handoff.audit.models import AuditEvent
from vitally_sync.conf import SyncConfig, sync_config
from vitally_sync.models import AccountSync, TraitDifference
from vitally_sync.payloads import trait_field_get, trait_fields, traits_build
from vitally_sync.reconcile import trait_date, value_text, values_agree
from vitally_sync.selectors import account_sync_of, portal_values_get, sync_known_traits

logger = logging.getLogger(__name__)


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


# --- where a difference came from, in words (each shown once, from here) ------------------------
def origin_sentence(difference: TraitDifference) -> str:
    """The panel's line under a difference's values."""
    if not difference.from_link:
        return "Someone changed this in Vitally after the portal sent its value."
    if difference.clears_vitally:
        return "Vitally already held this value when the account was linked; the portal has none."
    return (
        "Vitally already held this value when the account was linked; the portal has not sent "
        "its own over it."
    )


def origin_detail(difference: TraitDifference) -> str:
    """The attention item's last part (after both values)."""
    if difference.from_link:
        return "held in Vitally when the account was linked"
    seen = date_format(timezone.localtime(difference.first_seen_at), "j M Y, H:i")
    return f"changed in Vitally, first seen {seen}"


def _vitally_was(difference: TraitDifference) -> str:
    """Vitally's value as History tells it."""
    vitally = value_text(difference.vitally_value, none="not set")
    if difference.from_link:
        held = "the value Vitally held when the account was linked"
        return f"{held} ({vitally}, read {_seen(difference)})"
    return f"Vitally's ({vitally}, read {_seen(difference)})"


def origin_groups(rows: list["DifferenceRow"]) -> list[tuple[str, str]]:
    """My work's words for an account's rows: [(where they came from, the fields' labels)],
    those held in Vitally when the account was linked first."""
    groups = []
    for origin in (TraitDifference.Origin.LINK, TraitDifference.Origin.READ_BACK):
        labels = [row.label for row in rows if row.difference.origin == origin]
        if labels:
            groups.append((str(origin.label), ", ".join(labels)))
    return groups


@dataclass(frozen=True)
class DifferenceRow:
    difference: TraitDifference
    label: str
    takeable: bool
    reason: str  # why only the portal's value can be kept
    error: str = ""  # why the last "Take" was refused (shown next to the field)
    error_action: tuple[str, str] | None = None  # (label, url): what to do about it

    @property
    def anchor(self) -> str:
        return f"vitally-difference-{self.difference.pk}"

    @property
    def origin(self) -> str:
        return origin_sentence(self.difference)


def difference_rows(
    account: Account,
    differences: list[TraitDifference],
    *,
    config: SyncConfig | None = None,
    errors: Mapping[int, "ResolveRefused"] | None = None,
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
            takeable=deployments and d.field_name in TAKE_FIELDS and not _no_choice(d),
            reason=NOT_TAKEN_BECAUSE.get(d.field_name, "")
            if d.field_name not in TAKE_FIELDS
            else ("" if deployments else "The deployment record is not installed.")
            or _no_choice(d),
            error=errors[d.pk].message if d.pk in errors else "",
            error_action=errors[d.pk].action if d.pk in errors else None,
        )
        for d in rows
    ]


def _no_choice(difference: TraitDifference) -> str:
    """Why Vitally's value of a choice field cannot be taken ("Nomad" is no deployment type),
    said before a click (pure: the form's choices), or ""."""
    if difference.field_name not in ("deployment_type", "infrastructure_hosting_provider"):
        return ""
    if difference.vitally_value is None or not apps.is_installed("deployments"):
        return ""
    from deployments.models import Environment

    enum = (
        Environment.DeploymentType
        if difference.field_name == "deployment_type"
        else Environment.HostingProvider
    )
    choice, _other = _choice_input(difference.vitally_value, enum.choices, enum.OTHER)
    if choice in enum.values:
        return ""
    return (
        f"Vitally's value ({value_text(difference.vitally_value)}) is not one of the form's "
        f"choices (“Other: {value_text(difference.vitally_value)}” in Vitally would be)."
    )


# --- resolving ---------------------------------------------------------------------------------
class ResolveRefused(Exception):
    """Nothing was changed. `beside_field`: the message belongs next to the field (a value the
    form refuses), else it is a notice for the panel. `action`: (label, url) of the page where
    the person does what the message asks."""

    def __init__(
        self, message: str, *, beside_field: bool = False, action: tuple[str, str] | None = None
    ):
        super().__init__(message)
        self.message = message
        self.beside_field = beside_field
        self.action = action


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


def _lock_sync(account: Account) -> AccountSync | None:
    return (
        AccountSync.objects.select_for_update(of=("self",))
        .annotate(db_now=Now())
        .filter(pk=account.pk)
        .order_by("pk")
        .first()
    )


def _locked(
    *, account: Account, difference_id: int, expected_version: int | None
) -> tuple[AccountSync | None, TraitDifference]:
    """Lock the account's sync row, then the difference. Keep and Take lock in this order, and
    only these rows (`of=("self",)`, ordered by pk: a model's default ordering by its account
    would join the account row into the lock), so two resolutions of one account wait for
    each other instead of deadlocking (the web scanner once sent Keep and Take at once)."""
    sync = _lock_sync(account)
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
    if difference.clears_vitally:
        message = (
            f"Kept the portal's empty value of {difference.label} over {_vitally_was(difference)}:"
            " Vitally's value is cleared at the next push."
        )
    else:
        message = (
            f"Kept the portal's value of {difference.label} "
            f"({value_text(difference.portal_value)}) over {_vitally_was(difference)}: it is "
            f"sent to Vitally{'' if difference.from_link else ' again'}."
        )
    # Marking the account changed is the durable intent; its signal kicks a push.
    record_change(
        actor=actor,
        account=account,
        obj=difference,
        action=AuditEvent.Kind.ACTION,
        message=message,
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


# --- the production deployment, created from Vitally's values --------------------------------
# What a production deployment cannot be without: taken from Vitally when the portal has none.
PRODUCTION_FROM = (
    ("deployment_type", "deployment_type"),
    ("infrastructure_hosting_provider", "hosting_provider"),
)


def _no_production(account: Account, problems: list[str]) -> ResolveRefused:
    return ResolveRefused(
        "This account has no production deployment in the portal, and Vitally's values cannot "
        f"create it: {'; '.join(problems)}. Record the production deployment (its Deployment "
        "type and Infrastructure Hosting Provider), then take Vitally's values. Nothing was "
        "changed.",
        beside_field=True,
        action=(
            "Record production deployment",
            reverse("deployments:production_edit", args=[account.pk]),
        ),
    )


def written_as(field_name: str, value: Any) -> str:
    """When the portal writes a value taken from Vitally as another of its choices' words
    ("GCP" is the choice "Google Cloud"), say so: the next push sends the portal's words over
    Vitally's, so History tells why Vitally's spelling changed. "" when written the same."""
    if field_name not in ("deployment_type", "infrastructure_hosting_provider"):
        return ""
    from deployments.models import Environment

    enum = (
        Environment.DeploymentType
        if field_name == "deployment_type"
        else Environment.HostingProvider
    )
    choice, other = _choice_input(value, enum.choices, enum.OTHER)
    if choice not in enum.values:
        return ""
    words = f"{enum(choice).label}: {other}" if choice == enum.OTHER else str(enum(choice).label)
    if words.casefold() == str(value).strip().casefold():
        return ""
    return f" (the portal's “{words}”, which goes to Vitally in its place)"


def production_from_vitally(
    *, account: Account, actor, differences: list[TraitDifference]
) -> tuple[Any, list[TraitDifference]]:
    """The production deployment, created (audited, "Taken from Vitally") with the two values it
    cannot be without, from the open differences of `differences` that hold them as the form's
    choices; those differences are resolved by it. Returns (the deployment, the differences
    taken). Raises ResolveRefused, with what to do and where, when Vitally's values cannot
    create it; then nothing is written."""
    from deployments.models import Environment
    from deployments.services import environment_create

    by_field = {d.field_name: d for d in differences}
    data: dict[str, str] = {}
    problems = []
    for field_name, target in PRODUCTION_FROM:
        enum = (
            Environment.DeploymentType
            if target == "deployment_type"
            else Environment.HostingProvider
        )
        trait = trait_field_get(field_name)
        label = trait.label if trait else field_name
        difference = by_field.get(field_name)
        if difference is None or difference.vitally_value is None:
            problems.append(f"Vitally holds no {label}")
            continue
        choice, other = _choice_input(difference.vitally_value, enum.choices, enum.OTHER)
        if choice not in enum.values:
            problems.append(
                f"its {label} ({value_text(difference.vitally_value)}) is not one of the form's "
                "choices"
            )
            continue
        data[target], data[f"{target}_other"] = choice, other
    if problems:
        raise _no_production(account, problems)
    try:
        with transaction.atomic():
            environment = environment_create(
                account=account, actor=actor, kind=Environment.Kind.PRODUCTION, data=data
            )
    except ValidationError as error:
        raise _no_production(
            account, [f"the form refuses them ({' '.join(_validation_messages(error))})"]
        ) from error
    taken = [by_field[field_name] for field_name, _ in PRODUCTION_FROM]
    record_change(
        actor=actor,
        account=account,
        obj=account,
        action=AuditEvent.Kind.ACTION,
        message="Taken from Vitally as the production deployment's first values: "
        + "; ".join(
            f"{d.label} {value_text(d.vitally_value)}{written_as(d.field_name, d.vitally_value)}"
            for d in taken
        )
        + ".",
    )
    TraitDifference.objects.filter(pk__in=[d.pk for d in taken]).delete()
    differences_recount(account_id=account.pk)
    return environment, taken


def _open_differences(account: Account, sync: AccountSync | None) -> list[TraitDifference]:
    """The account's differences that still hold, locked (only these rows, in pk order): as
    `difference_rows` shows them."""
    known = sync_known_traits(sync, account.vitally_account_id) if sync is not None else {}
    rows = (
        TraitDifference.objects.select_for_update(of=("self",))
        .filter(account_id=account.pk)
        .order_by("pk")
    )
    return [d for d in rows if d.trait_key in known and known[d.trait_key] == d.portal_value]


# --- taking ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Taken:
    difference: TraitDifference
    # When the portal had no production deployment: the differences it was created from.
    created_with: tuple[TraitDifference, ...] = ()


@transaction.atomic
def difference_take(
    *, account: Account, difference_id: int, expected_version: int | None, actor
) -> Taken:
    """Take Vitally's value: an ordinary edit of the production environment through its own
    service (its version checked, its validation, History saying it came from Vitally). The
    push that follows sends the value back to Vitally, which then agrees. Without a production
    deployment, one is created first from Vitally's deployment type and hosting provider
    (`production_from_vitally`). Refused, changing nothing, when the field is not one editable
    field, the portal's value changed since the read, the deployment cannot be created, or the
    form would refuse Vitally's value (`beside_field`)."""
    sync, difference = _locked(
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

    config = sync_config()
    current = traits_build(portal_values_get(account_id=account.pk), trait_map=config.trait_map)
    now = current.get(difference.trait_key)
    if not values_agree(difference.portal_value, now, field_name=difference.field_name):
        raise ResolveRefused(
            f"The portal's value changed since Vitally was read (it is now {value_text(now)}) "
            "and is sent to Vitally. Nothing was taken.",
            beside_field=True,
        )
    production = (
        Environment.objects.select_for_update(of=("self",))
        .filter(account_id=account.pk, kind=Environment.Kind.PRODUCTION)
        .order_by("pk")
        .first()
    )
    created: list[TraitDifference] = []
    if production is None:
        production, created = production_from_vitally(
            account=account, actor=actor, differences=_open_differences(account, sync)
        )
        if difference.pk in {d.pk for d in created}:
            return Taken(difference, tuple(created))  # taken by the creation itself
    data, rows, problems = _take_input(difference.field_name, difference.vitally_value, production)
    if problems:
        raise ResolveRefused(
            "The form refuses Vitally's value: " + " ".join(problems) + " Nothing was changed.",
            beside_field=True,
        )
    version = production.version
    if difference.from_link:
        what = (
            f"Vitally held {value_text(difference.vitally_value, none='no value')} when the "
            f"account was linked (read {_seen(difference)})"
        )
    else:
        what = (
            f"{value_text(difference.vitally_value, none='not set')} in Vitally (read "
            f"{_seen(difference)})"
        )
    try:
        updated = environment_update(
            environment=production,
            actor=actor,
            data=data,
            expected_version=version,
            instance_types=rows,
            message=(
                f"Taken from Vitally: {difference.label} was "
                f"{value_text(difference.portal_value)} in the portal"
                f"{'; ' if difference.from_link else ' and '}{what}"
                f"{written_as(difference.field_name, difference.vitally_value)}."
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
    return Taken(difference, tuple(created))


# --- take all of Vitally's values -------------------------------------------------------------
def _reason(message: str) -> str:
    """A refusal as a phrase in a list: "(the form refuses Vitally's value: …)"."""
    for tail in (
        " Nothing was changed.",
        " Nothing was taken.",
        " Only the portal's value can be kept.",
    ):
        message = message.removesuffix(tail)
    message = message.strip().removesuffix(".")
    if message[1:2].islower() and not message.startswith("Vitally"):
        message = message[0].lower() + message[1:]
    return message


@dataclass
class TakeAllReport:
    taken: list[TraitDifference] = field(default_factory=list)
    created_with: list[TraitDifference] = field(default_factory=list)
    left: list[tuple[TraitDifference, ResolveRefused]] = field(default_factory=list)
    # Why nothing could be taken (no production deployment, and Vitally's values cannot
    # create it): said once rather than beside every field.
    blocked: ResolveRefused | None = None
    gone: int = 0  # shown on the page, no longer open (resolved meanwhile, a double click)

    @property
    def refused(self) -> dict[int, ResolveRefused]:
        """The takeable fields that were refused, for the panel to show beside each."""
        return {
            d.pk: refusal
            for d, refusal in self.left
            if refusal.beside_field and d.field_name in TAKE_FIELDS
        }

    def summary(self) -> str:
        parts = []
        n = len(self.taken)
        if n:
            labels = ", ".join(d.label for d in self.taken)
            plural = "s" if n != 1 else ""
            parts.append(f"Took Vitally's value{plural} of {n} field{plural}: {labels}.")
            if self.created_with:
                parts.append(
                    "The production deployment was created with Vitally's "
                    + " and ".join(d.label for d in self.created_with)
                    + "."
                )
            parts.append("History records each.")
        elif self.blocked is not None:
            parts.append(
                f"Nothing was taken. {self.blocked.message.removesuffix(' Nothing was changed.')}"
            )
        else:
            parts.append("Nothing was taken.")
        if self.gone:
            parts.append(
                f"{self.gone} {'was' if self.gone == 1 else 'were'} no longer open: someone "
                "resolved them, or Vitally agrees again."
            )
        if self.left:
            m = len(self.left)
            parts.append(
                f"{m} field{'s' if m != 1 else ''} still differ{'s' if m == 1 else ''}: "
                + "; ".join(f"{d.label} ({_reason(r.message)})" for d, r in self.left)
                + "."
            )
        return " ".join(parts)


STALE_FOR_ALL = "Vitally's value changed since the page was shown: look at it again."
NEEDS_PRODUCTION = "The portal has no production deployment to take it into."


@transaction.atomic
def differences_take_all(
    *, account: Account, actor, expected_versions: Mapping[int, int] | None = None
) -> TakeAllReport:
    """Take every value of Vitally's the portal's record can take, as `difference_take` does
    one (each in a savepoint: a refusal leaves that field a difference and the others go on);
    the production deployment is created first when the portal has none. `expected_versions`
    ({difference id: version}, what the page showed): only those are taken, each only if
    unchanged since; None (the import) takes every open difference. The sync row is locked for
    the whole run, so another resolution or a read waits for it."""
    sync = _lock_sync(account)
    open_rows = _open_differences(account, sync)
    report = TakeAllReport()
    if expected_versions is not None:
        open_rows = [d for d in open_rows if d.pk in expected_versions]
        report.gone = len(expected_versions) - len(open_rows)
    order = {trait.name: n for n, trait in enumerate(trait_fields())}
    open_rows.sort(key=lambda d: (order.get(d.field_name, len(order)), d.pk))
    pending = []
    for d in open_rows:
        if expected_versions is not None and expected_versions[d.pk] != d.version:
            report.left.append((d, ResolveRefused(STALE_FOR_ALL)))
        elif d.field_name not in TAKE_FIELDS or not apps.is_installed("deployments"):
            reason = NOT_TAKEN_BECAUSE.get(d.field_name, "The deployment record is not installed.")
            report.left.append((d, ResolveRefused(reason)))
        else:
            pending.append(d)
    if pending:
        from deployments.models import Environment

        if not Environment.objects.filter(
            account_id=account.pk, kind=Environment.Kind.PRODUCTION
        ).exists():
            try:
                with transaction.atomic():
                    _, created = production_from_vitally(
                        account=account, actor=actor, differences=pending
                    )
            except ResolveRefused as refusal:
                report.blocked = refusal
                report.left += [(d, ResolveRefused(NEEDS_PRODUCTION)) for d in pending]
                pending = []
            else:
                report.taken += created
                report.created_with += created
                pending = [d for d in pending if d not in created]
    # A value the form refuses only beside another (a start date after the portal's completion
    # date, whose Vitally value comes later) is tried again once the others are in.
    refusals: dict[int, ResolveRefused] = {}
    while pending:
        still = []
        for d in pending:
            try:
                with transaction.atomic():
                    difference_take(
                        account=account, difference_id=d.pk, expected_version=d.version, actor=actor
                    )
            except ResolveRefused as refusal:
                refusals[d.pk] = refusal
                still.append(d)
            else:
                report.taken.append(d)
        if len(still) == len(pending):
            break
        pending = still
    for d in pending:
        logger.info("Take all on %s: %s not taken: %s", account, d.label, refusals[d.pk].message)
        report.left.append((d, refusals[d.pk]))
    report.left.sort(key=lambda item: (order.get(item[0].field_name, len(order)), item[0].pk))
    return report
