"""The Markdown export against golden files (fixed names, ids and clock). After a deliberate
change, rewrite them with UPDATE_GOLDEN=1 and read the diff before committing."""

import datetime
import os
from pathlib import Path
from unittest import mock

import pytest
from django.urls import reverse

from handoff.closeout import services
from handoff.closeout.markdown import (
    markdown_to_html,
    register_markdown_renderer,
    section_markdown,
    unregister_markdown_renderer,
)
from handoff.closeout.models import ChecklistItem
from handoff.closeout.selectors import account_handoff_get
from handoff.closeout.snapshot import register_snapshot_provider, unregister_snapshot_provider
from handoff.closeout.views import handoff_markdown_text
from handoff.people.models import User
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
            services.checklist_item_update(item=item, actor=ie, data=data, expected_version=None)
        services.handoff_acknowledge(account=account, actor=ta)
        services.handoff_request(account=account, actor=ie)
        sign_off = services.closeout_sign_off(
            account=account,
            actor=manager,
            override_reason="Upgrade to 6.x is booked for 2027-02-15 with the TA.",
        )
        yield {"account": account, "sign_off": sign_off, "clock": clock, "users": (ie, ta, manager)}


def test_handoff_markdown_matches_the_golden_file(story):
    account = account_handoff_get(account_id=9001)
    exported = datetime.datetime(2027, 2, 2, 8, 30, tzinfo=datetime.UTC)
    assert_golden("handoff.md", handoff_markdown_text(account, now=exported))


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


def test_a_section_without_its_own_renderer_gets_the_generic_one():
    assert section_markdown(
        "unknown", {"total_cpu": 48, "code_hosts_in_use": ["GitHub", "GitLab"], "notes": "a|b"}
    ) == (
        "| Field | Value |\n|---|---|\n| Total cpu | 48 |\n"
        "| Code hosts in use | GitHub, GitLab |\n| Notes | a\\|b |"
    )
    assert section_markdown("unknown", []) == "Nothing recorded."


def test_other_apps_add_sections_to_the_export_and_the_snapshot(client_for, account, ie, template):
    """How deployments and logs plug into the Markdown and the snapshot."""
    register_snapshot_provider(
        "deployments", "Production deployment", lambda a: {"total_cpu": 48}, order=100
    )
    register_markdown_renderer("deployments", lambda data: f"Total CPU: {data['total_cpu']}")
    try:
        text = (
            client_for(ie)
            .get(reverse("closeout:handoff_markdown", args=[account.pk]))
            .content.decode()
        )
        assert "## People\n\n" in text
        assert "## Production deployment\n\nTotal CPU: 48\n\n## Closeout checklist" in text
    finally:
        unregister_snapshot_provider("deployments")
        unregister_markdown_renderer("deployments")


def test_markdown_to_html_keeps_only_plain_tags_and_http_links():
    html = markdown_to_html(
        "# T\n\n[x](javascript:alert(1)) <script>bad()</script> <https://ok.example>"
    )
    assert "<h2>T</h2>" in html
    assert "javascript:" not in html
    assert "<script>" not in html
    assert '<a href="https://ok.example" rel="noopener noreferrer">https://ok.example</a>' in html
