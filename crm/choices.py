"""Choices shared by several apps."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class LeadSource(models.TextChoices):
    WEB = "web", _("Web form")
    CAMPAIGN = "campaign", _("Campaign")
    CALL = "call", _("Inbound call")
    REFERRAL = "referral", _("Referral")
    EVENT = "event", _("Event")
    PARTNER = "partner", _("Partner")
    IMPORT = "import", _("Import")
    OTHER = "other", _("Other")


# Django 6.1's empty-choice label for model-field selects has no Russian or Ukrainian translation
# in Django itself; naming it here puts it in our catalogues (locale/), which Django reads first.
BLANK_CHOICE_LABEL = _("- Select an option -")
