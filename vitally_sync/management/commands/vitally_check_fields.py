import math

from django.core.management.base import BaseCommand, CommandError

from vitally_sync.conf import sync_config
from vitally_sync.limiter import acquire, limiter_get
from vitally_sync.payloads import trait_field_get
from vitally_sync.services import client_get


class Command(BaseCommand):
    help = (
        "Compare the trait keys the portal pushes (VITALLY_TRAIT_MAP applied) with Vitally's "
        "custom fields (GET /resources/customFields?model=accounts); exit 1 when some are missing."
    )

    def handle(self, *args, **options):
        config = sync_config()
        if not config.enabled:
            raise CommandError(
                config.error
                or "The Vitally sync is not configured: set VITALLY_BASE_URL and VITALLY_API_KEY."
            )
        limiter = limiter_get(config.redis_url)
        acquire(limiter, per_minute=config.rate_limit_per_minute, max_wait=math.inf)
        result = client_get(config).custom_fields(model="accounts")
        if not result.ok or not isinstance(result.body, list):
            raise CommandError(f"Could not read Vitally's custom fields: {result.message}")
        known = {f.get("path"): f for f in result.body if isinstance(f, dict)}
        missing = []
        for name, key in config.trait_map.items():
            label = trait_field_get(name).label
            if key in known:
                kind = known[key].get("type")
                self.stdout.write(f"  ok       {key}  ({label}; Vitally type {kind})")
            else:
                missing.append(key)
                self.stdout.write(self.style.ERROR(f"  MISSING  {key}  ({label})"))
        if missing:
            raise CommandError(
                f"{len(missing)} of {len(config.trait_map)} mapped trait keys do not exist in "
                "Vitally: create them in Settings → Traits, or map the fields elsewhere with "
                "VITALLY_TRAIT_MAP."
            )
        self.stdout.write(
            self.style.SUCCESS(f"All {len(config.trait_map)} mapped trait keys exist in Vitally.")
        )
