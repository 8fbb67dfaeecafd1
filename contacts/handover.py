"""Contacts move in a hand-over (crm/handover.py)."""

from django.utils.translation import gettext_lazy as _

from contacts.models import Contact
from crm import handover

handover.register(handover.Kind(
    key="contacts", label=_("Contacts"), order=20,
    rows=lambda actor, from_user: Contact.objects.editable_by(actor).filter(owner=from_user)))
