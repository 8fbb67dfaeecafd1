from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("CRM core")

    def ready(self):
        from django.utils.module_loading import autodiscover_modules

        from crm import reminders, signals  # noqa: F401 - connect receivers, register the scheduler source

        # Each module registers its search providers (crm/search.py) and the duplicate checks
        # of its forms (crm/duplicates.py) from these files of its own.
        autodiscover_modules("search", "duplicates")
