"""Readiness for handoff: a registry of named rules, each listing its blockers.

Any app adds its rules in its AppConfig.ready():

    register_readiness_rule(
        "production_fields", "Required production fields present and valid", check,
        order=100, prefetch=("environments",),
    )

`check(account) -> list[Blocker]`: an empty list means the rule is met. The account it gets
comes from `account_handoff_get`, which applies every registered `prefetch` lookup in one
pass, so rules share the queries and a page's query count stays constant. A rule must not
query per row (use the prefetched relations).

Readiness = the percent of rules met, plus every rule's blockers, each linking to the place
to fix it. Sign-off is refused while blockers remain unless the manager overrides them.
"""

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from django.db.models import Prefetch


@dataclass(frozen=True)
class Blocker:
    title: str  # names what is missing, e.g. "Checklist item open: Indexing"
    detail: str  # one sentence: what to do
    url: str  # where to fix it (a path inside the portal)


@dataclass(frozen=True)
class ReadinessRule:
    key: str
    title: str
    check: Callable[..., list[Blocker]]
    order: int = 100
    prefetch: tuple[str | Prefetch, ...] = ()


@dataclass(frozen=True)
class RuleResult:
    rule: ReadinessRule
    blockers: tuple[Blocker, ...]

    @property
    def met(self) -> bool:
        return not self.blockers


@dataclass(frozen=True)
class Readiness:
    results: tuple[RuleResult, ...]

    @property
    def total(self) -> int:
        return len(self.results)

    @property
    def met(self) -> int:
        return sum(1 for r in self.results if r.met)

    @property
    def percent(self) -> int:
        # Rounded down: 99% must not read as ready.
        return 100 if not self.results else self.met * 100 // self.total

    @property
    def ready(self) -> bool:
        return all(r.met for r in self.results)

    @property
    def blockers(self) -> list[Blocker]:
        return [b for r in self.results for b in r.blockers]

    def as_data(self) -> dict:
        """JSON-safe, for the sign-off snapshot and the Markdown export."""
        return {
            "percent": self.percent,
            "met": self.met,
            "total": self.total,
            "rules": [
                {
                    "key": r.rule.key,
                    "title": r.rule.title,
                    "met": r.met,
                    "blockers": [asdict(b) for b in r.blockers],
                }
                for r in self.results
            ],
        }


_rules: dict[str, ReadinessRule] = {}


def register_readiness_rule(
    key: str,
    title: str,
    fn: Callable[..., list[Blocker]],
    *,
    order: int = 100,
    prefetch: Sequence[str | Prefetch] = (),
) -> None:
    _rules[key] = ReadinessRule(
        key=key, title=title, check=fn, order=order, prefetch=tuple(prefetch)
    )


def unregister_readiness_rule(key: str) -> None:
    _rules.pop(key, None)


def readiness_rules() -> list[ReadinessRule]:
    return sorted(_rules.values(), key=lambda r: (r.order, r.key))


def readiness_evaluate(account) -> Readiness:
    """Evaluate every registered rule. `account` must come from `account_handoff_get`."""
    return Readiness(
        results=tuple(
            RuleResult(rule=rule, blockers=tuple(rule.check(account))) for rule in readiness_rules()
        )
    )
