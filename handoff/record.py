"""An account's record, loaded once: the account and its people, the closeout, checklist and
sign-offs, and one slice per contribution (handoff/registry.py). The account page,
readiness, attention, the snapshot, the Markdown export and the Vitally payload read it.

What is computed from the record is computed here or in the contributions, in Python over
these rows: the record never reads Django's prefetch caches, and nothing is stashed on a model.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any

from django.db.models import ForeignKey, Model, QuerySet

from handoff import registry
from handoff.accounts.models import Account
from handoff.closeout.models import ChecklistItem, Closeout, SignOff
from handoff.people.selectors import people_attach


@dataclass(eq=False)
class AccountRecord:
    account: Account
    closeout: Closeout | None
    checklist: list[ChecklistItem]
    sign_offs: list[SignOff]  # newest first, without the snapshot JSON
    slices: dict[str, Any] = field(default_factory=dict)  # contribution key -> its slice
    for_snapshot: bool = False

    @property
    def latest_sign_off(self) -> SignOff | None:
        return self.sign_offs[0] if self.sign_offs else None

    @property
    def acknowledged(self) -> bool:
        """The current technical advisor has acknowledged the account."""
        return self.closeout is not None and self.closeout.acknowledged_by_current_ta(self.account)

    @cached_property
    def readiness(self):
        from handoff.closeout.readiness import readiness_evaluate

        return readiness_evaluate(self)


def closeout_of(account: Account) -> Closeout | None:
    """The account's closeout row, joined by its query; None before handoff is requested."""
    try:
        return account.closeout
    except Closeout.DoesNotExist:
        return None


def account_record_get(account_id: int, *, for_snapshot: bool = False) -> AccountRecord:
    """The whole record of one account. `for_snapshot`: also what only the signed snapshot and
    the Markdown export show (every implementation note). Raises Account.DoesNotExist."""
    account = registry.columns_prepare(Account.objects.select_related("closeout")).get(
        pk=account_id
    )
    record = AccountRecord(
        account=account,
        closeout=closeout_of(account),
        checklist=list(
            ChecklistItem.objects.filter(account_id=account_id).order_by("position", "pk")
        ),
        # The snapshot JSON is large and only the sign-off page reads it.
        sign_offs=list(
            SignOff.objects.filter(account_id=account_id)
            .defer("snapshot")
            .order_by("-signed_at", "-pk")
        ),
        for_snapshot=for_snapshot,
    )
    rows: list = [
        account,
        *([record.closeout] if record.closeout else []),
        *record.checklist,
        *record.sign_offs,
    ]
    for contribution in registry.contributions():
        if contribution.load is not None:
            loaded = contribution.load(account, for_snapshot=for_snapshot)
            record.slices[contribution.key] = loaded
            if contribution.rows is not None:
                rows.extend(contribution.rows(loaded))
    _relations_attach(rows)
    return record


def account_records_list(accounts: QuerySet[Account]) -> list[AccountRecord]:
    """The records of many accounts (My work), as the pages load them, in the queryset's
    order: the same queries as one record (13, 11 when none has an environment) whatever the
    number of accounts, each slice loaded for all of them at once (`Contribution.load_many`).
    One query when `accounts` is empty."""
    loaded = list(registry.columns_prepare(accounts.select_related("closeout")))
    if not loaded:
        return []
    ids = [account.pk for account in loaded]
    checklists: dict[int, list[ChecklistItem]] = defaultdict(list)
    for item in ChecklistItem.objects.filter(account_id__in=ids).order_by("position", "pk"):
        checklists[item.account_id].append(item)
    sign_offs: dict[int, list[SignOff]] = defaultdict(list)
    for sign_off in (
        SignOff.objects.filter(account_id__in=ids).defer("snapshot").order_by("-signed_at", "-pk")
    ):
        sign_offs[sign_off.account_id].append(sign_off)
    records = []
    rows: list = []
    for account in loaded:
        record = AccountRecord(
            account=account,
            closeout=closeout_of(account),
            checklist=checklists[account.pk],
            sign_offs=sign_offs[account.pk],
        )
        records.append(record)
        rows += [
            account,
            *([record.closeout] if record.closeout else []),
            *record.checklist,
            *record.sign_offs,
        ]
    for contribution in registry.contributions():
        if contribution.load is None:
            continue
        if contribution.load_many is None:
            raise TypeError(f"The {contribution.key!r} contribution has no load_many.")
        slices = contribution.load_many(loaded)
        for record in records:
            record.slices[contribution.key] = slices[record.account.pk]
            if contribution.rows is not None:
                rows.extend(contribution.rows(record.slices[contribution.key]))
    _relations_attach(rows)
    return records


def _relations_attach(rows: list[Model]) -> None:
    """Set the foreign keys of every loaded row from what is loaded, instead of joining in each
    query: the people from one query for all rows, and links between loaded rows (a risk's
    issue, a row's account) from the rows themselves. The joins had cost more than the rows."""
    people_attach(rows)
    by_model: dict[type[Model] | str, dict[int, Model]] = defaultdict(dict)
    for row in rows:
        by_model[type(row)][row.pk] = row
    for model, loaded in by_model.items():
        for relation in _relation_fields(model):
            targets = by_model.get(relation.related_model)
            if not targets:
                continue
            for row in loaded.values():
                target_id = getattr(row, relation.attname)
                if target_id is not None and not relation.is_cached(row):
                    target = targets.get(target_id)
                    if target is not None:
                        setattr(row, relation.name, target)


@cache
def _relation_fields(model: type[Model]) -> tuple[ForeignKey, ...]:
    # By primary key only: loaded rows are found by their id.
    return tuple(
        f
        for f in model._meta.concrete_fields
        if isinstance(f, ForeignKey) and f.target_field.primary_key
    )
