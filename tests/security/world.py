"""The accounts and records the bad-input suite attacks.

- Acme Robotics (implementation): Irene's, with a production environment, a staging
  environment, a code host, a note, an issue, a risk, an opportunity and a started checklist.
- Globex (implementation): another IE's, with rows of its own, whose ids are forged into Acme's
  URLs (IDOR).
- Umbrella (ready for handoff): what a manager signs off. Its TA marked it reviewed before the
  IE recorded the deployment and requested handoff: changes since the TA's last review.
- Initech (handed off): what the IE may no longer edit and a manager may reopen.
"""

from dataclasses import dataclass

from deployments.models import CodeHostConnection, Environment
from deployments.services import DocumentLink, InstanceSpec, code_host_create, environment_create
from handoff.accounts.models import Account
from handoff.closeout import services as closeout
from handoff.closeout.models import ChecklistItem, ChecklistTemplateItem
from handoff.people.models import User
from logs.models import ExpansionOpportunity, Issue, JournalEntry, Risk
from logs.services import issue_create, journal_entry_create, opportunity_create, risk_create
from tests.closeout.conftest import ready_account
from tests.conftest import HANDBOOK_ITEMS
from tests.factories import AccountFactory, UserFactory


@dataclass
class World:
    ie: User
    ta: User
    manager: User
    other_ie: User
    acme: Account
    globex: Account
    umbrella: Account
    initech: Account
    production: Environment
    staging: Environment
    code_host: CodeHostConnection
    entry: JournalEntry
    issue: Issue
    risk: Risk
    opportunity: ExpansionOpportunity
    item: ChecklistItem
    # Globex's rows, for forging ids into Acme's URLs.
    their_environment: Environment
    their_code_host: CodeHostConnection
    their_entry: JournalEntry
    their_issue: Issue
    their_risk: Risk
    their_opportunity: ExpansionOpportunity
    their_item: ChecklistItem

    def user(self, key: str) -> User:
        return getattr(self, key)


def _records(account: Account, actor: User, *, production: bool) -> dict:
    environment = environment_create(
        account=account,
        actor=actor,
        kind=Environment.Kind.PRODUCTION if production else Environment.Kind.STAGING,
        data={
            "deployment_type": Environment.DeploymentType.KUBERNETES_HELM,
            "hosting_provider": Environment.HostingProvider.AWS,
            "sourcegraph_instance_url": "https://sourcegraph.example.com",
            "infra_start_date": "2026-01-05",
            "total_cpu": 48,
        },
        design_documents=[DocumentLink("Technical design", "https://docs.example.com/tdd")],
        instance_types=[InstanceSpec(3, "m6a.4xlarge")],
    )
    code_host = code_host_create(
        account=account,
        actor=actor,
        data={"kind": CodeHostConnection.Kind.GITHUB_COM, "repository_count": 100},
    )
    entry = journal_entry_create(account=account, author=actor, title="Kickoff", body="Agreed.")
    issue = issue_create(account=account, actor=actor, title="Slow search", owner=actor)
    risk = risk_create(
        account=account,
        actor=actor,
        title="Token expiry",
        description="Because tokens expire, sync may stop.",
        likelihood=3,
        impact=4,
        owner=actor,
    )
    opportunity = opportunity_create(account=account, actor=actor, title="EU team", owner=actor)
    items = closeout.checklist_start(account=account, actor=actor)
    return {
        "environment": environment,
        "code_host": code_host,
        "entry": entry,
        "issue": issue,
        "risk": risk,
        "opportunity": opportunity,
        "item": items[0],
    }


def people_build() -> dict[str, User]:
    """What tests/conftest.py's ie, ta, manager, admin_user and template fixtures make, for a
    module-scoped fixture, which cannot use them (conftest.py). Those fixtures, asked for in a
    test here, find these people by their usernames (UserFactory gets or creates)."""
    return {
        "ie": UserFactory(username="irene", role=User.Role.IMPLEMENTATION_ENGINEER),
        "ta": UserFactory(username="tomas", role=User.Role.TECHNICAL_ADVISOR),
        "manager": UserFactory(username="maya", role=User.Role.MANAGER),
        "admin_user": admin_and_template_build(),
    }


def admin_and_template_build() -> User:
    """tests/conftest.py's admin_user and template fixtures: the superuser, and the handbook's
    checklist template restored through the service when a transactional test flushed it."""
    admin_user = UserFactory(username="root", role="", is_staff=True, is_superuser=True)
    if not ChecklistTemplateItem.objects.filter(is_active=True).exists():
        for index, (title, guidance) in enumerate(HANDBOOK_ITEMS, start=1):
            closeout.checklist_template_item_create(
                actor=admin_user, title=title, guidance=guidance, position=index * 10
            )
    return admin_user


def _mirror() -> None:
    """Two Vitally accounts not yet in the portal: the import page serves its form (no admins
    named, so an import asks Vitally nothing)."""
    from django.utils import timezone

    from vitally_sync.models import VitallyAccount

    now = timezone.now()
    for vitally_id, name in (("v-hooli", "Hooli"), ("v-pied-piper", "Pied Piper")):
        VitallyAccount.objects.create(
            vitally_id=vitally_id,
            external_id=vitally_id.removeprefix("v-"),
            name=name,
            traits={"vitally.custom.totalCpu": 16},
            vitally_updated_at=now,
            last_seen_at=now,
        )


def world_build(*, ie: User, ta: User, manager: User) -> World:
    other_ie = UserFactory(username="olga", role=User.Role.IMPLEMENTATION_ENGINEER)
    people = {"implementation_engineer": ie, "technical_advisor": ta, "manager": manager}
    acme = AccountFactory(name="Acme Robotics", **people)
    globex = AccountFactory(name="Globex", implementation_engineer=other_ie, manager=manager)
    umbrella = AccountFactory(name="Umbrella", **people)
    initech = AccountFactory(name="Initech", **people)
    ours = _records(acme, ie, production=True)
    staging = environment_create(
        account=acme, actor=ie, kind=Environment.Kind.STAGING, data={"name": "EU staging"}
    )
    theirs = _records(globex, other_ie, production=False)
    closeout.handoff_mark_reviewed(account=umbrella, actor=ta)
    ready_account(umbrella, ie=ie, ta=ta)
    ready_account(initech, ie=ie, ta=ta)
    closeout.closeout_sign_off(account=initech, actor=manager)
    _mirror()
    return World(
        ie=ie,
        ta=ta,
        manager=manager,
        other_ie=other_ie,
        acme=Account.objects.get(pk=acme.pk),
        globex=globex,
        umbrella=Account.objects.get(pk=umbrella.pk),
        initech=Account.objects.get(pk=initech.pk),
        production=ours["environment"],
        staging=staging,
        code_host=ours["code_host"],
        entry=ours["entry"],
        issue=ours["issue"],
        risk=ours["risk"],
        opportunity=ours["opportunity"],
        item=ours["item"],
        their_environment=theirs["environment"],
        their_code_host=theirs["code_host"],
        their_entry=theirs["entry"],
        their_issue=theirs["issue"],
        their_risk=theirs["risk"],
        their_opportunity=theirs["opportunity"],
        their_item=theirs["item"],
    )
