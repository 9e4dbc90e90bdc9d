"""Readiness for handoff: every registered rule (handoff/registry.py) over the account's record.

Readiness = the percent of rules met, plus every rule's blockers, each linking to the place
to fix it. Sign-off is refused while blockers remain unless the manager overrides them.
"""

from dataclasses import dataclass

from handoff import registry
from handoff.registry import Blocker, Rule


@dataclass(frozen=True)
class RuleResult:
    rule: Rule
    blockers: tuple[Blocker, ...]
    summary: str = ""  # one line on what is missing; empty when the rule is met

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
    def unmet(self) -> list[RuleResult]:
        return [r for r in self.results if not r.met]

    @property
    def unmet_listed(self) -> list[RuleResult]:
        """The unmet rules each with a line of its own: a rule that waits for another unmet
        rule is said by that rule's line."""
        unmet_keys = {r.rule.key for r in self.unmet}
        return [r for r in self.unmet if r.rule.waits_for not in unmet_keys]

    @property
    def blockers(self) -> list[Blocker]:
        return [b for r in self.results for b in r.blockers]

    @property
    def unmet_text(self) -> str:
        """How much is missing, in the readiness block's unit, the rule ("5 rules not met"):
        every page that counts what stands between an account and its handoff says this (the
        rule's lines name the blockers), so no page counts 15 where the block shows 5 lines."""
        n = len(self.unmet)
        return f"{n} rule{'s' if n != 1 else ''} not met" if n else ""

    @property
    def shortfall_text(self) -> str:
        """The rules not met and the blockers beneath them ("4 rules not met (8 blockers)"):
        the sign-off says both, since an override covers every blocker."""
        n = len(self.blockers)
        return f"{self.unmet_text} ({n} blocker{'s' if n != 1 else ''})" if n else ""

    def before_request(self, account) -> list[RuleResult]:
        """The unmet rules the keeper is asked about before requesting the handoff (and My
        work's next step reads first): all but the assigned technical advisor's
        acknowledgement, which comes after the request."""
        return [r for r in self.unmet_listed if not awaits_request(r, account)]

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
                    "blockers": [
                        {"title": b.title, "detail": b.detail, "url": b.url} for b in r.blockers
                    ],
                }
                for r in self.results
            ],
        }


def awaits_request(result: RuleResult, account) -> bool:
    """A rule cleared by the technical advisor (the acknowledgement) waits for the handoff
    request, once a technical advisor is assigned (assigning one is the keeper's to do)."""
    assigned = account.technical_advisor_id is not None
    return result.rule.cleared_by == "technical_advisor" and assigned


def readiness_evaluate(record) -> Readiness:
    """Every registered rule over `record` (use `record.readiness`: evaluated once)."""
    return Readiness(results=tuple(_result(rule, record) for rule in registry.rules()))


def _result(rule: Rule, record) -> RuleResult:
    blockers = tuple(rule.check(record))
    if not blockers:
        return RuleResult(rule=rule, blockers=blockers)
    summary = rule.summary(record, blockers) if rule.summary is not None else ""
    if not summary:
        summary = blockers[0].title if len(blockers) == 1 else f"{len(blockers)} blockers"
    return RuleResult(rule=rule, blockers=blockers, summary=summary)
