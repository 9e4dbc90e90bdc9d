from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "handoff.people"
    label = "people"
    verbose_name = "People and roles"
