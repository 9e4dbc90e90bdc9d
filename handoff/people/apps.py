from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "handoff.people"
    label = "people"
    verbose_name = "People and roles"

    def ready(self):
        from handoff.people import signals  # noqa: F401  (connects the failed sign-in log)
