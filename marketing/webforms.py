"""Web-to-lead: public forms an admin builds; each submission becomes a lead in the form's queue,
with the source "web form" and the form's campaign.

- The public address carries the form key: the form id signed with its own salt, so forms cannot be
  enumerated by counting ids, and a forged or altered key answers 404 (as does an inactive form).
- A honeypot field (hidden from people, filled by robots): the robot is thanked as usual and nothing is
  created.
- At most WEBFORM_PER_IP_PER_HOUR submissions per IP address and hour, across all forms (counted in
  `WebFormSubmission`, which records every POST with its outcome): the next gets a clear message and
  creates nothing.
- Embedding (`/marketing/f/<key>/embed/`): the one route that may be framed by other sites: no
  `X-Frame-Options`, and CSP `frame-ancestors` the form's listed sites (or any https/http site when
  none is listed); every other page keeps `DENY` / `'none'`. It takes no CSRF token: a cross-site
  frame (or a plain form on the customer's site) carries no CRM cookie, and the route acts for nobody
  signed in; the honeypot and the per-IP limit still apply. The page tells its parent its height
  (postMessage) so the snippet's frame grows with it.
- The consent checkbox, when the form has a wording, must be ticked; the lead's notes record the wording
  and the time it was given.
- A returning person (`find_match`): a submission whose e-mail (case-insensitive) or phone (normalised
  to E.164, as leads and contacts store it) is that of a contact or an open lead the form's creator can
  see is added to that record instead of creating a lead: a note on its timeline with what was sent, a
  notification to its owner, the consent granted on a contact (never withdrawn), and the submission
  marked "matched". Several matches: a contact before a lead, then the most recently updated. The
  visitor sees the same thank-you either way, so the form tells nobody who is already known.
"""

from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pghistory
from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from activities.models import ActivityKind, Direction
from activities.services import activity_create
from contacts.models import Contact
from crm import notifications
from crm.choices import LeadSource
from crm.models import NotificationKind
from crm.phones import phone_candidates, phone_region, search_regions
from crm.signed import signed_id
from marketing.models import LeadAttribution, WebForm, WebFormSubmission
from marketing.subscriptions import receives_email
from sales.lead_services import lead_create, lead_update
from sales.models import Lead

SALT = "marketing.webform"
OPTIONAL_FIELDS = ("title", "company", "phone", "city", "country", "message")
MAX_EMBED_ORIGINS = 20


def normalise_origin(text: str) -> str | None:
    """`https://www.example.com` (scheme, host, optional port) from what an admin typed; None for anything
    else (a path, a query, a wildcard, quotes or spaces could widen or break the CSP header)."""
    text = text.strip().rstrip("/")
    if len(text) > 200 or any(ch in text for ch in " ;,'\"*\\"):
        return None
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.path or parts.query or parts.fragment:
        return None
    if parts.username or parts.password:
        return None
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def frame_ancestors(form: WebForm) -> list[str]:
    """Who may frame the embedded form: its listed sites, else any web site."""
    return ["'self'", *form.embed_origin_list()] if form.embed_origins.strip() else ["'self'", "https:", "http:"]


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


SUBMITTED_AGAIN = notifications.message("webform.matched", gettext_lazy(
    "%(name)s sent the web form “%(form)s” again: it is on their timeline."))
FIELDS = ("first_name", "last_name", "email", "title", "company", "phone", "city", "country")


def _consent_line(form: WebForm, data: dict) -> str:
    if not (form.consent_wording and data.get("consent")):
        return ""
    stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M %Z")
    return _("Consent given on the web form “%(form)s” at %(time)s: %(wording)s") % {
        "form": form.name, "time": stamp, "wording": form.consent_wording}


def find_match(form: WebForm, data: dict) -> Contact | Lead | None:
    """The contact, else the open lead, the form's creator can see with the submitted e-mail (any case) or
    phone (read in the submitted country's region, then the search regions, as E.164); the most recently
    updated when several. Two indexed queries at most."""
    email = (data.get("email") or "").strip().lower()
    raw_phone = (data.get("phone") or "").strip()
    numbers = phone_candidates(raw_phone, [phone_region(form.created_by, data.get("country")),
                                           *search_regions(form.created_by)]) if raw_phone else []
    if not email and not numbers:
        return None
    contacts = Q(emails__contains=[email]) if email else Q()
    leads = Q(email__iexact=email) if email else Q()
    if numbers:
        contacts |= Q(phones__overlap=numbers)
        leads |= Q(phone_e164__in=numbers)
    contact = (Contact.objects.visible_to(form.created_by).alive().filter(contacts)
               .select_related("owner").order_by("-updated_at", "-id").first())
    if contact is not None:
        return contact
    return (Lead.objects.visible_to(form.created_by).alive().open().filter(leads)
            .select_related("owner").order_by("-updated_at", "-id").first())


def _summary(form: WebForm, data: dict, consent: str) -> str:
    labels = plain_labels()
    lines = [f"{labels[name]}: {data[name]}" for name in (*FIELDS, "message") if data.get(name)]
    return "\n".join([*lines, *([consent] if consent else [])])


def _add_to(record: Contact | Lead, *, form: WebForm, data: dict, ip: str | None) -> None:
    """A returning person: a note on the record's timeline, its owner told, the consent granted (never
    withdrawn: an unticked box changes nothing)."""
    consent = _consent_line(form, data)  # in the form's language, as on a new lead's notes
    is_contact = isinstance(record, Contact)
    owner = record.owner or form.created_by  # a lead waiting in its queue has no owner yet
    link = {"contact": record, "account_id": record.account_id} if is_contact else {"lead": record}
    with translation.override(owner.language or settings.LANGUAGE_CODE):  # the note is for the owner to read
        activity_create(actor=owner, owner=owner, kind=ActivityKind.NOTE, direction=Direction.INBOUND,
                        subject=(_("Web form “%(form)s” sent again") % {"form": form.name})[:200],
                        body=_summary(form, data, consent), **link)
    if is_contact and consent and not receives_email(record):
        now = timezone.now()
        with pghistory.context(source="webform", webform=form.pk):
            Contact.objects.filter(pk=record.pk).update(
                email_opt_in=True, email_opt_in_at=now, email_opted_out_at=None, updated_at=now,
                email_opt_in_source=(_("Web form “%(form)s”") % {"form": form.name})[:200],
                email_opt_in_wording=form.consent_wording)
    elif not is_contact and consent:
        with pghistory.context(source="webform", webform=form.pk):
            lead_update(lead=record, actor=owner, description=(record.description + "\n\n" + consent).strip())
    if record.owner_id:
        notifications.notify(user=record.owner, kind=NotificationKind.ALERT, message=SUBMITTED_AGAIN,
                             url=record.get_absolute_url(), params={"name": str(record), "form": form.name})
    WebFormSubmission.objects.create(form=form, ip=ip, outcome=WebFormSubmission.Outcome.MATCHED,
                                     contact=record if is_contact else None, lead=None if is_contact else record)


@transaction.atomic
def submit(*, form: WebForm, ip: str | None, data: dict) -> Contact | Lead:
    """Adds the submission to the person's contact or open lead when there is one (`find_match`), else
    creates the lead (in the form's queue, distributed by the assignment rules) and attributes it."""
    match = find_match(form, data)
    if match is not None:
        _add_to(match, form=form, data=data, ip=ip)
        return match
    notes = data.get("message", "")
    consent = _consent_line(form, data)
    if consent:
        notes = (notes + "\n\n" if notes else "") + consent
    fields = {name: data.get(name, "") for name in FIELDS}
    lead = lead_create(actor=form.created_by, owner=None, team=form.team or form.created_by.team,
                       source=LeadSource.WEB, description=notes, **fields)
    if form.campaign_id:
        LeadAttribution.objects.create(lead=lead, campaign_id=form.campaign_id)
    WebFormSubmission.objects.create(form=form, ip=ip, outcome=WebFormSubmission.Outcome.LEAD, lead=lead)
    return lead


def snippets(form: WebForm, site_root: str) -> dict[str, str]:
    """The HTML an admin pastes into the company's site: a frame of the embedded form that grows with its
    content (the page posts its height; the listener trusts only messages from the CRM's own origin), and
    a plain form posting to the same address for sites that prefer their own styling."""
    root = site_root.rstrip("/")
    parts = urlsplit(root)
    origin = f"{parts.scheme}://{parts.netloc}"
    url = root + reverse("marketing:webform_embed", args=[form_key(form.pk)])
    frame_id = f"crm-webform-{form.pk}"
    iframe = format_html(
        '<iframe id="{}" src="{}" title="{}" style="width:100%;max-width:640px;min-height:420px;border:0" '
        'loading="lazy"></iframe>\n'
        "<script>\n"
        'window.addEventListener("message", function (event) {{\n'
        '  if (event.origin !== "{}" || !event.data || event.data.crmWebform !== "{}") return;\n'
        '  document.getElementById("{}").style.height = event.data.height + "px";\n'
        "}});\n"
        "</script>", frame_id, url, form.name, origin, frame_id, frame_id)
    with translation.override(form.language):
        labels = plain_labels()
        rows = [("first_name", labels["first_name"], "text", False), ("last_name", labels["last_name"], "text", True),
                ("email", labels["email"], "email", True)]
        rows += [(name, labels[name], "text", False) for name in OPTIONAL_FIELDS if name in form.fields]
        lines = [format_html('<form method="post" action="{}" accept-charset="utf-8">', url)]
        for name, label, kind, required in rows:
            tag = ("<textarea name=\"{}\" id=\"{}\" maxlength=\"5000\"></textarea>" if name == "message"
                   else '<input type="' + kind + '" name="{}" id="{}"' + (" required" if required else "") + ">")
            lines.append(format_html('  <p><label for="{}">{}</label><br>' + tag + "</p>",
                                     f"crm-{name}", label, name, f"crm-{name}"))
        if form.consent_wording:
            lines.append(format_html('  <p><label><input type="checkbox" name="consent" required> {}</label></p>',
                                     form.consent_wording))
        lines.append('  <p style="position:absolute;left:-10000px" aria-hidden="true">'
                     '<input type="text" name="website" tabindex="-1" autocomplete="off"></p>')
        lines.append(format_html('  <p><button type="submit">{}</button></p>', labels["send"]))
        lines.append("</form>")
    return {"iframe": str(iframe), "form": "\n".join(str(line) for line in lines), "url": url}


def plain_labels() -> dict[str, str]:
    """The plain form's labels, read in the form's language."""
    return {"first_name": _("First name"), "last_name": _("Last name"), "email": _("E-mail"),
            "title": _("Job title"), "company": _("Company"), "phone": _("Phone"), "city": _("City"),
            "country": _("Country"), "message": _("Message"), "send": _("Send")}
