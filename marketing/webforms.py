"""Web-to-lead: public forms an admin builds; each submission becomes a lead in the form's queue,
with the source "web form" and the form's campaign.

- The public address carries the form key: the form id signed with its own salt, so forms cannot be
  enumerated by counting ids, and a forged or altered key answers 404 (as does an inactive form).
- A honeypot field (hidden from people, filled by robots): the robot is thanked as usual and nothing is
  created.
- At most WEBFORM_PER_IP_PER_HOUR submissions per IP address and hour, across all forms (counted in
  `WebFormSubmission`, which records every POST with its outcome): the next gets a clear message and
  creates nothing.
- The consent checkbox, when the form has a wording, must be ticked; the lead's notes record the wording
  and the time it was given.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.choices import LeadSource
from crm.signed import signed_id
from marketing.models import LeadAttribution, WebForm, WebFormSubmission
from sales.lead_services import lead_create
from sales.models import Lead

SALT = "marketing.webform"
OPTIONAL_FIELDS = ("title", "company", "phone", "city", "country", "message")


def form_key(form_id: int) -> str:
    return signing.dumps(form_id, salt=SALT)


def form_for_key(key: str) -> WebForm | None:
    form_id = signed_id(key, SALT)
    if form_id is None:
        return None
    return WebForm.objects.select_related("campaign", "created_by", "team").filter(pk=form_id, is_active=True).first()


def over_limit(ip: str | None, now: datetime | None = None) -> bool:
    if not ip:
        return False
    now = now or timezone.now()
    recent = WebFormSubmission.objects.filter(ip=ip, created_at__gt=now - timedelta(hours=1)).count()
    return recent >= settings.WEBFORM_PER_IP_PER_HOUR


def record_refusal(form: WebForm, ip: str | None, outcome: str) -> None:
    WebFormSubmission.objects.create(form=form, ip=ip, outcome=outcome)


@transaction.atomic
def submit(*, form: WebForm, ip: str | None, data: dict) -> Lead:
    """Creates the lead (in the form's queue, distributed by the assignment rules) and attributes it."""
    notes = data.get("message", "")
    if form.consent_wording and data.get("consent"):
        stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M %Z")
        notes = (notes + "\n\n" if notes else "") + _("Consent given on the web form “%(form)s” at %(time)s: "
                                                       "%(wording)s") % {"form": form.name, "time": stamp,
                                                                         "wording": form.consent_wording}
    fields = {name: data.get(name, "") for name in ("first_name", "last_name", "email", "title", "company",
                                                      "phone", "city", "country")}
    lead = lead_create(actor=form.created_by, owner=None, team=form.team or form.created_by.team,
                       source=LeadSource.WEB, description=notes, **fields)
    if form.campaign_id:
        LeadAttribution.objects.create(lead=lead, campaign_id=form.campaign_id)
    WebFormSubmission.objects.create(form=form, ip=ip, outcome=WebFormSubmission.Outcome.LEAD, lead=lead)
    return lead
