import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from vitally_sync.demo import fake_seed_accounts
from vitally_sync.fake import DEFAULT_API_KEY, FakeVitally


class Command(BaseCommand):
    help = (
        "Run the fake Vitally REST API (vitally-api.md §8) for demos and manual testing. "
        "Open http://127.0.0.1:PORT/ to watch the accounts and requests arrive."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="Listen address (loopback).")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument(
            "--api-key",
            default=None,
            help="The key it accepts (default: VITALLY_API_KEY, else the demo key).",
        )
        parser.add_argument("--rate-limit", type=int, default=1000, help="Requests per 60 s.")
        parser.add_argument("--error-rate", type=float, default=0.0, help="Share answered 5xx.")
        parser.add_argument("--latency-ms", type=float, default=0.0, help="Added to each answer.")
        parser.add_argument("--latency-jitter-ms", type=float, default=0.0)
        parser.add_argument(
            "--burst-429", type=int, default=0, help="Answer this many requests 429 ..."
        )
        parser.add_argument("--burst-429-every", type=int, default=0, help="... in every N.")
        parser.add_argument(
            "--burst-retry-after", type=int, default=1, help="Retry-After of a burst 429 (s)."
        )
        parser.add_argument(
            "--timeout-rate", type=float, default=0.0, help="Share never answered (hangs)."
        )
        parser.add_argument("--timeout-seconds", type=float, default=30.0)
        parser.add_argument(
            "--close-rate", type=float, default=0.0, help="Share whose connection is closed."
        )
        parser.add_argument(
            "--seed-demo",
            action="store_true",
            help="Know the demo accounts' Vitally ids (what `make run` links them to).",
        )
        parser.add_argument(
            "--seed", help="A JSON file: [{externalId, name, traits}] accounts to start with."
        )
        parser.add_argument(
            "--auto-create",
            action="store_true",
            help="FAKE ONLY: a PUT to an unknown id creates the account (Vitally answers 404).",
        )
        parser.add_argument(
            "--duplicate",
            choices=["reject", "upsert"],
            default="reject",
            help="POST /resources/accounts with an existing externalId: 409, or update it.",
        )

    def handle(self, *args, **options):
        seed = fake_seed_accounts() if options["seed_demo"] else []
        if options["seed"]:
            try:
                with open(options["seed"], encoding="utf-8") as handle:
                    seed += json.load(handle)
            except (OSError, ValueError) as error:
                raise CommandError(f"Cannot read the seed file: {error}") from error
        api_key = options["api_key"] or settings.VITALLY_API_KEY or DEFAULT_API_KEY
        fake = FakeVitally(
            api_key=api_key,
            rate_limit_per_minute=options["rate_limit"],
            error_rate=options["error_rate"],
            latency_ms=options["latency_ms"],
            latency_jitter_ms=options["latency_jitter_ms"],
            burst_429=options["burst_429"],
            burst_429_every=options["burst_429_every"],
            burst_retry_after=options["burst_retry_after"],
            timeout_rate=options["timeout_rate"],
            timeout_seconds=options["timeout_seconds"],
            close_rate=options["close_rate"],
            auto_create=options["auto_create"],
            duplicate=options["duplicate"],
            seed_accounts=seed,
        )
        host, port = options["host"], options["port"]
        self.stdout.write(
            f"Fake Vitally on http://{host}:{port}/ with {len(fake.accounts)} accounts. "
            "Ctrl-C stops it."
        )
        self.stdout.flush()
        try:
            fake.serve_forever(host=host, port=port)
        except KeyboardInterrupt:
            pass
        except OSError as error:
            raise CommandError(f"Cannot listen on {host}:{port}: {error}") from error
