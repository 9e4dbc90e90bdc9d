from django.core.management.base import BaseCommand

from logs.tasks import stale_digests_send_task


class Command(BaseCommand):
    help = (
        'Send today\'s "Update requested" digests now, as beat does every morning: one e-mail '
        "per owner of stale issues and risks, never twice the same day."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--queue",
            action="store_true",
            help="Hand the task to the Celery worker instead of running it here.",
        )

    def handle(self, *args, queue: bool, **options):
        if queue:
            stale_digests_send_task.delay()
            self.stdout.write("Queued; the worker sends the digests (see its console output).")
            return
        sent = stale_digests_send_task()
        self.stdout.write(f"Sent {sent} digest e-mail{'s' if sent != 1 else ''}.")
