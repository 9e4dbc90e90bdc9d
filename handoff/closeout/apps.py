from django.apps import AppConfig


class CloseoutConfig(AppConfig):
    name = "handoff.closeout"
    label = "closeout"
    verbose_name = "Closeout and handoff"

    def ready(self) -> None:
        # The core's own contributions to the registries that deployments, logs and
        # vitally_sync also fill (readiness rules, attention items, snapshot sections, the
        # account-page section).
        from handoff.accounts.sections import register_account_page_loader
        from handoff.closeout import contributions
        from handoff.closeout.selectors import account_page_get

        contributions.register_all()
        # The account page loads its account as the handoff page does: one prefetch that every
        # section (and readiness) reads.
        register_account_page_loader(account_page_get)
