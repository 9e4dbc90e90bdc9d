import os
import shutil
from importlib import import_module
from pathlib import Path

import pytest

from handoff.closeout import services as closeout_services
from handoff.closeout.models import ChecklistTemplateItem
from handoff.people.models import User
from tests.factories import AccountFactory, UserFactory

HANDBOOK_ITEMS = import_module("handoff.closeout.migrations.0002_checklist_template_seed").ITEMS

ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    # Factories hash a password per user; PBKDF2's real cost would dominate the suite.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def ie(db):
    return UserFactory(username="irene", role=User.Role.IMPLEMENTATION_ENGINEER)


@pytest.fixture
def ta(db):
    return UserFactory(username="tomas", role=User.Role.TECHNICAL_ADVISOR)


@pytest.fixture
def manager(db):
    return UserFactory(username="maya", role=User.Role.MANAGER)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="root", role="", is_staff=True, is_superuser=True)


@pytest.fixture
def account(ie, ta, manager):
    return AccountFactory(
        name="Acme Robotics",
        vitally_account_id="acme-robotics",
        implementation_engineer=ie,
        technical_advisor=ta,
        manager=manager,
    )


@pytest.fixture
def template(db, admin_user):
    """The handbook's closeout checklist template: the data migration's rows, restored through
    the service when a transactional test flushed them."""
    if not ChecklistTemplateItem.objects.filter(is_active=True).exists():
        for index, (title, guidance) in enumerate(HANDBOOK_ITEMS, start=1):
            closeout_services.checklist_template_item_create(
                actor=admin_user, title=title, guidance=guidance, position=index * 10
            )
    return list(ChecklistTemplateItem.objects.filter(is_active=True).order_by("position", "pk"))


@pytest.fixture
def client_for(client):
    """client_for(user) -> a test client signed in as that user."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


# --- Browser tests: Playwright driving Debian's Chromium -------------------------------------
@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    executable = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if not executable:
        if os.environ.get("CI"):
            pytest.fail(
                "Chromium is missing in CI: .ci/run installs it (apt-get install chromium)."
            )
        pytest.skip("Chromium is not installed (apt-get install chromium); CI never skips this.")
    return {
        **browser_type_launch_args,
        "executable_path": executable,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1366, "height": 900}}


@pytest.fixture
def screenshot(page):
    """screenshot("name") saves a full-page PNG under tests/artifacts (git-ignored) to look at."""

    def take(name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
