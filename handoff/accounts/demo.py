"""Demo people and accounts for `manage.py seed_demo`. Other apps add their records through a
`demo.py` module of their own with `seed(*, users, accounts, stdout)`."""

import datetime

from django.utils import timezone

from handoff.accounts.models import Account
from handoff.accounts.services import account_create
from handoff.people.models import User

DEMO_PASSWORD = "handoff-demo"  # noqa: S105  # nosec B105  # printed by seed_demo; demo data only

DEMO_USERS = [
    # username, first, last, role, staff
    ("ie", "Irene", "Ekwueme", User.Role.IMPLEMENTATION_ENGINEER, False),
    ("ta", "Tomas", "Alvarez", User.Role.TECHNICAL_ADVISOR, False),
    ("manager", "Maya", "Nakamura", User.Role.MANAGER, True),
    ("ie2", "Jonas", "Berg", User.Role.IMPLEMENTATION_ENGINEER, False),
    ("ta2", "Priya", "Raman", User.Role.TECHNICAL_ADVISOR, False),
]

# name, vitally id, phase, ie, ta, days until planned completion. Accounts are created in
# Implementation; the phase here is where handoff/closeout/demo.py takes each one through the
# workflow (request handoff, sign-off), so every handed-off account has a real sign-off.
DEMO_ACCOUNTS = [
    ("Acme Robotics", "acme-robotics", Account.Phase.IMPLEMENTATION, "ie", "ta", 40),
    ("Borealis Bank", "borealis-bank", Account.Phase.IMPLEMENTATION, "ie", None, 18),
    ("Cobalt Health", "cobalt-health", Account.Phase.READY_FOR_HANDOFF, "ie", "ta", 5),
    ("Dunmore Logistics", "dunmore-logistics", Account.Phase.HANDED_OFF, "ie", "ta", -30),
    ("Evergreen Energy", "evergreen-energy", Account.Phase.IMPLEMENTATION, "ie2", "ta2", 60),
    ("Fjord Games", "", Account.Phase.IMPLEMENTATION, "ie2", None, 75),
    ("Granite Insurance", "granite-insurance", Account.Phase.READY_FOR_HANDOFF, "ie2", "ta", 2),
    ("Helix Pharmaceuticals", "helix-pharma", Account.Phase.HANDED_OFF, "ie", "ta2", -90),
    ("Ion Semiconductors", "ion-semi", Account.Phase.IMPLEMENTATION, "ie", "ta", 25),
    ("Juniper Retail", "juniper-retail", Account.Phase.HANDED_OFF, "ie2", "ta", -12),
    ("Kestrel Aerospace", "kestrel-aero", Account.Phase.IMPLEMENTATION, "ie2", "ta2", 33),
    ("Lumen Telecom", "", Account.Phase.IMPLEMENTATION, "ie", None, 90),
]


def seed_people(*, stdout) -> dict[str, User]:
    users = {}
    for username, first, last, role, staff in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                # Not "@handoff…": the password validators refuse a password like the e-mail,
                # and a demo user who changed it could not go back to the demo password.
                "email": f"{username}@example.com",
                "role": role,
                "is_staff": staff,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        users[username] = user
    return users


def seed_accounts(*, users: dict[str, User], stdout) -> dict[str, Account]:
    today = timezone.localdate()
    accounts = {}
    for name, vitally_id, _phase, ie, ta, days in DEMO_ACCOUNTS:
        account = Account.objects.filter(name=name).first()
        if account is None:
            account = account_create(
                actor=users["manager"],
                name=name,
                vitally_account_id=vitally_id,
                crm_url=f"https://crm.example.com/accounts/{vitally_id or name.split()[0].lower()}",
                implementation_engineer=users[ie],
                technical_advisor=users[ta] if ta else None,
                manager=users["manager"],
                planned_completion_date=today + datetime.timedelta(days=days),
            )
        accounts[name] = account
    return accounts
