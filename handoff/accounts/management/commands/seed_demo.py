from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from handoff.accounts.demo import DEMO_PASSWORD, seed_accounts, seed_people


class Command(BaseCommand):
    help = "Create the demo users and a dozen realistic accounts with their records. Idempotent."

    def handle(self, *args, **options):
        with transaction.atomic():
            users = seed_people(stdout=self.stdout)
            accounts = seed_accounts(users=users, stdout=self.stdout)
            # Each app seeds its own records (deployments, logs, handoff, Vitally links).
            for config in apps.get_app_configs():
                module_name = f"{config.name}.demo"
                if config.name == "handoff.accounts" or find_spec(module_name) is None:
                    continue
                import_module(module_name).seed(users=users, accounts=accounts, stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready: {len(accounts)} accounts."))
        self.stdout.write(
            "Sign in as ie, ta or manager (manager is also an admin); "
            f"the password for all three is {DEMO_PASSWORD}"
        )
