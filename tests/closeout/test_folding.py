"""A large record stays readable and a manager signs with everything in view: the account page
shows one line per unmet readiness rule with its blockers folded under it, and each cause once
(an attention item a blocker names is left out); the sign-off form shows every blocker unfolded
and what needs attention."""

import re

import pytest
from django.urls import reverse

from logs.services import issue_create, risk_create
from tests.closeout.conftest import ready_account

pytestmark = pytest.mark.django_db


def critical_issues(account, ie, count: int) -> None:
    for n in range(count):
        issue_create(account=account, actor=ie, title=f"Outage {n}", owner=ie, severity="critical")


def outside_details(html: str) -> str:
    return re.sub(r"<details.*?</details>", "", html, flags=re.S)


def test_blockers_are_grouped_by_rule_and_each_cause_shows_once(client_for, account, ie, manager):
    critical_issues(account, ie, 12)  # 12 blockers of one rule
    page = client_for(manager).get(reverse("accounts:detail", args=[account.pk]))
    html = page.content.decode()
    readiness = html[html.index('<div id="readiness"') : html.index('<div id="attention"')]
    # One line per unmet rule; the rule's twelve blockers fold under its summary.
    rule = readiness[readiness.index("12 open critical issues") :]
    rule = rule[: rule.index("</details>")]
    assert "<summary>12 open critical issues</summary>" in readiness
    for n in range(12):  # nothing is lost: every issue is on the page, folded
        assert f"Outage {n}</a>" in rule
    assert outside_details(readiness).count("Outage") == 0
    # The same issues are not repeated as attention items: the blocker names them.
    attention = html[html.index('<div id="attention"') :]
    attention = attention[: attention.index("</section>")]
    assert "Outage" not in attention


def test_a_rule_with_one_blocker_shows_it_without_a_fold(client_for, account, ie, manager):
    critical_issues(account, ie, 1)
    html = client_for(manager).get(reverse("accounts:detail", args=[account.pk])).content.decode()
    readiness = html[html.index('<div id="readiness"') : html.index('<div id="attention"')]
    assert "Open critical issue I-1: Outage 0</a>" in outside_details(readiness)


def test_a_missing_technical_advisor_is_one_line_not_two(client_for, account, ie, ta, manager):
    """Without a technical advisor nobody can acknowledge: the acknowledgement rule is counted
    but said by the assignment's line; once a TA is assigned it has a line of its own."""

    def readiness_of() -> str:
        html = client_for(manager).get(reverse("accounts:detail", args=[account.pk]))
        html = html.content.decode()
        return html[html.index('<div id="readiness"') : html.index('<div id="attention"')]

    account.technical_advisor = None
    account.save(update_fields=["technical_advisor"])
    readiness = readiness_of()
    assert "No technical advisor assigned</a>" in readiness
    assert "they then acknowledge it on the account page" in readiness
    assert "acknowledge the account" not in readiness  # no second line for the same cause
    met, total = map(int, re.search(r"(\d+) of (\d+) rules met", readiness).groups())
    assert readiness.count('class="rule-unmet"') == total - met - 1

    account.technical_advisor = ta
    account.save(update_fields=["technical_advisor"])
    readiness = readiness_of()
    assert "No technical advisor assigned" not in readiness
    assert f"{ta} has not acknowledged the account</a>" in readiness


def test_the_sign_off_form_shows_every_blocker_unfolded(
    client_for, account, ie, ta, manager, template
):
    ready_account(account, ie=ie, ta=ta)
    critical_issues(account, ie, 12)
    page = client_for(manager).get(reverse("closeout:sign_off", args=[account.pk]))
    html = page.content.decode()
    blockers = html[html.index('<div id="readiness"') : html.index("sign-off-form")]
    assert '<details class="rule-blockers" open>' in blockers
    assert "<details" not in blockers.replace('<details class="rule-blockers" open>', "")
    assert all(f"Outage {n}</a>" in blockers for n in range(12))


def test_request_handoff_says_how_many_blockers_remain(client_for, account, ie, ta, template):
    critical_issues(account, ie, 2)
    html = client_for(ie).get(reverse("accounts:detail", args=[account.pk])).content.decode()
    note = re.search(r'<p class="meta request-note" id="blockers-remain">(.*?)</p>', html).group(1)
    count = int(re.search(r"(\d+) rules? not met", note).group(1))
    # The two critical issues are one rule's line, as the readiness block has them.
    assert count == len(re.findall(r'<li class="rule-unmet">', html)) >= 1
    assert "signs off only once they are met, or by overriding what is missing." in note
    ready_account(account, ie=ie, ta=ta)  # requested: the note stays in view (issue 14)
    html = client_for(ie).get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert re.search(r'id="blockers-remain">\d+ rules? not met', html)


def test_the_sign_off_form_shows_what_needs_attention(
    client_for, account, ie, ta, manager, template
):
    ready_account(account, ie=ie, ta=ta)
    risk_create(
        account=account,
        actor=ie,
        title="PHI gets indexed",
        description="Because a repository holds PHI, search may expose it.",
        likelihood=4,
        impact=4,
        owner=ie,
        response_plan="Exclude the repository.",
    )
    html = client_for(manager).get(reverse("closeout:sign_off", args=[account.pk])).content
    section = html.decode().split('id="sign-off-attention-title"')[1].split("</section>")[0]
    assert "Critical risk R-1: PHI gets indexed" in section  # score 16: band critical
