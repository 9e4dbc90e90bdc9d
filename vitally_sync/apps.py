from django.apps import AppConfig, apps


class VitallySyncConfig(AppConfig):
    name = "vitally_sync"
    label = "vitally_sync"
    verbose_name = "Vitally sync"

    def ready(self) -> None:
        from django.db.models import QuerySet

        from handoff.accounts.columns import DashboardColumn, register_column
        from handoff.accounts.page_cache import register_page_version_part
        from handoff.accounts.sections import AccountSection, register_section
        from handoff.accounts.signals import account_changed
        from vitally_sync import checks  # noqa: F401  (registers the settings check)
        from vitally_sync.receivers import account_changed_kick
        from vitally_sync.selectors import sync_fingerprint
        from vitally_sync.views import panel_context

        account_changed.connect(account_changed_kick, dispatch_uid="vitally_sync.kick")

        def with_sync_state(queryset: QuerySet) -> QuerySet:
            return queryset.select_related("vitally_sync")  # the badge, in the same query

        register_column(
            DashboardColumn(
                key="vitally",
                title="Vitally",
                template="vitally_sync/_badge.html",
                prepare=with_sync_state,
                order=900,
                on_account_page=True,
            )
        )
        # The handoff page's attention strip shows a failed or retrying push.
        if apps.is_installed("handoff.closeout"):
            from handoff.closeout.attention import register_attention_provider
            from vitally_sync.differences import differences_prefetch
            from vitally_sync.handoff import vitally_attention_items, vitally_difference_items

            register_attention_provider("vitally", vitally_attention_items, order=900)
            # "Differs in Vitally": the handoff load prefetches the differences (one query),
            # which the account page's Vitally panel reads as well.
            register_attention_provider(
                "vitally_differences",
                vitally_difference_items,
                order=910,
                prefetch=(differences_prefetch(),),
            )
        # The panel and badge show the sync row, which pushes change without the account's
        # change_version: cached account pages are keyed on it too.
        register_page_version_part("vitally_sync", sync_fingerprint)
        register_section(
            AccountSection(
                key="vitally",
                title="Vitally",
                template="vitally_sync/_panel.html",
                get_context=panel_context,
                order=900,
            )
        )
