"""A refused "Keep the portal's value" / "Take Vitally's value" / "Push now" says why as an
error (role="alert"), not as the green status line a success uses, and changes nothing. A
forged or stale version used to come back as `<p class="notice" role="status">`, which neither
a screen reader nor the generated-input test could tell from "Kept" (test_generated_inputs.py)."""

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from tests.security.snapshot import db_snapshot, snapshot_diff
from tests.security.world import World, people_build, world_build
from vitally_sync.demo import _difference_seed
from vitally_sync.models import TraitDifference

pytestmark = pytest.mark.django_db


VITALLY = {"VITALLY_BASE_URL": "http://127.0.0.1:9", "VITALLY_API_KEY": "panel-refusal"}


@pytest.fixture(scope="module")
def shared_world(module_db) -> World:
    people = people_build()
    with override_settings(**VITALLY):
        built = world_build(ie=people["ie"], ta=people["ta"], manager=people["manager"])
        assert _difference_seed(built.acme, "total_cpu", 16)
    return built


@pytest.fixture(autouse=True)
def vitally_configured(settings):
    for name, value in VITALLY.items():
        setattr(settings, name, value)


@pytest.mark.parametrize("route", ["vitally_sync:difference_keep", "vitally_sync:difference_take"])
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "page"])
@pytest.mark.parametrize("version", ["abc", "999", None], ids=["mangled", "stale", "missing"])
def test_a_refused_resolution_is_an_error(world, route, htmx, version):
    difference = TraitDifference.objects.get(account=world.acme)
    client = Client()
    client.force_login(world.ie)
    before = db_snapshot()
    response = client.post(
        reverse(route, args=[world.acme.pk, difference.pk]),
        {} if version is None else {"version": version},
        headers={"HX-Request": "true"} if htmx else {},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert '<div class="form-errors" role="alert"><p>' in html
    assert 'class="notice" role="status"' not in html
    assert not snapshot_diff(before, db_snapshot())


def test_a_resolution_done_is_still_a_status(world):
    difference = TraitDifference.objects.get(account=world.acme)
    client = Client()
    client.force_login(world.ie)
    response = client.post(
        reverse("vitally_sync:difference_keep", args=[world.acme.pk, difference.pk]),
        {"version": str(difference.version)},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert '<p class="notice" role="status">Kept the portal' in html
    assert "form-errors" not in html
