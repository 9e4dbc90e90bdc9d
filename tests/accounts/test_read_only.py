"""Issue 14, item 4: a read-only record says who keeps it; the 403 page names the keeper and
links back to the account."""

import pytest
from django.urls import reverse

from handoff.accounts.models import Account
from handoff.people.models import User
from handoff.permissions import record_keeper, record_keeper_sentence
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def jonas(db):
    return UserFactory(
        username="jonas",
        first_name="Jonas",
        last_name="Berg",
        role=User.Role.IMPLEMENTATION_ENGINEER,
    )


@pytest.fixture
def theirs(jonas, ta, manager):
    return AccountFactory(
        name="Globex", implementation_engineer=jonas, technical_advisor=ta, manager=manager
    )


KEEPER = "Jonas Berg keeps this record during implementation"


def test_an_ie_on_someone_elses_account_is_told_who_keeps_it(client_for, theirs, ie):
    html = client_for(ie).get(reverse("accounts:detail", args=[theirs.pk])).content.decode()
    assert f'<p class="read-only-note" id="read-only">{KEEPER}' in html
    # What the page still offers them ("Add a note") the notice says they may do.
    assert (
        "ask them or a manager to change it. You can still add implementation notes, "
        "and update the issues, risks and opportunities you own." in html
    )
    assert "Add a note" in html


@pytest.mark.parametrize("page", ["accounts:detail", "closeout:handoff"])
def test_the_keeper_and_a_manager_see_no_such_line(client_for, theirs, jonas, manager, page):
    for user in (jonas, manager):
        html = client_for(user).get(reverse(page, args=[theirs.pk])).content.decode()
        assert 'class="read-only-note"' not in html


def test_after_handoff_the_technical_advisor_keeps_the_record(theirs, ta):
    Account.objects.filter(pk=theirs.pk).update(phase=Account.Phase.HANDED_OFF)
    theirs.refresh_from_db()
    assert record_keeper(theirs) == ta
    assert record_keeper_sentence(theirs).startswith(f"{ta} keeps this record after handoff")


def test_nobody_assigned_names_the_missing_role(db):
    account = AccountFactory(name="Orphan", implementation_engineer=None)
    assert record_keeper(account) is None
    assert record_keeper_sentence(account) == (
        "No implementation engineer is assigned: a manager keeps this record during implementation."
    )


def test_the_403_page_names_the_keeper_and_links_back_to_the_account(client_for, theirs, ie):
    response = client_for(ie).get(reverse("accounts:edit", args=[theirs.pk]))
    assert response.status_code == 403
    html = response.content.decode()
    assert "You can’t edit this account’s details (its people, planned completion" in html
    assert "You may not" not in html and "maintainer" not in html
    assert f'<p class="keeper">{KEEPER}' in html
    assert f'<a href="/accounts/{theirs.pk}/">Back to Globex</a>' in html
    assert "Back to Accounts" not in html


def test_a_refusal_about_no_account_still_links_to_accounts(client_for, ie):
    response = client_for(ie).get(reverse("logs:issue_overview"))
    assert response.status_code == 403
    assert 'href="/accounts/">Back to Accounts</a>' in response.content.decode()
