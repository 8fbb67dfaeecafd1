"""What marketing adds to other modules' record pages (crm/panels.py): the source campaign on a
lead's and a deal's page (with a picker for those who may edit the record), the campaigns a
contact, or an account's people, take part in, and the static lists a contact or a lead is on.
Each panel is one bounded query through `visible_to`, and none shows to a role that reads no
campaigns."""

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Count, Exists, OuterRef, Q, Subquery, Window
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


def _source_panel(request, record, campaign_filter: dict, action: str, panel_id: str, *, scripts: bool):
    if not can_read(request.user, Campaign):
        return None
    campaign = Campaign.objects.visible_to(request.user).filter(**campaign_filter).only(
        "id", "name", "type", "status", "start_date", "deleted_at").first()
    editable = can_edit(request.user, record)
    if campaign is None and not editable:
        return None
    form = AttributionForm(initial={"campaign": campaign.pk if campaign else None}, user=request.user,
                           auto_id=f"{panel_id}-%s") if editable else None
    return panels.Rendered("marketing/panels/source_campaign.html", {
        "campaign": campaign, "form": form, "action": action, "panel_id": panel_id,
        # The lead page loads no search-as-you-type script of its own; the deal page does.
        "scripts": scripts and form is not None})


@panels.register("sales.lead", slot=panels.MAIN, order=10)
def lead_source_campaign(request, lead, page):
    return _source_panel(request, lead, {"lead_attributions__lead": lead},
                         reverse("marketing:lead_attribution", args=[lead.pk]), "lead-campaign", scripts=True)


@panels.register("sales.opportunity", slot=panels.MAIN, order=10)
def deal_source_campaign(request, deal, page):
    return _source_panel(request, deal, {"deal_attributions__opportunity": deal},
                         reverse("marketing:deal_attribution", args=[deal.pk]), "deal-campaign", scripts=False)


@panels.register("contacts.contact", slot=panels.MAIN, order=40)
def contact_campaigns(request, contact, page):
    if not can_read(request.user, Campaign):
        return None
    visible = Campaign.objects.visible_to(request.user)
    rows = list(CampaignMember.objects.filter(contact=contact, campaign__in=visible).select_related("campaign")
                .annotate(panel_total=Window(Count("id"))).order_by("-added_at", "-id")[:ROWS])
    if not rows:
        return None
    return panels.Rendered("marketing/panels/contact_campaigns.html", {
        "memberships": rows, "total": rows[0].panel_total, "panel_id": "contact-campaigns"})


@panels.register("accounts.account", slot=panels.MAIN, order=60)
def account_campaigns(request, account, page):
    """The campaigns the account's people take part in, with how many of them and how far they got."""
    if not can_read(request.user, Campaign):
        return None
    rows = list(Campaign.objects.visible_to(request.user).filter(members__contact__account=account,
                                                                 members__contact__deleted_at__isnull=True)
                .annotate(people=Count("members"), panel_total=Window(Count("id")))
                .order_by("-start_date", "-id")[:ROWS])
    if not rows:
        return None
    return panels.Rendered("marketing/panels/account_campaigns.html", {
        "campaigns": rows, "total": rows[0].panel_total, "panel_id": "account-campaigns"})


def _static_lists_panel(request, member_filter: dict, panel_id: str):
    """The static lists the user may see that hold the record (lists they may not see are not named
    nor counted): one query."""
    if not can_read(request.user, StaticList):
        return None
    visible = StaticList.objects.visible_to(request.user)
    rows = list(StaticListMember.objects.filter(static_list__in=visible, **member_filter)
                .select_related("static_list").annotate(panel_total=Window(Count("id")))
                .order_by("-added_at", "-id")[:ROWS])
    if not rows:
        return None
    return panels.Rendered("marketing/panels/contact_lists.html", {
        "memberships": rows, "total": rows[0].panel_total, "panel_id": panel_id})


@panels.register("contacts.contact", slot=panels.MAIN, order=41)
def contact_static_lists(request, contact, page):
    return _static_lists_panel(request, {"contact": contact}, "contact-lists")


@panels.register("sales.lead", slot=panels.MAIN, order=11)
def lead_static_lists(request, lead, page):
    return _static_lists_panel(request, {"lead": lead}, "lead-lists")


@panels.register("contacts.contact", slot=panels.MAIN, order=42)
def contact_email_preferences(request, contact, page):
    """What the contact chose on the preference page (language, topics) and whether their address
    bounced for good: one query, shown only when there is something to say."""
    if not can_read(request.user, Campaign):
        return None
    row = Contact.objects.filter(pk=contact.pk).annotate(
        chosen_language=Subquery(ContactPreference.objects.filter(contact=OuterRef("pk")).values("language")[:1]),
        topic_names=ArraySubquery(TopicSubscription.objects.filter(contact=OuterRef("pk"))
                                  .order_by("topic__name").values("topic__name")),
        bounced=Exists(BouncedAddress.objects.filter(email=Lower(OuterRef("emails__0")),
                                                     suppressed_at__isnull=False)),
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
