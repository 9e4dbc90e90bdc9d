import json
import math
import time
from collections import Counter

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from handoff.accounts.models import Account
from vitally_sync.conf import sync_config
from vitally_sync.limiter import limiter_get
from vitally_sync.models import AccountSync
from vitally_sync.payloads import traits_build
from vitally_sync.selectors import portal_values_get
from vitally_sync.services import (
    Outcome,
    sync_claim,
    sync_claimed_push,
    sync_due_q,
    sync_rows_ensure,
)

# Outcomes a repeat from this command would not change (retrying is the sweeper's job).
FINAL = {Outcome.PUSHED, Outcome.UNCHANGED, Outcome.FAILED, Outcome.ATTENTION, Outcome.SKIPPED}


class Command(BaseCommand):
    help = (
        "Push accounts to Vitally from this process, through the shared rate limiter, with the "
        "same retries and waits as the workers (no worker needed). Without --all or --account: "
        "the accounts that are due. --all and --account send even unchanged payloads."
    )

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--all", action="store_true", help="Every linked account (backfill).")
        which.add_argument("--account", type=int, metavar="ID", help="One account (portal id).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Print each payload as JSON; send nothing."
        )
        parser.add_argument(
            "--max-attempts",
            type=int,
            default=5,
            help="Per account, for 429/5xx/timeouts, before leaving it to the sweeper.",
        )

    def handle(self, *args, **options):
        config = sync_config()
        if config.error:
            raise CommandError(config.error)
        account_ids = self._select(options)
        if options["dry_run"]:
            return self._dry_run(account_ids, config)
        if not config.enabled:
            raise CommandError(
                config.error
                or "The Vitally sync is not configured: set VITALLY_BASE_URL and VITALLY_API_KEY."
            )
        force = bool(options["all"] or options["account"])
        limiter = limiter_get(config.redis_url)
        total = len(account_ids)
        per_minute = config.rate_limit_per_minute
        self.stdout.write(
            f"Pushing {total} account{'s' if total != 1 else ''} to {config.host} "
            f"(at most {per_minute}/min: about {math.ceil(total / per_minute * 60)} s)."
        )
        counts: Counter = Counter()
        failures: list[str] = []
        rate_limited = 0
        started = time.monotonic()
        progress = _Progress(self.stdout, total)
        for account_id in account_ids:
            outcome, message, hits = self._push_one(
                account_id, config, limiter, force, options["max_attempts"]
            )
            counts[outcome] += 1
            rate_limited += hits
            if outcome in (Outcome.FAILED.value, Outcome.ATTENTION.value):
                failures.append(f"  account {account_id}: {message}")
            progress.step(counts)
        progress.done()
        elapsed = time.monotonic() - started
        sent = counts[Outcome.PUSHED.value]
        rate = f"{sent / elapsed * 60:.0f}/min" if elapsed > 0 and sent else "—"
        self.stdout.write(
            f"Done in {elapsed:.1f} s: {sent} pushed, {counts[Outcome.UNCHANGED.value]} "
            f"unchanged, {counts[Outcome.FAILED.value] + counts[Outcome.ATTENTION.value]} failed, "
            f"{counts['later']} left for the "
            f"sweeper, {counts['busy'] + counts[Outcome.SKIPPED.value]} skipped; "
            f"{rate}; Vitally answered 429 {rate_limited} time{'s' if rate_limited != 1 else ''}."
        )
        if failures:
            self.stdout.write(self.style.ERROR("Failed:\n" + "\n".join(failures)))

    def _select(self, options) -> list[int]:
        linked = Account.objects.exclude(vitally_account_id="")
        if options["account"]:
            account = Account.objects.filter(pk=options["account"]).first()
            if account is None:
                raise CommandError(f"No account with id {options['account']}.")
            if not account.vitally_account_id:
                raise CommandError(f"“{account}” has no Vitally account id: nothing to push.")
            return [account.pk]
        if options["all"]:
            return list(linked.order_by("pk").values_list("pk", flat=True))
        sync_rows_ensure()
        due = AccountSync.objects.filter(sync_due_q(now=timezone.now(), config=sync_config()))
        return list(due.order_by("account_id").values_list("account_id", flat=True))

    def _dry_run(self, account_ids: list[int], config) -> None:
        for account in Account.objects.filter(pk__in=account_ids).order_by("pk"):
            traits = traits_build(
                portal_values_get(account_id=account.pk), trait_map=config.trait_map
            )
            payload = {
                "account_id": account.pk,
                "name": account.name,
                "request": f"PUT /resources/accounts/{account.vitally_account_id}",
                "body": {"traits": traits},
            }
            self.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2))
        self.stdout.write(f"Dry run: {len(account_ids)} payload(s) printed, nothing sent.")

    def _push_one(self, account_id, config, limiter, force, max_attempts):
        """(outcome, message, 429s). Waits out backoff and 429s itself, like a worker would
        between sweeps; a worker holding the account is waited for up to its lease."""
        hits = 0
        attempts = 0
        busy_until = time.monotonic() + config.lease_seconds
        message = ""
        while attempts < max_attempts:
            claim = sync_claim(config=config, account_id=account_id, force=force)
            if claim is None:
                held = AccountSync.objects.filter(
                    pk=account_id, lease_until__gt=timezone.now()
                ).exists()
                if held and time.monotonic() < busy_until:
                    time.sleep(0.2)
                    continue
                return ("busy" if held else Outcome.SKIPPED.value), "", hits
            report = sync_claimed_push(
                claim=claim, config=config, limiter=limiter, max_wait=math.inf, force=force
            )
            message = report.message
            if report.outcome is Outcome.RATE_LIMITED:
                hits += 1
            if report.outcome in FINAL:
                return report.outcome.value, message, hits
            attempts += report.requests
            if report.retry_at is not None:
                time.sleep(max(0.0, (report.retry_at - timezone.now()).total_seconds()))
        return "later", message, hits


class _Progress:
    """A one-line bar on a terminal; a line every 10% otherwise (logs, CI)."""

    def __init__(self, out, total: int):
        self.out, self.total, self.done_count = out, total, 0
        self.tty = hasattr(out, "isatty") and out.isatty()
        self.next_mark = 0.1

    def step(self, counts: Counter) -> None:
        self.done_count += 1
        if not self.total:
            return
        share = self.done_count / self.total
        bar = "#" * int(share * 30)
        line = (
            f"[{bar:<30}] {self.done_count}/{self.total}  pushed {counts['pushed']}  "
            f"failed {counts['failed'] + counts['attention']}"
        )
        if self.tty:
            self.out.write("\r" + line, ending="")
            self.out.flush()
        elif share >= self.next_mark or self.done_count == self.total:
            self.out.write(line)
            while self.next_mark <= share:
                self.next_mark += 0.1

    def done(self) -> None:
        if self.tty and self.total:
            self.out.write("")
