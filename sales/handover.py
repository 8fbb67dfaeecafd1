"""Open deals and open leads move in a hand-over (crm/handover.py); won and lost deals keep the
seller who closed them (they are that person's results)."""

from django.utils.translation import gettext_lazy as _

from crm import handover
from sales.models import Lead, Opportunity

handover.register(handover.Kind(
    key="opportunities", label=_("Open deals"), order=30,
    rows=lambda actor, from_user: Opportunity.objects.editable_by(actor).open().filter(owner=from_user)))
handover.register(handover.Kind(
    key="leads", label=_("Open leads"), order=40,
    rows=lambda actor, from_user: Lead.objects.editable_by(actor).open().filter(owner=from_user)))
