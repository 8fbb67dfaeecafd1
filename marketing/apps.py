from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketingConfig(AppConfig):
    name = "marketing"
    verbose_name = _("Marketing")

    def ready(self):
        from marketing import (
            mailings,  # noqa: F401 - registers its job kind (crm/jobs.py)
            timeline,  # noqa: F401 - its lines on the contact's timeline
        )
        from webhooks import events

        events.register("campaign.created", _("Campaign created"))
        events.register("campaign.updated", _("Campaign updated"))
        events.register("campaign.deleted", _("Campaign deleted"))
