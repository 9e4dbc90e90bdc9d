import math

from django.core.management.base import BaseCommand, CommandError

from vitally_sync.conf import sync_config
from vitally_sync.mirror import PullReport, mirror_pull


class Command(BaseCommand):
    help = (
        "Pull Vitally's accounts into the portal's mirror (the account form's search and the "
        "import page): what changed since the last pull, or every account with --full (which "
        "also removes those Vitally no longer lists). Through the shared rate limiter, within "
        "VITALLY_MIRROR_SHARE of it, waiting out 429s; progress on stderr."
    )

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="Read every page.")

    def handle(self, *args, **options):
        config = sync_config()
        if not config.enabled:
            raise CommandError(
                config.error
                or "The Vitally sync is not configured: set VITALLY_BASE_URL and VITALLY_API_KEY."
            )
        tty = self.stderr.isatty()

        def say(text: str) -> None:  # plain (not styled as an error); a terminal's line rewrites
            self.stderr.write(text, style_func=lambda line: line, ending="")
            self.stderr.flush()

        def progress(report: PullReport) -> None:
            # No total exists in Vitally's API: pages and accounts so far, on one line.
            line = f"Pulling Vitally accounts: page {report.pages}, {report.saved} saved"
            if report.retries or report.rate_limited:
                line += f" ({report.retries} read again, {report.rate_limited} × 429)"
            say(("\r" + line) if tty else line + "\n")

        report = mirror_pull(
            full=options["full"], config=config, budget=math.inf, max_wait=math.inf,
            progress=progress,
        )  # fmt: skip
        if tty and report.pages:
            say("\n")
        self.stdout.write(str(report))
        if not report.completed:
            raise CommandError(f"The pull did not complete: {report.stopped}")
