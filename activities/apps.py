from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "activities"
    verbose_name = _("Activities")

    def ready(self):
        from activities import archive, reminders  # noqa: F401 - register the scheduler sources (archive, reminders)
        from webhooks.events import register

        register("activity.created", _("Activity logged"))
