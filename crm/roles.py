from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    SALES_MANAGER = "sales_manager", _("Sales manager")
    SALES_REP = "sales_rep", _("Sales rep")
    SUPPORT_LEAD = "support_lead", _("Support lead")
    SUPPORT_AGENT = "support_agent", _("Support agent")
    MARKETER = "marketer", _("Marketer")
    EXECUTIVE = "executive", _("Executive")
