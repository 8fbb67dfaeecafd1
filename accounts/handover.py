"""Accounts move in a hand-over (crm/handover.py)."""

from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from crm import handover

handover.register(handover.Kind(
    key="accounts", label=_("Accounts"), order=10,
    rows=lambda actor, from_user: Account.objects.editable_by(actor).filter(owner=from_user)))
