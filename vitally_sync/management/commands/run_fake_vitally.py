import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from vitally_sync.demo import fake_seed_accounts, fake_seed_admins, fake_seed_importable
from vitally_sync.fake import DEFAULT_API_KEY, FakeVitally


class Command(BaseCommand):
    help = (
        "Run the fake Vitally REST API (vitally-api.md §8) for demos and manual testing. "
        "Open http://127.0.0.1:PORT/ to watch the accounts and requests arrive. Every fault "
        "can also be changed while it runs: GET /_fake/control lists the switches, POST "
        '/_fake/control with a JSON object (e.g. {"auth_fail_next": 3}) sets them.'
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
            "--timeout-rate",
            type=float,
            default=0.0,
            help="Share never answered nor applied (held --timeout-seconds, then closed).",
        )
        parser.add_argument("--timeout-seconds", type=float, default=30.0)
        parser.add_argument(
            "--close-rate",
            type=float,
            default=0.0,
            help="Share whose connection is closed, not applied.",
        )
        parser.add_argument(
            "--lose-answer-rate",
            type=float,
            default=0.0,
            help="Share of requests that would be answered 2xx which are applied and then "
            "get no answer (see --lose-answer-mode).",
        )
        parser.add_argument(
            "--lose-answer-next",
            type=int,
            default=0,
            help="The next N requests that would be answered 2xx are applied, answer lost.",
        )
        parser.add_argument(
            "--lose-answer-mode",
            choices=["closed", "timeout"],
            default="closed",
            help="How an answer is lost: the connection closed at once, or held "
            "--timeout-seconds and then closed (the client's read timeout fires).",
        )
        parser.add_argument(
            "--auth-fail-next",
            type=int,
            default=0,
            help='The next N requests get 401 {"error": "Unauthorized"} even with the key.',
        )
        parser.add_argument(
            "--rate-limit-next",
            type=int,
            default=0,
            help="The next N requests get 429 announcing --rate-limit-retry-after seconds; "
            "every request before that wait ends gets 429 too and is logged as early.",
        )
        parser.add_argument(
            "--rate-limit-retry-after",
            type=float,
            default=60.0,
            help="The wait (Retry-After and RateLimit-Reset, s) of --rate-limit-next.",
        )
        parser.add_argument(
            "--error-body-next",
            type=int,
            default=0,
            help='The next N requests get 200 {"error": "Internal error"}, nothing applied.',
        )
        parser.add_argument(
            "--random-seed",
            type=int,
            default=None,
            help="Seed of the random faults (the rates), for a run that can be repeated.",
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
        # The mirror's demo: accounts not yet in the portal, and the demo people as admins.
        seed += fake_seed_importable() if options["seed_demo"] else []
        admins = fake_seed_admins() if options["seed_demo"] else []
        if options["seed"]:
            try:
                with open(options["seed"], encoding="utf-8") as handle:
                    seed += json.load(handle)
            except (OSError, ValueError) as error:
                raise CommandError(f"Cannot read the seed file: {error}") from error
        api_key = options["api_key"] or settings.VITALLY_API_KEY or DEFAULT_API_KEY
        try:
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
                lose_answer_rate=options["lose_answer_rate"],
                lose_answer_next=options["lose_answer_next"],
                lose_answer_mode=options["lose_answer_mode"],
                auth_fail_next=options["auth_fail_next"],
                rate_limit_next=options["rate_limit_next"],
                rate_limit_retry_after=options["rate_limit_retry_after"],
                error_body_next=options["error_body_next"],
                random_seed=options["random_seed"],
                auto_create=options["auto_create"],
                duplicate=options["duplicate"],
                seed_accounts=seed,
                seed_admins=admins,
            )
        except ValueError as error:  # a rate above 1, a negative count, ...
            raise CommandError(str(error)) from error
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
