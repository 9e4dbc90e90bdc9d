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


# One value of each kind every format function meets, so a change of how a value is written
# (a date's format, a list's separator) changes the fingerprint below and every linked account
# is pushed again, without anybody remembering to bump a number.
_FORMAT_SAMPLES: tuple[Any, ...] = (
    None,
    "",
    " Sample text ",
    0,
    12,
    2.5,
    Decimal("3.0"),
    datetime.date(2026, 1, 31),
    ("https://docs.example.com/a", "https://docs.example.com/b"),
)


def _format_sample(fmt: Callable[[Any], Any], value: Any) -> Any:
    try:
        return fmt(value)
    except Exception as refused:  # what a format does with a value it refuses is part of it
        return f"refused {type(refused).__name__}"


def config_fingerprint(trait_map: Mapping[str, str]) -> str:
    """Identifies the trait map and the value formats: what a push is built with."""
    formats = {
        f.name: [_format_sample(f.fmt, sample) for sample in _FORMAT_SAMPLES] for f in TRAIT_FIELDS
    }
    blob = json.dumps(
        {"map": dict(sorted(trait_map.items())), "formats": formats},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def traits_to_send(
    current: Mapping[str, Any], known: Mapping[str, Any], *, full: bool
) -> dict[str, Any]:
    """What a push sends. Vitally merges traits, so only the keys whose value differs from what
    Vitally is known to hold (all of them for a full push); a key it is known to hold that the
    portal no longer maps is sent once as null, which deletes the stale trait."""
    sending = {
        key: value
        for key, value in current.items()
        if full or key not in known or known[key] != value
    }
    sending.update({key: None for key in known if key not in current})
    return sending


def traits_acked(known: Mapping[str, Any], sent: Mapping[str, Any], current_keys) -> dict[str, Any]:
    """What Vitally is known to hold after it acknowledged `sent`: only the keys the portal
    maps (a key sent as null because it left the map is no longer the portal's)."""
    merged = {**known, **sent}
    return {key: value for key, value in merged.items() if key in current_keys}


@dataclass(frozen=True)
class TraitChange:
    key: str
    label: str
    before: Any
    after: Any
    sent_before: bool  # Vitally is known to hold the key (acknowledged)
    sent_now: bool = True  # False: no longer mapped; sent once as null, then no longer sent

    @property
    def changed(self) -> bool:
        """A push would send it (services.traits_to_send decides the same)."""
        return not self.sent_now or not self.sent_before or self.before != self.after


def traits_diff(
    last: Mapping[str, Any] | None, current: Mapping[str, Any], *, trait_map: Mapping[str, str]
) -> list[TraitChange]:
    """Every trait of the current payload beside what Vitally is known to hold, in table order;
    then keys Vitally holds from the portal that are no longer mapped (deleted once)."""
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
