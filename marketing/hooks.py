"""What marketing does when lower modules' records change (crm/hooks.py)."""

from django.utils import timezone

from crm import hooks
from marketing.models import CampaignMember, DealAttribution, LeadAttribution, MemberStatus


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


@hooks.subscribe(hooks.CONTACT_PERSONAL_DATA)
def contact_memberships(*, contact, **_kwargs) -> dict:
    return {"campaign_memberships": [
        {"campaign": m.campaign.name, "status": m.status, "added": m.added_at, "status_changed": m.status_changed_at}
        for m in CampaignMember.objects.filter(contact=contact).select_related("campaign").order_by("added_at", "id")
    ]}
