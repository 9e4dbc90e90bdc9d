"""One world per module: the bad-input modules attack the same world in hundreds of tests.

Building it (world.py) takes about half a second, and built for each test it was most of these
modules' time. So `module_db` opens a transaction around a module, the module's `shared_*` fixtures
build their rows in it once, and it is rolled back after the module's last test. What each test
writes is still its own: pytest-django runs each test in a savepoint inside that transaction and
rolls it back after the test, and `world` hands each test its own deep copy of the world's
instances (as Django's TestCase.setUpTestData does), so a version bumped or a relation cached in
memory does not reach the next test either. After the module's last test, the database is
checked to be the world as built.

A test marked django_db(transaction=True) commits and flushes: it cannot run inside the module's
transaction, so no module with such a test uses these fixtures."""

import copy

import pytest
from django.db import transaction
from django.test import override_settings

from tests.security.snapshot import ADMIN_APPS, db_snapshot, snapshot_diff
from tests.security.world import World, people_build, world_build

# tests/conftest.py's fast_password_hasher, which is function-scoped.
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def module_db(django_db_setup, django_db_blocker):
    """A transaction around the module, rolled back after its last test."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=FAST_HASHERS),
        transaction.atomic(),
    ):
        yield
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def shared_world(module_db) -> World:
    people = people_build()
    return world_build(ie=people["ie"], ta=people["ta"], manager=people["manager"])


@pytest.fixture(scope="module")
def shared_world_kept(shared_world):
    """After the module's last test, the database must be the world as built: a tripwire for
    a test whose rows escaped its savepoint. (Checked once a module: a snapshot before each test
    would cost as much as a quarter of what building the world once saves.)"""
    built = db_snapshot(ADMIN_APPS)
    yield
    changed = snapshot_diff(built, db_snapshot(ADMIN_APPS))
    assert not changed, f"the module's tests left rows in its world: {changed}"


@pytest.fixture
def world(shared_world, shared_world_kept) -> World:
    """This test's own copy of the module's world."""
    return copy.deepcopy(shared_world)
