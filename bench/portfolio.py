"""A large generated portfolio for the load benchmark (issue 7).

Per account: a production deployment (2 design documents, 2 instance type rows), 3 code hosts,
40 implementation notes, 20 issues, 20 risks and 5 expansion opportunities.

It writes with bulk_create ON PURPOSE, bypassing the services: 500 accounts are ~55,000 rows, and
going through the services (audit events, change versions, full_clean, one transaction each)
would take minutes and fill the audit trail with noise. The rows are valid domain data (choices,
constraints, per-account numbers with their LogSequence rows), but they have no History and no
Vitally intent: that is fine for measuring reads, and the edits the benchmark makes go through the
real forms and services.
"""

import datetime
import random

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from deployments.models import CodeHostConnection, DesignDocument, Environment, InstanceTypeRow
from handoff.accounts.models import Account
from handoff.people.models import User
from logs.models import ExpansionOpportunity, Issue, JournalEntry, LogSequence, Risk

PASSWORD = "bench-password"  # noqa: S105  (throwaway benchmark users)
PER_ACCOUNT = {"journal": 40, "issues": 20, "risks": 20, "opportunities": 5, "code_hosts": 3}
_BATCH = 2000
_LOG_MODELS = {
    "journal": JournalEntry,
    "issues": Issue,
    "risks": Risk,
    "opportunities": ExpansionOpportunity,
}


def users_create() -> dict[str, list[User]]:
    """A manager (the load test's user), 10 IEs and 10 TAs, all with PASSWORD."""
    password = make_password(PASSWORD)
    users = {"manager": [], "ie": [], "ta": []}
    rows = [User(username="bench", role=User.Role.MANAGER, password=password)]
    rows += [
        User(username=f"ie{n}", role=User.Role.IMPLEMENTATION_ENGINEER, password=password)
        for n in range(10)
    ]
    rows += [
        User(username=f"ta{n}", role=User.Role.TECHNICAL_ADVISOR, password=password)
        for n in range(10)
    ]
    for user in User.objects.bulk_create(rows):
        users[user.role].append(user)
    return users


def _rows_for(account: Account, users, rng: random.Random, scale: int) -> dict[str, list]:
    """The log rows of one account; `scale` multiplies the per-account counts."""
    ie = account.implementation_engineer
    people = [ie, account.technical_advisor, account.manager]
    today = timezone.localdate()
    rows: dict[str, list] = {k: [] for k in ("journal", "issues", "risks", "opportunities")}
    for n in range(PER_ACCOUNT["journal"] * scale):
        rows["journal"].append(
            JournalEntry(
                account=account,
                title=f"Note {n}: rollout step",
                category=rng.choice(JournalEntry.Category.values),
                kind=rng.choice(JournalEntry.Kind.values),
                body=f"Checked the **{rng.choice(['frontend', 'gitserver', 'zoekt'])}** pods.\n\n"
                "- upper limit discussed\n- `kubectl get pods`",
                author=ie,
            )
        )
    for n in range(PER_ACCOUNT["issues"] * scale):
        status = rng.choice(Issue.Status.values)
        done = status in Issue.DONE_STATUSES
        rows["issues"].append(
            Issue(
                account=account,
                number=n + 1,
                title=f"Issue {n + 1}: repositories not indexed",
                description="Zoekt shards missing for some repositories.",
                severity=rng.choice(Issue.Severity.values),
                status=status,
                owner=rng.choice(people),
                raised_by=ie,
                target_date=today + datetime.timedelta(days=rng.randint(-20, 40)),
                resolution="Restarted the indexer." if done else "",
                resolved_on=today if done else None,
            )
        )
    for n in range(PER_ACCOUNT["risks"] * scale):
        rows["risks"].append(
            Risk(
                account=account,
                number=n + 1,
                title=f"Risk {n + 1}: monorepo growth",
                description="Because the monorepo grows, gitserver may run out of disk.",
                category=rng.choice(Risk.Category.values),
                likelihood=rng.randint(1, 5),
                impact=rng.randint(1, 5),
                owner=rng.choice(people),
                status=rng.choice([Risk.Status.OPEN, Risk.Status.MONITORING, Risk.Status.CLOSED]),
                next_review_date=today + datetime.timedelta(days=rng.randint(-10, 30)),
                raised_by=ie,
            )
        )
    for n in range(PER_ACCOUNT["opportunities"] * scale):
        rows["opportunities"].append(
            ExpansionOpportunity(
                account=account,
                title=f"Opportunity {n + 1}: another business unit",
                opportunity_type=rng.choice(ExpansionOpportunity.Type.values),
                estimated_additional_users=rng.randint(10, 2000),
                owner=rng.choice(people),
                stage=ExpansionOpportunity.Stage.IDENTIFIED,
                identified_by=ie,
            )
        )
    return rows


def _save(rows: dict[str, list], models: dict) -> None:
    for key, model in models.items():
        model.objects.bulk_create(rows[key], batch_size=_BATCH)


@transaction.atomic
def portfolio_generate(
    *, users, count: int, start: int = 0, vitally_prefix: str = "", seed: int = 7
) -> list[Account]:
    """`count` accounts named "Bench NNNNN" from number `start`; linked to Vitally as
    f"{vitally_prefix}{n}" when a prefix is given."""
    rng = random.Random(seed + start)
    accounts = Account.objects.bulk_create(
        [
            Account(
                name=f"Bench {n:05d}",
                vitally_account_id=f"{vitally_prefix}{n}" if vitally_prefix else "",
                implementation_engineer=users["ie"][n % len(users["ie"])],
                technical_advisor=users["ta"][n % len(users["ta"])],
                manager=users["manager"][0],
                phase=rng.choice(Account.Phase.values),
                planned_completion_date=timezone.localdate() + datetime.timedelta(days=n % 90),
            )
            for n in range(start, start + count)
        ],
        batch_size=_BATCH,
    )
    environments = Environment.objects.bulk_create(
        [
            Environment(
                account=a,
                kind=Environment.Kind.PRODUCTION,
                infra_start_date=datetime.date(2026, 1, 5),
                sourcegraph_instance_url=f"https://sourcegraph.bench-{a.pk}.example.com",
                deployment_type=Environment.DeploymentType.KUBERNETES_HELM,
                hosting_provider=Environment.HostingProvider.AWS,
                total_cpu=64,
                total_memory_gb=256,
                total_disk_space_gb=2000,
                max_users=rng.randint(100, 8000),
            )
            for a in accounts
        ],
        batch_size=_BATCH,
    )
    docs, instance_rows, hosts = [], [], []
    for env in environments:
        docs += [
            DesignDocument(environment=env, position=p, title=f"Design {p}", url=f"https://d.example.com/{env.pk}/{p}")
            for p in range(2)
        ]  # fmt: skip
        instance_rows += [
            InstanceTypeRow(environment=env, position=0, count=3, instance_type="m6a.4xlarge"),
            InstanceTypeRow(environment=env, position=1, count=1, instance_type="m6a.2xlarge"),
        ]
    kinds = CodeHostConnection.Kind.values
    for a in accounts:
        hosts += [
            CodeHostConnection(
                account=a,
                position=p,
                kind=kinds[(a.pk + p) % 8],
                display_name=f"Code host {p}",
                url=f"https://git{p}.bench-{a.pk}.example.com",
                repository_count=rng.randint(10, 20000),
                monorepo_count=rng.randint(0, 3),
                largest_repository_mb=rng.randint(10, 9000),
            )
            for p in range(PER_ACCOUNT["code_hosts"])
        ]
    DesignDocument.objects.bulk_create(docs, batch_size=_BATCH)
    InstanceTypeRow.objects.bulk_create(instance_rows, batch_size=_BATCH)
    CodeHostConnection.objects.bulk_create(hosts, batch_size=_BATCH)
    models = _LOG_MODELS
    pending: dict[str, list] = {k: [] for k in models}
    sequences = []
    for a in accounts:
        for key, rows in _rows_for(a, users, rng, 1).items():
            pending[key] += rows
        sequences += [
            LogSequence(account=a, log=LogSequence.Log.ISSUE, last_number=PER_ACCOUNT["issues"]),
            LogSequence(account=a, log=LogSequence.Log.RISK, last_number=PER_ACCOUNT["risks"]),
        ]
        if len(pending["journal"]) >= 20_000:
            _save(pending, models)
            pending = {k: [] for k in models}
    _save(pending, models)
    LogSequence.objects.bulk_create(sequences, batch_size=_BATCH)
    return accounts


@transaction.atomic
def account_grow(*, account: Account, users, times: int) -> None:
    """Give one account `times` × its rows in total (the 10× query-count check): more log rows
    and code hosts, numbered after the existing ones."""
    rng = random.Random(account.pk)
    extra = times - 1
    rows = _rows_for(account, users, rng, extra)
    for key in ("issues", "risks"):
        for n, row in enumerate(rows[key]):
            row.number = PER_ACCOUNT[key] + n + 1
    _save(rows, _LOG_MODELS)
    for log in (LogSequence.Log.ISSUE, LogSequence.Log.RISK):
        key = "issues" if log == LogSequence.Log.ISSUE else "risks"
        LogSequence.objects.filter(account=account, log=log).update(
            last_number=PER_ACCOUNT[key] * times
        )
    CodeHostConnection.objects.bulk_create(
        CodeHostConnection(
            account=account,
            position=PER_ACCOUNT["code_hosts"] + p,
            kind=CodeHostConnection.Kind.values[p % 8],
            url=f"https://more{p}.example.com",
            repository_count=100,
        )
        for p in range(PER_ACCOUNT["code_hosts"] * extra)
    )
