"""What is pushed to Vitally: pure functions from portal values to account traits.

No ORM, no settings, no I/O: `selectors.portal_values_get` gathers the values, `traits_build`
turns them into the `traits` object of `PUT /resources/accounts/:id` (vitally-api.md §3-4). The
traits themselves are declared by the contributions that give their values (handoff/registry.py).
"""

import datetime
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from handoff import registry

# The account's values as the portal shows them (labels, not codes), by trait name: what each
# contribution's `vitally_values` gave (handoff/registry.py). A name missing (its app is not
# installed) leaves the trait out of the payload, so Vitally keeps whatever it has; an empty
# value sends null.
PortalValues = Mapping[str, Any]


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


FORMATS: dict[str, Callable[[Any], Any]] = {
    "text": _text,
    "lines": _lines,
    "labels": _labels,
    "date": _date,
    "number": _number,
}


@dataclass(frozen=True)
class TraitField:
    name: str  # the name of the value in PortalValues
    label: str  # the handbook's words, shown in the panel and the field check
    default_key: str
    fmt: Callable[[Any], Any]
    vitally_type: str  # the custom-field type the fake seeds (vitally-api.md §4)


def _field(trait: registry.Trait) -> TraitField:
    return TraitField(
        trait.name, trait.label, trait.default_key, FORMATS[trait.format], trait.vitally_type
    )


def trait_fields() -> tuple[TraitField, ...]:
    """Every trait the contributions declare (handoff/registry.py `Trait`), in their order."""
    return tuple(_field(t) for t in registry.traits())


def trait_field_get(name: str) -> TraitField | None:
    trait = next((t for t in registry.traits() if t.name == name), None)
    return None if trait is None else _field(trait)


def default_trait_map() -> dict[str, str]:
    return {f.name: f.default_key for f in trait_fields()}


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
    defaults = default_trait_map()
    unknown = sorted(set(overrides) - set(defaults))
    if unknown:
        raise ValueError(
            f"VITALLY_TRAIT_MAP names unknown portal fields {unknown}; "
            f"known fields: {sorted(defaults)}"
        )
    resolved = dict(defaults)
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
    for field in trait_fields():
        key = trait_map.get(field.name)
        if key is None or field.name not in values:
            continue
        traits[key] = field.fmt(values[field.name])
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
        f.name: [_format_sample(f.fmt, sample) for sample in _FORMAT_SAMPLES]
        for f in trait_fields()
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
    by_name = {f.name: f.label for f in trait_fields()}
    labels = {key: by_name[name] for name, key in trait_map.items() if name in by_name}
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
