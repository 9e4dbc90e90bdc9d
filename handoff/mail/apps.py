from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "handoff.mail"
    label = "mail"
    verbose_name = "E-mail"
