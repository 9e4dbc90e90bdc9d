"""What is pushed to Vitally: pure functions from portal values to account traits.

No ORM, no settings, no I/O: `selectors.portal_values_get` gathers the values, `traits_build`
turns them into the `traits` object of `PUT /resources/accounts/:id` (vitally-api.md §3-4).
"""

import datetime
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any


class _Absent:
    """A value the portal cannot provide (its app is not installed): the trait is left out of
    the payload, so Vitally keeps whatever it has. Not the same as empty, which sends null."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"

    def __bool__(self) -> bool:
        return False


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class PortalValues:
    """The account's values as the portal shows them (labels, not codes)."""

    # deployments: the production environment and its code hosts (DeploymentSummary)
    technical_design_document_urls: Sequence[str] | None = ABSENT
    prod_infra_start_date: datetime.date | None = ABSENT
    prod_infra_completion_date: datetime.date | None = ABSENT
    sourcegraph_instance_url: str = ABSENT
    deployment_type: str = ABSENT
    infrastructure_hosting_provider: str = ABSENT
    machine_instance_types: str = ABSENT
    total_cpu: int | None = ABSENT
    total_memory_gb: int | None = ABSENT
    total_disk_space_gb: int | None = ABSENT
    code_hosts_in_use: Sequence[str] | None = ABSENT
    number_of_repositories: int | None = ABSENT
    number_of_monorepos: int | None = ABSENT
    largest_repository_mb: int | None = ABSENT
    # the core: the account's handoff phase label
    handoff_status: str = ABSENT
    # logs
    open_issues: int | None = ABSENT
    open_high_risks: int | None = ABSENT


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _lines(value: Any) -> str | None:
    """Technical design documents: one URL per line."""
    items = [str(v).strip() for v in (value or []) if str(v).strip()]
    return "\n".join(items) or None


def _labels(value: Any) -> str | None:
    """Code hosts in use: comma-separated labels."""
    items = [str(v).strip() for v in (value or []) if str(v).strip()]
    return ", ".join(items) or None


def _date(value: Any) -> str | None:
    """Dates as midnight UTC with milliseconds, the format Vitally's own examples use."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        value = value.date()
    if not isinstance(value, datetime.date):
        raise TypeError(f"expected a date, got {value!r}")
    return f"{value.isoformat()}T00:00:00.000Z"


def _number(value: Any) -> int | float | None:
    """A JSON number (never a string); 0 is a value, not empty."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise TypeError(f"expected a number, got {value!r}")
    if isinstance(value, Decimal | float):
        return int(value) if value == int(value) else float(value)
    if isinstance(value, int):
        return value
    raise TypeError(f"expected a number, got {value!r}")


@dataclass(frozen=True)
class TraitField:
    name: str  # the PortalValues field
    label: str  # the handbook's words, shown in the panel and the field check
    default_key: str
    fmt: Callable[[Any], Any]
    vitally_type: str  # the custom-field type the fake seeds (vitally-api.md §4)


TRAIT_FIELDS: tuple[TraitField, ...] = (
    TraitField(
        "technical_design_document_urls",
        "Link to any Technical Design Documents",
        "vitally.custom.technicalDesignDocuments",
        _lines,
        "textarea",
    ),
    TraitField(
        "prod_infra_start_date",
        "Start date of implementation of production infrastructure",
        "vitally.custom.prodInfraStartDate",
        _date,
        "datetime",
    ),
    TraitField(
        "prod_infra_completion_date",
        "Completion date of implementation of production infrastructure",
        "vitally.custom.prodInfraCompletionDate",
        _date,
        "datetime",
    ),
    TraitField(
        "sourcegraph_instance_url",
        "Sourcegraph instance URL",
        "vitally.custom.sourcegraphInstanceUrl",
        _text,
        "string",
    ),
    TraitField(
        "deployment_type", "Deployment type", "vitally.custom.deploymentType", _text, "string"
    ),
    TraitField(
        "infrastructure_hosting_provider",
        "Infrastructure Hosting Provider",
        "vitally.custom.infrastructureHostingProvider",
        _text,
        "string",
    ),
    TraitField(
        "machine_instance_types",
        "Machine Instance Types",
        "vitally.custom.machineInstanceTypes",
        _text,
        "string",
    ),
    TraitField("total_cpu", "Total CPU", "vitally.custom.totalCpu", _number, "number"),
    TraitField(
        "total_memory_gb", "Total Memory (GB)", "vitally.custom.totalMemoryGb", _number, "number"
    ),
    TraitField(
        "total_disk_space_gb",
        "Total Disk Space (GB)",
        "vitally.custom.totalDiskSpaceGb",
        _number,
        "number",
    ),
    TraitField(
        "code_hosts_in_use", "Code Hosts in Use", "vitally.custom.codeHostsInUse", _labels, "string"
    ),
    TraitField(
        "number_of_repositories",
        "Number of Repositories",
        "vitally.custom.numberOfRepositories",
        _number,
        "number",
    ),
    TraitField(
        "number_of_monorepos",
        "Number of Monorepos",
        "vitally.custom.numberOfMonorepos",
        _number,
        "number",
    ),
    TraitField(
        "largest_repository_mb",
        "Largest Repository (MB)",
        "vitally.custom.largestRepositoryMb",
        _number,
        "number",
    ),
    TraitField("handoff_status", "Handoff phase", "vitally.custom.handoffStatus", _text, "string"),
    TraitField("open_issues", "Open issues", "vitally.custom.openIssues", _number, "number"),
    TraitField(
        "open_high_risks",
        "Open high/critical risks",
        "vitally.custom.openHighRisks",
        _number,
        "number",
    ),
)
FIELDS_BY_NAME: dict[str, TraitField] = {f.name: f for f in TRAIT_FIELDS}
# Every portal value has exactly one trait field (checked at import, also under python -O).
if set(FIELDS_BY_NAME) != {f.name for f in fields(PortalValues)}:
    raise RuntimeError("TRAIT_FIELDS and PortalValues name different fields.")

DEFAULT_TRAIT_MAP: dict[str, str] = {f.name: f.default_key for f in TRAIT_FIELDS}
# vitally-api.md §4: no documented naming rule; this is the safe pattern it suggests.
TRAIT_KEY_RE = re.compile(r"^[A-Za-z0-9_.]+$")


def trait_map_resolve(overrides: Mapping[str, Any] | str | None) -> dict[str, str]:
    """The default trait keys with VITALLY_TRAIT_MAP applied (a dict or its JSON text).

    `{"total_cpu": "vitally.custom.cpuCores"}` renames a trait; `{"open_issues": null}` stops
    pushing that field. Unknown portal field names and unsafe keys raise ValueError."""
    if isinstance(overrides, str):
        overrides = json.loads(overrides) if overrides.strip() else {}
    overrides = overrides or {}
    if not isinstance(overrides, Mapping):
        raise ValueError("VITALLY_TRAIT_MAP must be a JSON object of portal field → trait key.")
    unknown = sorted(set(overrides) - set(DEFAULT_TRAIT_MAP))
    if unknown:
        raise ValueError(
            f"VITALLY_TRAIT_MAP names unknown portal fields {unknown}; "
            f"known fields: {sorted(DEFAULT_TRAIT_MAP)}"
        )
    resolved = dict(DEFAULT_TRAIT_MAP)
    for name, key in overrides.items():
        if key is None or key == "":
            resolved.pop(name)
        elif not isinstance(key, str) or not TRAIT_KEY_RE.match(key):
            raise ValueError(f"VITALLY_TRAIT_MAP[{name!r}] = {key!r} is not a safe trait key.")
        else:
            resolved[name] = key
    keys = list(resolved.values())
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise ValueError(f"VITALLY_TRAIT_MAP sends two fields to the same key: {duplicates}")
    return resolved


def traits_build(values: PortalValues, *, trait_map: Mapping[str, str]) -> dict[str, Any]:
    """The traits object, in the table's order. Empty values are null (Vitally deletes the
    trait); values of apps that are not installed are left out."""
    traits: dict[str, Any] = {}
    for field in TRAIT_FIELDS:
        key = trait_map.get(field.name)
        value = getattr(values, field.name)
        if key is None or value is ABSENT:
            continue
        traits[key] = field.fmt(value)
    return traits


def payload_hash(*, vitally_account_id: str, traits: Mapping[str, Any]) -> str:
    """Identifies what a push would send, target included: a changed Vitally id re-sends."""
    blob = json.dumps(
        {"target": vitally_account_id, "traits": traits}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True)
class TraitChange:
    key: str
    label: str
    before: Any
    after: Any
    sent_before: bool  # the key was in the last acknowledged payload
    sent_now: bool = True  # False: no longer mapped, so no longer sent (Vitally keeps it)

    @property
    def changed(self) -> bool:
        return self.sent_now and (not self.sent_before or self.before != self.after)


def traits_diff(
    last: Mapping[str, Any] | None, current: Mapping[str, Any], *, trait_map: Mapping[str, str]
) -> list[TraitChange]:
    """Every trait of the current payload beside what was last acknowledged, in table order;
    then keys that were sent before but are no longer mapped (Vitally keeps them)."""
    last = last or {}
    labels = {key: FIELDS_BY_NAME[name].label for name, key in trait_map.items()}
    rows = [
        TraitChange(key, labels.get(key, key), last.get(key), value, key in last)
        for key, value in current.items()
    ]
    rows += [
        TraitChange(key, labels.get(key, key), value, None, True, sent_now=False)
        for key, value in last.items()
        if key not in current
    ]
    return rows
