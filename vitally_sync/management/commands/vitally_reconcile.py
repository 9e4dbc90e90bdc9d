import math

from django.core.management.base import BaseCommand, CommandError

from handoff.accounts.models import Account
from vitally_sync.conf import sync_config
from vitally_sync.reconcile import reconcile_pass


class Command(BaseCommand):
    help = (
        "Read linked accounts back from Vitally now and print each field whose value there "
        "differs from what the portal sent (account | field | trait key | the portal's value | "
        "Vitally's value, values as JSON). Through the shared rate limiter, within "
        "VITALLY_RECONCILE_SHARE of it, waiting out 429s. Accounts with changes waiting to be "
        "pushed are skipped: their push is about to change what Vitally holds. The differences "
        "found replace the account's, as the scheduled reconcile's do."
    )

    def add_arguments(self, parser):
        parser.add_argument("--account", type=int, metavar="ID", help="One account (portal id).")
        parser.add_argument(
            "--check",
            action="store_true",
            help="Exit 1 when a field differs, 2 when an account could not be read, else 0.",
        )

    def handle(self, *args, **options):
        config = sync_config()
        if not config.enabled:
            raise CommandError(
                config.error
                or "The Vitally sync is not configured: set VITALLY_BASE_URL and VITALLY_API_KEY."
            )
        account_ids = None
        if options["account"]:
            account = Account.objects.filter(pk=options["account"]).first()
            if account is None:
                raise CommandError(f"No account with id {options['account']}.")
            if not account.vitally_account_id:
                raise CommandError(f"“{account}” has no Vitally account id: nothing to read.")
            account_ids = [account.pk]
        report = reconcile_pass(
            config=config,
            account_ids=account_ids,
            due_only=False,
            budget=math.inf,
            max_wait=math.inf,
            wait_pauses=True,
        )
        for line in report.lines:
            self.stdout.write(str(line))
        for failure in report.failures:
            self.stderr.write(f"Not read: {failure}")
        self.stdout.write(str(report))
        if options["check"]:
            if report.lines:
                fields = len(report.lines)
                raise CommandError(
                    f"{fields} field{'s' if fields != 1 else ''} differ"
                    f"{'s' if fields == 1 else ''} in Vitally.",
                    returncode=1,
                )
            if report.failures or report.stopped:
                raise CommandError("Some accounts could not be read back.", returncode=2)
