"""Refusals and missing pages explain themselves inside the portal's own layout."""

import pytest
from django.urls import reverse

from tests.test_html_validity import _vnu_errors

pytestmark = pytest.mark.django_db


def test_a_refusal_says_what_was_refused_and_who_keeps_the_record(client_for, account, ta):
    # During implementation the TA reads the deployment record; the IE keeps it.
    response = client_for(ta).get(reverse("deployments:production_edit", args=[account.pk]))
    assert response.status_code == 403
    html = response.content.decode()
    assert "You can’t do that here" in html
    assert (
        "You can’t change this account’s production deployment, other environments or code hosts."
        in html
    )
    assert "irene keeps this record during implementation" in html or "keeps this record" in html
    assert f'href="/accounts/{account.pk}/">Back to Acme Robotics</a>' in html
    assert '<nav aria-label="Main">' in html  # the portal's layout, not a bare error page


def test_a_missing_page_is_a_page_of_the_portal(client_for, ta):
    response = client_for(ta).get(reverse("accounts:detail", args=[999_999]))
    assert response.status_code == 404
    html = response.content.decode()
    assert '<h1 id="error-title">Not found</h1>' in html
    assert '<nav aria-label="Main">' in html


def test_the_error_pages_are_valid_html(client_for, account, ta, tmp_path):
    client = client_for(ta)
    pages = {
        "403": client.get(reverse("deployments:production_edit", args=[account.pk])),
        "404": client.get(reverse("accounts:detail", args=[999_999])),
    }
    assert [r.status_code for r in pages.values()] == [403, 404]
    errors = _vnu_errors({name: r.content.decode() for name, r in pages.items()}, tmp_path)
    assert not errors, "\n".join(errors)
