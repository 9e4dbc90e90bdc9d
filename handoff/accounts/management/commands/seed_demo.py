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
            # Each app seeds its own records (deployments, logs, handoff, Vitally links), in
            # INSTALLED_APPS order unless a module sets SEED_ORDER (default 0): the closeout
            # demo signs off accounts with a snapshot of every record, so it goes last.
            modules = [
                import_module(f"{config.name}.demo")
                for config in apps.get_app_configs()
                if config.name != "handoff.accounts" and find_spec(f"{config.name}.demo")
            ]
            for module in sorted(modules, key=lambda m: getattr(m, "SEED_ORDER", 0)):
                module.seed(users=users, accounts=accounts, stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready: {len(accounts)} accounts."))
        self.stdout.write(
            "Sign in as ie, ta or manager (manager is also an admin); "
            f"the password for all three is {DEMO_PASSWORD}"
        )
