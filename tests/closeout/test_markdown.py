"""The Markdown export against golden files (fixed names, ids and clock). After a deliberate
change, rewrite them with UPDATE_GOLDEN=1 and read the diff before committing."""

import dataclasses
import datetime
import os
from pathlib import Path
from unittest import mock

import pytest
from django.urls import reverse

from deployments.models import Environment
from deployments.services import DocumentLink, InstanceSpec, code_host_create, environment_create
from handoff import registry
from handoff.closeout import services
from handoff.closeout.markdown import handoff_markdown_text, markdown_to_html, section_markdown
from handoff.closeout.models import ChecklistItem
from handoff.common.services import ANY_VERSION
from handoff.people.models import User
from handoff.record import account_record_get
from handoff.registry import Part
from logs.models import Issue, JournalEntry, Risk
from logs.services import (
    issue_create,
    issue_status_change,
    journal_entry_create,
    opportunity_create,
    opportunity_stage_change,
    risk_create,
    risk_status_change,
)
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db
GOLDEN = Path(__file__).parent / "golden"
START = datetime.datetime(2027, 2, 1, 9, 0, tzinfo=datetime.UTC)


class Clock:
    """timezone.now() for the services: one minute later at every call, from START."""

    def __init__(self):
        self.now = START

    def __call__(self):
        self.now += datetime.timedelta(minutes=1)
        return self.now


def assert_golden(name: str, text: str) -> None:
    assert text.startswith("# ")
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"{name} differs; UPDATE_GOLDEN=1 rewrites it"


def record_cobalt(account, *, ie, ta, clock):
    """Cobalt Health's deployment record and logs, through the services, on the fixed clock.
    Some text carries Markdown and HTML that the export must show as typed, not run."""
    environment_create(
        account=account,
        actor=ie,
        kind=Environment.Kind.PRODUCTION,
        data={
            "deployment_type": Environment.DeploymentType.KUBERNETES_HELM,
            "hosting_provider": Environment.HostingProvider.GCP,
            "infra_start_date": datetime.date(2026, 11, 23),
            "infra_completion_date": datetime.date(2027, 1, 20),
            "sourcegraph_instance_url": "https://sourcegraph.cobalt-health.example",
            "sourcegraph_version": "6.1.1295",
            "total_cpu": 64,
            "total_memory_gb": 256,
            "total_disk_space_gb": 2000,
            "external_postgres": True,
            "executors_enabled": True,
            "special_details": "Cloud SQL for PostgreSQL 16 | separate codeintel-db.",
            "max_users": 2500,
            "max_concurrent_users": 500,
            "max_repositories": 20000,
        },
        design_documents=[
            DocumentLink("Technical design", "https://docs.example.com/cobalt/tdd"),
            DocumentLink("Upgrade runbook", "https://docs.example.com/cobalt/upgrade"),
        ],
        instance_types=[InstanceSpec(4, "n2-standard-16")],
    )
    environment_create(
        account=account,
        actor=ie,
        kind=Environment.Kind.STAGING,
        data={
            "deployment_type": Environment.DeploymentType.KUBERNETES_HELM,
            "hosting_provider": Environment.HostingProvider.GCP,
            "sourcegraph_instance_url": "https://sourcegraph-staging.cobalt-health.example",
            "total_cpu": 16,
            "total_memory_gb": 64,
        },
        instance_types=[InstanceSpec(1, "n2-standard-16")],
    )
    for kind, name, url, repositories, monorepos, largest in [
        (
            "github_com",
            "github.com/cobalt-health",
            "https://github.com/cobalt-health",
            820,
            0,
            1100,
        ),
        ("gitlab_com", "gitlab.com/cobalt-data", "https://gitlab.com/cobalt-data", 140, 1, 2600),
    ]:
        code_host_create(
            account=account,
            actor=ie,
            data={
                "kind": kind,
                "display_name": name,
                "url": url,
                "repository_count": repositories,
                "monorepo_count": monorepos,
                "largest_repository_mb": largest,
            },
        )
    journal_entry_create(
        account=account,
        author=ie,
        title="Upper limits agreed at kickoff",
        category=JournalEntry.Category.UPPER_LIMITS,
        body="Sized for **2,500 users**, 500 concurrent.\n\n- Largest repo: `cobalt/ehr`\n"
        "- No growth planned",
    )
    journal_entry_create(
        account=account,
        author=ie,
        title="Cloud SQL <for> [PostgreSQL]",
        category=JournalEntry.Category.SPECIAL_DEPLOYMENT,
        kind=JournalEntry.Kind.WARNING,
        body="See [the runbook](javascript:alert(1)) <script>alert(1)</script> | # not a heading",
        reference_url="https://docs.example.com/cobalt/cloud-sql",
    )
    siem = issue_create(
        account=account,
        actor=ie,
        title="Audit log export to the SIEM",
        owner=ie,
        severity=Issue.Severity.MEDIUM,
        description="The audit log must reach their SIEM before go-live.",
        target_date=datetime.date(2027, 2, 10),
        external_ticket_url="https://cobalt.atlassian.example/browse/OPS-12",
    )
    azure = issue_create(
        account=account,
        actor=ie,
        title="Code host connection times out",
        owner=ie,
        severity=Issue.Severity.HIGH,
    )
    issue_status_change(
        issue=azure, actor=ie, status="resolved", resolution="Allow-listed the NAT IPs."
    )
    for issue in (siem, azure):  # raised_at's default is not the patched clock
        Issue.objects.filter(pk=issue.pk).update(raised_at=clock())
    risk_create(
        account=account,
        actor=ie,
        title="PHI committed to a repository gets indexed",
        description="Because test data gets committed, PHI may become searchable.",
        likelihood=3,
        impact=5,
        owner=ta,
        category=Risk.Category.SECURITY,
        trigger="A secret-scanning hit on patient data.",
        response_plan="Exclude the fixtures repos; agree an incident runbook.",
        next_review_date=datetime.date(2027, 2, 15),
    )
    quota = risk_create(
        account=account,
        actor=ie,
        title="Node pool quota",
        description="Scaling may fail.",
        likelihood=2,
        impact=2,
        owner=ie,
        response_strategy=Risk.Strategy.ACCEPT,
    )
    risk_status_change(risk=quota, actor=ie, status="closed")
    for title, kind, stages, users in [
        ("Data science team", "user", ["transitioned"], 120),
        ("Batch Changes for the Python 3.12 migration", "feature", ["transitioned"], None),
    ]:
        opportunity = opportunity_create(
            account=account,
            actor=ie,
            title=title,
            owner=ta,
            opportunity_type=kind,
            signal="Asked twice in the weekly sync.",
            estimated_additional_users=users,
        )
        for stage in stages:
            opportunity_stage_change(opportunity=opportunity, actor=ta, stage=stage)


@pytest.fixture
def story(template, settings):
    """Cobalt Health, handed off with one blocker overridden, on a fixed clock."""
    settings.PORTAL_BASE_URL = "https://handoff.example.com"
    ie = UserFactory(
        username="irene",
        first_name="Irene",
        last_name="Ekwueme",
        role=User.Role.IMPLEMENTATION_ENGINEER,
    )
    ta = UserFactory(
        username="tomas", first_name="Tomas", last_name="Alvarez", role=User.Role.TECHNICAL_ADVISOR
    )
    manager = UserFactory(
        username="maya", first_name="Maya", last_name="Nakamura", role=User.Role.MANAGER
    )
    account = AccountFactory(
        pk=9001,
        name="Cobalt Health",
        vitally_account_id="cobalt-health",
        crm_url="https://crm.example.com/cobalt",
        implementation_engineer=ie,
        technical_advisor=ta,
        manager=manager,
        planned_completion_date=datetime.date(2027, 3, 1),
    )
    clock = Clock()
    with mock.patch("django.utils.timezone.now", clock):
        record_cobalt(account, ie=ie, ta=ta, clock=clock)
        services.checklist_start(account=account, actor=ie)
        for item in ChecklistItem.objects.filter(account=account).order_by("position"):
            if item.title == "Production on a current version":
                continue
            if item.title == "Admin accounts provisioned and admins trained":
                data = {
                    "status": "not_applicable",
                    "not_applicable_reason": "Admins come from SAML groups "
                    "| trained by the customer.",
                }
            else:
                data = {
                    "status": "done",
                    "evidence_url": f"https://docs.example.com/cobalt/{item.position}",
                    "evidence_note": "Checked with the customer's admin."
                    if item.position == 1
                    else "",
                }
            services.checklist_item_update(
                item=item, actor=ie, data=data, expected_version=ANY_VERSION
            )
        services.handoff_acknowledge(account=account, actor=ta)
        services.handoff_request(account=account, actor=ie)
        sign_off = services.closeout_sign_off(
            account=account,
            actor=manager,
            override_reason="Upgrade to 6.x is booked for 2027-02-15 with the TA.",
        )
        yield {"account": account, "sign_off": sign_off, "clock": clock, "users": (ie, ta, manager)}


def test_handoff_markdown_matches_the_golden_file(story):
    record = account_record_get(9001, for_snapshot=True)
    exported = datetime.datetime(2027, 2, 2, 8, 30, tzinfo=datetime.UTC)
    assert_golden("handoff.md", handoff_markdown_text(record, now=exported))


def test_signed_snapshot_markdown_matches_the_golden_file(client_for, story):
    response = client_for(story["users"][1]).get(
        reverse("closeout:sign_off_markdown", args=[9001, story["sign_off"].pk])
    )
    assert response.status_code == 200
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="sign-off-cobalt-health-2027-02-01.md"'
    )
    assert_golden("sign-off.md", response.content.decode())
    # People's text is shown as typed: no link, script or heading comes out of it.
    html = markdown_to_html(response.content.decode())
    assert "See [the runbook](javascript:alert(1))" in html
    assert 'href="javascript' not in html
    assert "<script" not in html


def test_a_section_without_its_own_renderer_gets_the_generic_one():
    assert section_markdown(
        "unknown", {"total_cpu": 48, "code_hosts_in_use": ["GitHub", "GitLab"], "notes": "a|b"}
    ) == (
        "| Field | Value |\n|---|---|\n| Total cpu | 48 |\n"
        "| Code hosts in use | GitHub, GitLab |\n| Notes | a\\|b |"
    )
    assert section_markdown("unknown", []) == "Nothing recorded."


def test_other_apps_add_sections_to_the_export_and_the_snapshot(
    client_for, account, ie, template, monkeypatch
):
    """How deployments and logs plug into the Markdown and the snapshot: a contribution's
    parts, in the record's order (vitally_sync comes after the checklist)."""
    part = Part(
        "vitally", "Vitally", lambda record: {"synced": True}, lambda d: f"Synced: {d['synced']}"
    )
    vitally = dataclasses.replace(registry._contributions["vitally_sync"], snapshot=(part,))
    monkeypatch.setitem(registry._contributions, "vitally_sync", vitally)
    text = (
        client_for(ie).get(reverse("closeout:handoff_markdown", args=[account.pk])).content.decode()
    )
    assert "## People\n\n" in text
    assert "## Closeout checklist" in text
    assert text.index("## Closeout checklist") < text.index(
        "## Vitally\n\nSynced: True\n\n## Sign-off"
    )


def test_markdown_to_html_keeps_only_plain_tags_and_http_links():
    html = markdown_to_html(
        "# T\n\n[x](javascript:alert(1)) <script>bad()</script> <https://ok.example>"
    )
    assert "<h2>T</h2>" in html
    assert "javascript:" not in html
    assert "<script>" not in html
    assert '<a href="https://ok.example" rel="noopener noreferrer">https://ok.example</a>' in html
