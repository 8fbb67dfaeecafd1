"""An agent's open tickets and visits move in a hand-over (crm/handover.py); solved ones stay with who
solved them."""

from django.utils.translation import gettext_lazy as _

from crm import handover
from service.models import ACTIVE_STATUSES, OPEN_WORK_ORDER_STATUSES, Contract, Ticket, WorkOrder

handover.register(handover.Kind(
    key="tickets", label=_("Open tickets"), order=40,
    rows=lambda actor, from_user: Ticket.objects.editable_by(actor).filter(owner=from_user,
                                                                           status__in=ACTIVE_STATUSES)))

handover.register(handover.Kind(
    key="contracts", label=_("Contracts and warranties"), order=45,
    rows=lambda actor, from_user: Contract.objects.editable_by(actor).filter(owner=from_user)))

handover.register(handover.Kind(
    key="work_orders", label=_("Open work orders (visits)"), order=46,
    rows=lambda actor, from_user: WorkOrder.objects.editable_by(actor).filter(owner=from_user,
                                                                              status__in=OPEN_WORK_ORDER_STATUSES)))
