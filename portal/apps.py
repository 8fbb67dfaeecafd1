from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Customer portal and surveys")

    def ready(self):
        # The survey subscriber (hooks), the panels on the desk's pages and the survey e-mail sweep
        # register on import.
        from portal import hooks, mail, panels  # noqa: F401
        from webhooks.events import register

        register("survey.answered", _("Satisfaction survey answered"))
