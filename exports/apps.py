from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExportsConfig(AppConfig):
    name = "exports"
    verbose_name = _("Exports")

    def ready(self):
        # Each app registers its lists' exporters in its own `exporters.py` (accounts/exporters.py…).
        from django.utils.module_loading import autodiscover_modules

        from exports import services  # noqa: F401 - registers its job kind (crm/jobs.py) and scheduler source

        autodiscover_modules("exporters")
