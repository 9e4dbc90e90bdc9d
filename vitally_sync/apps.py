from django.apps import AppConfig


class VitallySyncConfig(AppConfig):
    name = "vitally_sync"
    label = "vitally_sync"
    verbose_name = "Vitally sync"

    def ready(self) -> None:
        from handoff import registry
        from handoff.accounts.signals import account_changed
        from vitally_sync import checks  # noqa: F401  (registers the settings check)
        from vitally_sync.contribution import VITALLY
        from vitally_sync.receivers import account_changed_kick

        account_changed.connect(account_changed_kick, dispatch_uid="vitally_sync.kick")
        registry.register(VITALLY)
        self._connect_notes()
        self._ready_mirror()

    def _connect_notes(self) -> None:
        """Implementation notes and sign-offs as Vitally notes (issue 16, item 4): the intent
        is written in the transaction of their save."""
        from django.apps import apps
        from django.core.checks import register
        from django.db.models.signals import post_save

        from vitally_sync.notes import journal_entry_saved, note_categories_check, sign_off_saved

        if apps.is_installed("logs"):
            register(note_categories_check)
            post_save.connect(
                journal_entry_saved, sender="logs.JournalEntry", dispatch_uid="vitally_sync.note"
            )
        if apps.is_installed("handoff.closeout"):
            post_save.connect(
                sign_off_saved, sender="closeout.SignOff", dispatch_uid="vitally_sync.sign_off"
            )

    def _ready_mirror(self) -> None:
        """The accounts mirror: a link checks and records what Vitally already holds."""
        from handoff.accounts.signals import account_linking
        from vitally_sync.linking import account_linking_check

        account_linking.connect(account_linking_check, dispatch_uid="vitally_sync.linking")
