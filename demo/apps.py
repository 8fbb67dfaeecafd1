from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """Demo data (`seed_demo`), benchmark data (`seed`) and the page benchmark (`bench`): they
    load every module, so they live above all of them; nothing imports this app."""

    name = "demo"
    verbose_name = _("Demo and benchmark data")
