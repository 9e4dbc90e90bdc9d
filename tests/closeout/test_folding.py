"""A large record stays readable and a manager signs with everything in view: the handoff page
shows the first ten blockers and attention items and folds the rest into a <details>; the
sign-off form shows every blocker and what needs attention."""

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


def test_past_ten_blockers_and_attention_items_fold_away(client_for, account, ie, manager):
    critical_issues(account, ie, 12)  # 12 blockers and 12 attention items, and a few more
    page = client_for(manager).get(reverse("closeout:handoff", args=[account.pk]))
    html = page.content.decode()
    blockers = re.search(r'<div id="readiness".*?</div>', html, flags=re.S).group(0)
    total_blockers = blockers.count("<li>")
    assert total_blockers > 12
    assert outside_details(blockers).count("<li>") == 10
    assert f"Show {total_blockers - 10} more blockers" in blockers
    attention = html[html.index('<div class="attention-list">') :]
    attention = attention[: attention.index("</section>")]
    items = attention.count('<li class="attention-item')
    assert items >= 12
    assert outside_details(attention).count('<li class="attention-item') == 10
    assert f"Show {items - 10} more item{'s' if items - 10 != 1 else ''}" in attention
    for n in range(12):  # nothing is lost: every issue is on the page, folded or not
        assert f"Outage {n}</a>" in html


def test_ten_or_fewer_show_without_a_fold(client_for, account, ie, manager):
    page = client_for(manager).get(reverse("closeout:handoff", args=[account.pk]))
    html = page.content.decode()
    assert '<details class="more-items">' not in html


def test_the_sign_off_form_shows_every_blocker_unfolded(
    client_for, account, ie, ta, manager, template
):
    ready_account(account, ie=ie, ta=ta)
    critical_issues(account, ie, 12)
    page = client_for(manager).get(reverse("closeout:sign_off", args=[account.pk]))
    html = page.content.decode()
    blockers = re.search(r'<div id="readiness".*?</div>', html, flags=re.S).group(0)
    assert "<details" not in blockers
    assert all(f"Outage {n}</a>" in blockers for n in range(12))


def test_request_handoff_says_how_many_blockers_remain(client_for, account, ie, ta, template):
    critical_issues(account, ie, 2)
    html = client_for(ie).get(reverse("closeout:handoff", args=[account.pk])).content.decode()
    note = re.search(r'<p class="meta request-note" id="blockers-remain">(.*?)</p>', html).group(1)
    count = int(re.search(r"(\d+) blockers remain", note).group(1))
    assert count >= 2  # the two critical issues, among others
    assert "the manager signs off only once they are fixed, or by overriding them." in note
    ready_account(account, ie=ie, ta=ta)  # requested: the note stays in view (issue 14)
    html = client_for(ie).get(reverse("closeout:handoff", args=[account.pk])).content.decode()
    assert re.search(r'id="blockers-remain">\d+ blockers? remains?', html)


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
