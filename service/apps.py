from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "service"
    verbose_name = _("Service")

    def ready(self):
        from crm.models import register_custom_field_target
        from service import contract_services, imap, inbound, mail, sla_clock  # noqa: F401 - their scheduler sources
        from webhooks.events import register

        register_custom_field_target("service.ticket", _("Tickets"))

        for name, label in [
            ("ticket.created", _("Ticket created")),
            ("ticket.updated", _("Ticket updated")),
            ("ticket.resolved", _("Ticket resolved")),
            ("ticket.deleted", _("Ticket deleted")),
            ("article.created", _("Knowledge-base article created")),
            ("article.published", _("Knowledge-base article published")),
            ("article.updated", _("Knowledge-base article updated")),
            ("article.deleted", _("Knowledge-base article deleted")),
            ("contract.created", _("Contract or warranty created")),
            ("contract.updated", _("Contract or warranty updated")),
            ("contract.expiring", _("Contract or warranty about to end")),
            ("contract.deleted", _("Contract or warranty deleted")),
            ("work_order.created", _("Work order created")),
            ("work_order.scheduled", _("Work order dispatched to a specialist")),
            ("work_order.started", _("Work order started")),
            ("work_order.completed", _("Work order done")),
            ("work_order.cancelled", _("Work order cancelled")),
            ("work_order.billed", _("Work order billed")),
        ]:
            register(name, label)
