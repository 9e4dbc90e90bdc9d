"""The Nu HTML checker finds no errors on the handoff's pages once the deployment record and the
logs fill them: the attention strip with every level, the blockers, the sections, the sign-off
form and the signed record."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from deployments.models import Environment
from deployments.services import environment_update
from handoff.closeout import services
from handoff.common.services import ANY_VERSION
from logs.models import Issue
from logs.services import issue_create, journal_entry_create, opportunity_create, risk_create
from tests.closeout.conftest import ready_account
from tests.test_html_validity import _vnu_errors

pytestmark = pytest.mark.django_db


def test_handoff_pages_with_a_full_record_are_valid_html(
    client, account, ie, ta, manager, template, tmp_path
):
    ready_account(account, ie=ie, ta=ta, leave_open=("Indexing",))
    environment_update(
        environment=Environment.objects.get(account=account),
        actor=ie,
        data={"max_users": 3000, "total_cpu": 16},  # sizing warnings
        expected_version=ANY_VERSION,
    )
    journal_entry_create(account=account, author=ie, title="Limits <b>", body="**3,000** users")
    for n in range(11):  # more than ten attention items: the rest fold away
        issue_create(account=account, actor=ie, title=f"Sync {n}", owner=ie, severity="high")
    for n in range(2):  # a rule with two blockers: they fold under its summary
        issue_create(account=account, actor=ie, title=f"Down {n}", owner=ie, severity="critical")
    stale = issue_create(account=account, actor=ie, title="Typo", owner=ie, severity="low")
    Issue.objects.filter(pk=stale.pk).update(
        updated_at=timezone.now() - datetime.timedelta(days=40)
    )
    risk_create(
        account=account,
        actor=ie,
        title="Freeze",
        description="Because …",
        likelihood=5,
        impact=4,
        owner=ie,
        response_plan="Fail over to the standby instance.",
    )
    opportunity_create(account=account, actor=ie, title="Firmware team", owner=ta)
    client.force_login(manager)
    pages = {
        "handoff": client.get(reverse("accounts:detail", args=[account.pk])),
        "sign-off-form": client.get(reverse("closeout:sign_off", args=[account.pk])),
        "sign-off-refused": client.post(
            reverse("closeout:sign_off", args=[account.pk]), {"override_reason": ""}
        ),
    }
    signed = services.closeout_sign_off(account=account, actor=manager, override_reason="Known.")
    pages["signed-record"] = client.get(signed.get_absolute_url())
    pages["account"] = client.get(reverse("accounts:detail", args=[account.pk]))
    assert {name: r.status_code for name, r in pages.items()} == dict.fromkeys(pages, 200)
    handoff = pages["handoff"].content.decode()
    assert 'class="badge bad">Critical</span>' in handoff
    assert 'class="badge warn">Warning</span>' in handoff
    assert 'class="badge muted">Note</span>' in handoff
    assert "<summary>2 open critical issues</summary>" in handoff
    assert "more items</summary>" in handoff
    errors = _vnu_errors({n: r.content.decode() for n, r in pages.items()}, tmp_path)
    assert not errors, "\n".join(errors)
