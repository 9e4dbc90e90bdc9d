from django.apps import AppConfig


class VitallySyncConfig(AppConfig):
    name = "vitally_sync"
    label = "vitally_sync"
    verbose_name = "Vitally sync"

    def ready(self) -> None:
        from handoff import registry
        from handoff.accounts.page_cache import register_page_version_part
        from handoff.accounts.signals import account_changed
        from vitally_sync import checks  # noqa: F401  (registers the settings check)
        from vitally_sync.contribution import VITALLY
        from vitally_sync.receivers import account_changed_kick
        from vitally_sync.selectors import sync_fingerprint

        account_changed.connect(account_changed_kick, dispatch_uid="vitally_sync.kick")
        registry.register(VITALLY)
        # The panel and badge show the sync row, which pushes change without the account's
        # change_version: cached account pages are keyed on it too.
        register_page_version_part("vitally_sync", sync_fingerprint)
