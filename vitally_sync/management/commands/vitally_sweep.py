from django.core.management.base import BaseCommand

from vitally_sync.services import sync_sweep


class Command(BaseCommand):
    help = (
        "One sweeper pass: push every account that is due, in this process. Beat runs the same "
        "pass every VITALLY_SWEEP_SECONDS; use this from cron when the broker is down."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--budget", type=float, default=300.0, help="Stop starting pushes after N seconds."
        )

    def handle(self, *args, **options):
        self.stdout.write(str(sync_sweep(budget=options["budget"])))
