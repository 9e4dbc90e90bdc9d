from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "handoff.audit"
    label = "audit"
    verbose_name = "Audit trail"
