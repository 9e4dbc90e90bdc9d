from django.core.management.base import BaseCommand

from handoff.closeout.tasks import completion_reminders_send


class Command(BaseCommand):
    help = (
        "Send the planned completion reminders that are due now, as beat does every morning "
        "(each account and date is reminded once)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--queue",
            action="store_true",
            help="Hand the task to the Celery worker instead of running it here.",
        )

    def handle(self, *args, queue: bool, **options):
        if queue:
            completion_reminders_send.delay()
            self.stdout.write("Queued; the worker sends the reminders (see its console output).")
            return
        sent = completion_reminders_send()
        self.stdout.write(f"Sent {sent} reminder{'s' if sent != 1 else ''}.")
