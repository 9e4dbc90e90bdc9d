"""A list row's status (or stage) select sent by htmx with a value it never offered: the row
comes back with the message beside the select, and nothing changes. It used to come back
unchanged and silent (found by test_generated_inputs.py); without htmx the page says so."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.security.snapshot import db_snapshot, snapshot_diff

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("route", "record", "name", "message"),
    [
        ("logs:issue_status", "issue", "status", "Choose one of the statuses."),
        ("logs:risk_status", "risk", "status", "Choose one of the statuses."),
        ("logs:opportunity_stage", "opportunity", "stage", "Choose one of the stages."),
    ],
)
def test_a_forged_row_select_is_refused_beside_the_select(world, route, record, name, message):
    client = Client()
    client.force_login(world.ie)
    obj = getattr(world, record)
    before = db_snapshot()
    response = client.post(
        reverse(route, args=[world.acme.pk, obj.pk]), {name: "-1"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    select_id = f"{record}-{obj.pk}-{name}-select"
    assert re.search(
        rf'<select id="{select_id}" name="{name}" aria-invalid="true" '
        rf'aria-describedby="{select_id}_error">',
        html,
    ), html
    assert f'<p class="error" id="{select_id}_error">{message}</p>' in html
    assert not snapshot_diff(before, db_snapshot())


def test_a_valid_row_select_still_saves_without_a_message(world):
    client = Client()
    client.force_login(world.ie)
    url = reverse("logs:issue_status", args=[world.acme.pk, world.issue.pk])
    response = client.post(url, {"status": "in_progress"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 'class="error"' not in response.content.decode()
    world.issue.refresh_from_db()
    assert world.issue.status == "in_progress"
