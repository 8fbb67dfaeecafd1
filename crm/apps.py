from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("CRM core")

    def ready(self):
        from crm import reminders, signals  # noqa: F401 - connect receivers, register the scheduler source

        # Activities' webhook event, registered here until activities move to their own app.
        from webhooks.events import register

        register("activity.created", _("Activity logged"))
