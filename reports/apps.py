from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    def ready(self):
        # The my-day panel, the scheduler sources, the dashboards one can have by e-mail (a dashboard of another
        # module registers itself in reports.subscribable when its module is imported: import it here too).
        from reports import aggregates, panels, ranking, scheduling, subscribable  # noqa: F401
