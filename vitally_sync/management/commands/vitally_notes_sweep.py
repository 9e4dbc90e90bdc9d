from django.core.management.base import BaseCommand

from vitally_sync.notes import notes_sweep


class Command(BaseCommand):
    help = (
        "One pass of the notes' sweeper: send every implementation note and sign-off due to "
        "Vitally, in this process. Beat runs it every VITALLY_SWEEP_SECONDS; use this from cron "
        "when the broker is down."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--budget", type=float, default=300.0, help="Stop starting notes after N seconds."
        )

    def handle(self, *args, **options):
        counts = notes_sweep(budget=options["budget"])
        parts = [f"{n} {outcome}" for outcome, n in sorted(counts.items())] or ["nothing due"]
        self.stdout.write(f"Notes: {', '.join(parts)}.")
