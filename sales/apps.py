from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "sales"
    verbose_name = _("Sales")

    def ready(self):
        from sales import (
            billing_notices,  # noqa: F401 - registers the overdue-invoice scheduler source
            quote_services,  # noqa: F401 - registers the quote-expiry scheduler source
        )
        from webhooks.events import register

        for name, label in [
            ("lead.created", _("Lead created")),
            ("lead.updated", _("Lead updated")),
            ("lead.converted", _("Lead converted")),
            ("lead.deleted", _("Lead deleted")),
            ("opportunity.created", _("Opportunity created")),
            ("opportunity.updated", _("Opportunity updated")),
            ("opportunity.stage_changed", _("Opportunity moved to another stage")),
            ("opportunity.won", _("Opportunity won")),
            ("opportunity.lost", _("Opportunity lost")),
            ("opportunity.deleted", _("Opportunity deleted")),
            ("quote.created", _("Quote created")),
            ("quote.sent", _("Quote sent")),
            ("quote.accepted", _("Quote accepted")),
            ("quote.rejected", _("Quote rejected")),
            ("order.created", _("Order created")),
            ("order.updated", _("Order status changed")),
            ("invoice.created", _("Invoice issued")),
            ("invoice.paid", _("Invoice paid in full")),
            ("payment.recorded", _("Payment recorded")),
        ]:
            register(name, label)
