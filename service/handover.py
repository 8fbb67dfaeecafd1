"""An agent's open tickets move in a hand-over (crm/handover.py); solved ones stay with who solved them."""

from django.utils.translation import gettext_lazy as _

from crm import handover
from service.models import ACTIVE_STATUSES, Contract, Ticket

handover.register(handover.Kind(
    key="tickets", label=_("Open tickets"), order=40,
    rows=lambda actor, from_user: Ticket.objects.editable_by(actor).filter(owner=from_user,
                                                                           status__in=ACTIVE_STATUSES)))

handover.register(handover.Kind(
    key="contracts", label=_("Contracts and warranties"), order=45,
    rows=lambda actor, from_user: Contract.objects.editable_by(actor).filter(owner=from_user)))
