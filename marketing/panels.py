"""What marketing adds to other modules' record pages (crm/panels.py): the source campaign on a
lead's and a deal's page (with a picker for those who may edit the record), the campaigns a
contact, or an account's people, take part in, and the static lists a contact or a lead is on.
Each panel is one bounded query through `visible_to`, and none shows to a role that reads no
campaigns."""

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Count, Exists, OuterRef, Q, Subquery, Value, Window
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from crm import panels
from crm.visibility import can_create, can_edit, can_read
from marketing.forms import AttributionForm
from marketing.models import (
    BouncedAddress,
    CallList,
    CallStatus,
    Campaign,
    CampaignMember,
    ContactPreference,
    StaticList,
    StaticListMember,
    TopicSubscription,
)

ROWS = 5


def lead_source_probe(request, lead):
    return Campaign.objects.visible_to(request.user).filter(lead_attributions__lead=lead) \
        if can_read(request.user, Campaign) else None


def deal_source_probe(request, deal):
    return Campaign.objects.visible_to(request.user).filter(deal_attributions__opportunity=deal) \
        if can_read(request.user, Campaign) else None


def _source_panel(request, record, campaign_filter: dict, action: str, panel_id: str, *, scripts: bool,
                  found: bool):
    if not can_read(request.user, Campaign):
        return None
    campaign = Campaign.objects.visible_to(request.user).filter(**campaign_filter).only(
        "id", "name", "type", "status", "start_date", "deleted_at").first() if found else None
    editable = can_edit(request.user, record)
    if campaign is None and not editable:
        return None
    form = AttributionForm(initial={"campaign": campaign.pk if campaign else None}, user=request.user,
                           auto_id=f"{panel_id}-%s") if editable else None
    return panels.Rendered("marketing/panels/source_campaign.html", {
        "campaign": campaign, "form": form, "action": action, "panel_id": panel_id,
        # The lead page loads no search-as-you-type script of its own; the deal page does.
        "scripts": scripts and form is not None})


@panels.register("sales.lead", slot=panels.MAIN, order=10, probe=lead_source_probe)
def lead_source_campaign(request, lead, page):
    return _source_panel(request, lead, {"lead_attributions__lead": lead},
                         reverse("marketing:lead_attribution", args=[lead.pk]), "lead-campaign", scripts=True,
                         found=panels.has_rows(page, lead_source_probe))


@panels.register("sales.opportunity", slot=panels.MAIN, order=10, probe=deal_source_probe)
def deal_source_campaign(request, deal, page):
    return _source_panel(request, deal, {"deal_attributions__opportunity": deal},
                         reverse("marketing:deal_attribution", args=[deal.pk]), "deal-campaign", scripts=False,
                         found=panels.has_rows(page, deal_source_probe))


def _contact_memberships(user, contact):
    return CampaignMember.objects.filter(contact=contact, campaign__in=Campaign.objects.visible_to(user))


def contact_campaigns_probe(request, contact):
    return _contact_memberships(request.user, contact) if can_read(request.user, Campaign) else None


@panels.register("contacts.contact", slot=panels.MAIN, order=40, probe=contact_campaigns_probe)
def contact_campaigns(request, contact, page):
    if not can_read(request.user, Campaign) or not panels.has_rows(page, contact_campaigns_probe):
        return None
    rows = list(_contact_memberships(request.user, contact).select_related("campaign")
                .annotate(panel_total=Window(Count("id"))).order_by("-added_at", "-id")[:ROWS])
    if not rows:
        return None
    return panels.Rendered("marketing/panels/contact_campaigns.html", {
        "memberships": rows, "total": rows[0].panel_total, "panel_id": "contact-campaigns"})


def _account_campaigns(user, account):
    return Campaign.objects.visible_to(user).filter(members__contact__account=account,
                                                    members__contact__deleted_at__isnull=True)


def account_campaigns_probe(request, account):
    return _account_campaigns(request.user, account) if can_read(request.user, Campaign) else None


@panels.register("accounts.account", slot=panels.MAIN, order=60, probe=account_campaigns_probe)
def account_campaigns(request, account, page):
    """The campaigns the account's people take part in, with how many of them and how far they got."""
    if not can_read(request.user, Campaign) or not panels.has_rows(page, account_campaigns_probe):
        return None
    rows = list(_account_campaigns(request.user, account)
                .annotate(people=Count("members"), panel_total=Window(Count("id")))
                .order_by("-start_date", "-id")[:ROWS])
    if not rows:
        return None
    return panels.Rendered("marketing/panels/account_campaigns.html", {
        "campaigns": rows, "total": rows[0].panel_total, "panel_id": "account-campaigns"})


def _list_memberships(user, member_filter: dict):
    return StaticListMember.objects.filter(static_list__in=StaticList.objects.visible_to(user), **member_filter)


def contact_lists_probe(request, contact):
    return _list_memberships(request.user, {"contact": contact}) if can_read(request.user, StaticList) else None


def lead_lists_probe(request, lead):
    return _list_memberships(request.user, {"lead": lead}) if can_read(request.user, StaticList) else None


def _static_lists_panel(request, member_filter: dict, panel_id: str, *, found: bool):
    """The static lists the user may see that hold the record (lists they may not see are not named
    nor counted): one query, none when the page's probe found no membership."""
    if not can_read(request.user, StaticList) or not found:
        return None
    rows = list(_list_memberships(request.user, member_filter)
                .select_related("static_list").annotate(panel_total=Window(Count("id")))
                .order_by("-added_at", "-id")[:ROWS])
    if not rows:
        return None
    return panels.Rendered("marketing/panels/contact_lists.html", {
        "memberships": rows, "total": rows[0].panel_total, "panel_id": panel_id})


@panels.register("contacts.contact", slot=panels.MAIN, order=41, probe=contact_lists_probe)
def contact_static_lists(request, contact, page):
    return _static_lists_panel(request, {"contact": contact}, "contact-lists",
                               found=panels.has_rows(page, contact_lists_probe))


@panels.register("sales.lead", slot=panels.MAIN, order=11, probe=lead_lists_probe)
def lead_static_lists(request, lead, page):
    return _static_lists_panel(request, {"lead": lead}, "lead-lists", found=panels.has_rows(page, lead_lists_probe))


def _bounced(email_expression):
    return BouncedAddress.objects.filter(email=Lower(email_expression), suppressed_at__isnull=False)


def contact_preferences_probe(request, contact):
    if not can_read(request.user, Campaign):
        return None
    found = [ContactPreference.objects.filter(contact=contact), TopicSubscription.objects.filter(contact=contact)]
    if contact.emails:
        found.append(_bounced(Value(contact.emails[0])))
    return found


@panels.register("contacts.contact", slot=panels.MAIN, order=42, probe=contact_preferences_probe)
def contact_email_preferences(request, contact, page):
    """What the contact chose on the preference page (language, topics) and whether their address
    bounced for good: one query (none when the probe found nothing of it), shown only when there is
    something to say."""
    if not can_read(request.user, Campaign):
        return None
    row: dict | None = {"chosen_language": None, "topic_names": [], "bounced": False}  # what the query gives then
    if panels.has_rows(page, contact_preferences_probe):
        row = Contact.objects.filter(pk=contact.pk).annotate(
            chosen_language=Subquery(ContactPreference.objects.filter(contact=OuterRef("pk"))
                                     .values("language")[:1]),
            topic_names=ArraySubquery(TopicSubscription.objects.filter(contact=OuterRef("pk"))
                                      .order_by("topic__name").values("topic__name")),
            bounced=Exists(_bounced(OuterRef("emails__0"))),
        ).values("chosen_language", "topic_names", "bounced").first()
    editable = can_edit(request.user, contact)
    if row is None or not (row["chosen_language"] or row["topic_names"] or row["bounced"] or editable):
        return None
    return panels.Rendered("marketing/panels/contact_preferences.html", {
        "language": dict(settings.LANGUAGES).get(row["chosen_language"] or "", ""), "topics": row["topic_names"],
        "bounced": row["bounced"], "panel_id": "contact-email-preferences",
        "change_url": reverse("marketing:contact_topics", args=[contact.pk]) if editable else ""})


@panels.register(panels.HOME, slot=panels.MAIN, order=30)
def my_call_lists(request, user, page):
    """On "my day": the call lists the user is an agent of with people waiting for them (one query)."""
    if not can_read(user, CallList):
        return None
    mine = Q(items__agent=user) | Q(items__agent__isnull=True)
    rows = list(CallList.objects.visible_to(user).filter(agents=user, campaign__deleted_at__isnull=True,
                                                               closed_at__isnull=True)
                .annotate(waiting=Count("items", filter=mine & Q(items__status=CallStatus.QUEUED)),
                          callbacks_due=Count("items", filter=Q(items__agent=user, items__status=CallStatus.CALLBACK,
                                                                items__due_at__lte=timezone.now())))
                .filter(Q(waiting__gt=0) | Q(callbacks_due__gt=0)).order_by("-created_at", "-id")[:ROWS])
    if not rows:
        return None
    return panels.Rendered("marketing/panels/my_call_lists.html", {"call_lists": rows, "panel_id": "my-call-lists"})


@panels.register("sales.product", slot=panels.SIDE, order=10)
def new_product_notice(request, product, page):
    """On a new product's page: announce it to the subscribers of its family's topic (one query)."""
    from marketing.models import Mailing
    from marketing.notices import topics_for

    if not product.is_new or not can_create(request.user, Mailing):
        return None
    return panels.Rendered("marketing/panels/product_notice.html", {
        "product": product, "topics": list(topics_for(product)[:ROWS])})
