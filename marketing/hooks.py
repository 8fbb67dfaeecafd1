"""What marketing does when lower modules' records change (crm/hooks.py)."""

from django.utils import timezone

from crm import hooks
from marketing.models import (
    BouncedAddress,
    CallListItem,
    CampaignMember,
    ContactPreference,
    DealAttribution,
    Delivery,
    LeadAttribution,
    MemberStatus,
    StaticListMember,
    TopicSubscription,
)
from marketing.services import static_list_carry_lead_over


@hooks.subscribe(hooks.LEAD_CONVERTED)
def carry_campaign_over(*, lead, contact, opportunity, **_kwargs) -> None:
    """A converted lead's source campaign becomes its deal's, and the new contact counts as a
    converted member of the campaign."""
    campaign_id = LeadAttribution.objects.filter(lead=lead).values_list("campaign_id", flat=True).first()
    if campaign_id is None:
        return
    now = timezone.now()
    if opportunity is not None:
        DealAttribution.objects.update_or_create(opportunity=opportunity,
                                                 defaults={"campaign_id": campaign_id, "attributed_at": now})
    if contact is not None:
        member, created = CampaignMember.objects.get_or_create(
            campaign_id=campaign_id, contact=contact,
            defaults={"status": MemberStatus.CONVERTED, "added_at": now, "status_changed_at": now})
        if not created and member.status != MemberStatus.CONVERTED:
            member.status, member.status_changed_at = MemberStatus.CONVERTED, now
            member.save(update_fields=["status", "status_changed_at"])


@hooks.subscribe(hooks.LEAD_CONVERTED)
def carry_lists_over(*, lead, contact, **_kwargs) -> None:
    """The lists a converted lead was on now hold the contact it became."""
    if contact is not None:
        static_list_carry_lead_over(lead=lead, contact=contact)


@hooks.subscribe(hooks.LEAD_CONVERTED)
def carry_calls_over(*, lead, contact, **_kwargs) -> None:
    """A converted lead's call-list entries call the contact it became (a list that already has the contact
    keeps that entry; the lead's, now converted, is handed out no more)."""
    if contact is not None:
        CallListItem.objects.filter(lead_called=lead).exclude(
            call_list__in=CallListItem.objects.filter(contact=contact).values("call_list")).update(
            lead_called=None, contact=contact)


@hooks.subscribe(hooks.CONTACT_PERSONAL_DATA)
def contact_memberships(*, contact, **_kwargs) -> dict:
    return {"campaign_memberships": [
        {"campaign": m.campaign.name, "status": m.status, "added": m.added_at, "status_changed": m.status_changed_at}
        for m in CampaignMember.objects.filter(contact=contact).select_related("campaign").order_by("added_at", "id")
    ]}


def _addresses(contact) -> list[str]:
    return sorted({address.strip().lower() for address in contact.emails if address})


@hooks.subscribe(hooks.CONTACT_PERSONAL_DATA)
def contact_marketing(*, contact, **_kwargs) -> dict:
    """What marketing keeps about the person: lists, e-mail choices, every marketing message with what
    became of it, the calls of call lists, and bounces of their addresses."""
    preference = ContactPreference.objects.filter(contact=contact).first()
    return {
        "static_lists": [
            {"list": m.static_list.name, "added": m.added_at}
            for m in StaticListMember.objects.filter(contact=contact).select_related("static_list").order_by("id")],
        "email_language": preference.language if preference else "",
        "topic_subscriptions": [
            {"topic": s.topic.name, "since": s.subscribed_at, "source": s.source}
            for s in TopicSubscription.objects.filter(contact=contact).select_related("topic").order_by("id")],
        "marketing_email": [
            {"subject": d.mailing.subject, "address": d.email, "language": d.language, "status": d.status,
             "reason": d.reason, "sent": d.sent_at, "opened": d.opened_at, "clicked": d.clicked_at,
             "unsubscribed": d.unsubscribed_at, "bounce": d.bounce, "bounced": d.bounced_at}
            for d in Delivery.objects.filter(contact=contact).select_related("mailing").order_by("id")],
        "call_lists": [
            {"list": i.call_list.name, "campaign": i.call_list.campaign.name, "status": i.status,
             "outcome": i.result, "calls": i.attempts, "last_call": i.called_at, "call_back_at": i.due_at}
            for i in CallListItem.objects.filter(contact=contact).select_related("call_list__campaign").order_by("id")],
        "bounced_addresses": [
            {"address": b.email, "hard_bounce": b.hard_bounced_at, "soft_bounces": b.soft_bounces,
             "suppressed": b.suppressed_at, "last_reason": b.last_reason}
            for b in BouncedAddress.objects.filter(email__in=_addresses(contact)).order_by("email")],
    }


@hooks.subscribe(hooks.CONTACT_ERASE)
def erase_contact_marketing(*, contact, **_kwargs) -> None:
    """Rows that count in a campaign's figures stay, without the person's data: the message rows lose
    the address, the call-list entries are closed. What is only about the person goes: lists, topics,
    the language and its history, and the bounce records of their addresses."""
    BouncedAddress.objects.filter(email__in=_addresses(contact)).delete()
    Delivery.objects.filter(contact=contact).update(email="", reason="")
    CallListItem.objects.filter(contact=contact).exclude(status="done").update(
        status="done", due_at=None, claimed_by=None, claimed_at=None)
    StaticListMember.objects.filter(contact=contact).delete()
    TopicSubscription.objects.filter(contact=contact).delete()
    TopicSubscription.pgh_event_model.objects.filter(contact_id=contact.pk).delete()
    ContactPreference.objects.filter(contact=contact).delete()
    ContactPreference.pgh_event_model.objects.filter(pgh_obj_id=contact.pk).delete()
