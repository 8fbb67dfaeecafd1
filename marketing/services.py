"""Writes on campaigns, their cost lines and members, and the attribution of leads and deals."""

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import pghistory
from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from contacts.models import Contact
from crm.models import User
from marketing import templating
from marketing.models import (
    Campaign,
    CampaignCost,
    CampaignMember,
    DealAttribution,
    EmailTemplate,
    EmailTemplateVersion,
    LeadAttribution,
    Mailing,
    MailingVersion,
    MemberStatus,
    Segment,
    StaticList,
    StaticListMember,
    Topic,
)
from sales.models import Lead, Opportunity, Product
from webhooks.services import emit


@transaction.atomic
def campaign_create(*, actor: User, owner: User | None = None, **fields: Any) -> Campaign:
    owner = owner or actor
    campaign = Campaign(owner=owner, team_id=owner.team_id, **fields)
    campaign.full_clean()
    campaign.save()
    emit("campaign.created", campaign, actor=actor)
    return campaign


@transaction.atomic
def campaign_update(*, campaign: Campaign, actor: User, **fields: Any) -> Campaign:
    for name, value in fields.items():
        setattr(campaign, name, value)
    if "owner" in fields:
        campaign.team_id = campaign.owner.team_id  # the record follows its owner's team
    campaign.full_clean()
    campaign.save()
    emit("campaign.updated", campaign, actor=actor)
    return campaign


@transaction.atomic
def campaign_delete(*, campaign: Campaign, actor: User) -> None:
    """Soft delete: the campaign leaves every list; its attributions and figures stay for the history."""
    campaign.deleted_at = timezone.now()
    campaign.save(update_fields=["deleted_at", "updated_at"])
    emit("campaign.deleted", campaign, actor=actor)


@transaction.atomic
def campaigns_assign(*, actor: User, campaigns: QuerySet[Campaign], owner: User) -> int:
    """Bulk re-assignment of campaigns the actor may edit (the caller passes editable_by rows)."""
    with pghistory.context(bulk="assign"):
        return campaigns.update(owner=owner, team=owner.team, updated_at=timezone.now())


@transaction.atomic
def campaign_cost_add(*, campaign: Campaign, actor: User, description: str, amount: Decimal,
                      incurred_on: datetime.date | None = None) -> CampaignCost:
    cost = CampaignCost(campaign=campaign, description=description, amount=amount, created_by=actor,
                        incurred_on=incurred_on or timezone.localdate())
    cost.full_clean()
    cost.save()
    return cost


@transaction.atomic
def campaign_cost_remove(*, cost: CampaignCost, actor: User) -> None:
    cost.delete()


@transaction.atomic
def campaign_members_add(*, campaign: Campaign, actor: User, contacts: Iterable[Contact],
                         status: str = MemberStatus.TARGETED) -> int:
    """Adds the contacts that are not members yet (one row per campaign and contact); returns how
    many were new. A contact already in the campaign keeps the status it has."""
    contacts = list(contacts)
    already = set(CampaignMember.objects.filter(campaign=campaign, contact__in=contacts)
                  .values_list("contact_id", flat=True))
    now = timezone.now()
    rows = [CampaignMember(campaign=campaign, contact=contact, status=status, added_at=now, status_changed_at=now)
            for contact in contacts if contact.pk not in already]
    # A concurrent add of the same contact hits the unique constraint and is skipped, not doubled.
    CampaignMember.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


@transaction.atomic
def campaign_member_set_status(*, member: CampaignMember, actor: User, status: str) -> CampaignMember:
    if status not in MemberStatus.values:
        raise ValueError(f"Unknown member status {status!r}")
    if member.status != status:
        member.status = status
        member.status_changed_at = timezone.now()
        member.save(update_fields=["status", "status_changed_at"])
    return member


@transaction.atomic
def campaign_member_remove(*, member: CampaignMember, actor: User) -> None:
    member.delete()


@transaction.atomic
def lead_attribute(*, lead: Lead, campaign: Campaign | None, actor: User) -> None:
    """Sets (or, with None, clears) the campaign a lead came from."""
    if campaign is None:
        LeadAttribution.objects.filter(lead=lead).delete()
        return
    LeadAttribution.objects.update_or_create(lead=lead, defaults={"campaign": campaign,
                                                                  "attributed_at": timezone.now()})


@transaction.atomic
def deal_attribute(*, opportunity: Opportunity, campaign: Campaign | None, actor: User) -> None:
    """Sets (or, with None, clears) the campaign a deal came from."""
    if campaign is None:
        DealAttribution.objects.filter(opportunity=opportunity).delete()
        return
    DealAttribution.objects.update_or_create(opportunity=opportunity, defaults={"campaign": campaign,
                                                                                "attributed_at": timezone.now()})


@transaction.atomic
def segment_create(*, actor: User, name: str, criteria: dict[str, Any], description: str = "",
                   owner: User | None = None) -> Segment:
    owner = owner or actor
    segment = Segment(owner=owner, team_id=owner.team_id, name=name, description=description, criteria=criteria)
    segment.full_clean()
    segment.save()
    return segment


@transaction.atomic
def segment_update(*, segment: Segment, actor: User, **fields: Any) -> Segment:
    for name, value in fields.items():
        setattr(segment, name, value)
    segment.full_clean()
    segment.save()
    return segment


@transaction.atomic
def segment_delete(*, segment: Segment, actor: User) -> None:
    segment.deleted_at = timezone.now()
    segment.save(update_fields=["deleted_at", "updated_at"])


@transaction.atomic
def campaign_members_add_segment(*, campaign: Campaign, actor: User, segment: Segment,
                                 status: str = MemberStatus.TARGETED) -> int:
    """Everyone in the segment whom the actor may see joins the campaign, in one INSERT … SELECT;
    people already in it keep their row and status. Returns how many joined."""
    from marketing.segments import contacts_in

    if status not in MemberStatus.values:
        raise ValueError(f"Unknown member status {status!r}")
    select_sql, params = contacts_in(segment.criteria, actor).order_by().values("id").query.sql_with_params()
    now = timezone.now()
    with connection.cursor() as cursor:
        # The SELECT is the ORM's own SQL with its parameters bound separately.
        sql = (f"INSERT INTO {CampaignMember._meta.db_table} "  # noqa: S608
               "(campaign_id, contact_id, status, added_at, status_changed_at) "
               f"SELECT %s, matched.id, %s, %s, %s FROM ({select_sql}) AS matched "
               "ON CONFLICT (campaign_id, contact_id) DO NOTHING")
        cursor.execute(sql, [campaign.pk, status, now, now, *params])
        added: int = cursor.rowcount
    return added


@transaction.atomic
def static_list_create(*, actor: User, name: str, description: str = "", shared_with_team: bool = False,
                       owner: User | None = None) -> StaticList:
    owner = owner or actor
    static_list = StaticList(owner=owner, team_id=owner.team_id, name=name, description=description,
                             shared_with_team=shared_with_team)
    static_list.full_clean()
    static_list.save()
    return static_list


@transaction.atomic
def static_list_update(*, static_list: StaticList, actor: User, **fields: Any) -> StaticList:
    for name, value in fields.items():
        setattr(static_list, name, value)
    static_list.full_clean()
    static_list.save()
    return static_list


@transaction.atomic
def static_list_delete(*, static_list: StaticList, actor: User) -> None:
    static_list.deleted_at = timezone.now()
    static_list.save(update_fields=["deleted_at", "updated_at"])


def _static_list_insert(static_list: StaticList, actor: User, rows: QuerySet[Any], column: str) -> int:
    try:
        select_sql, params = rows.order_by().values("id").query.sql_with_params()
    except EmptyResultSet:  # e.g. pk__in=[]: nobody to add
        return 0
    with connection.cursor() as cursor:
        sql = (f"INSERT INTO {StaticListMember._meta.db_table} "  # noqa: S608 - the ORM's SELECT, params bound
               f"(static_list_id, {column}, added_at, added_by_id) "
               f"SELECT %s, picked.id, %s, %s FROM ({select_sql}) AS picked "
               f"ON CONFLICT (static_list_id, {column}) DO NOTHING")
        cursor.execute(sql, [static_list.pk, timezone.now(), actor.pk, *params])
        added: int = cursor.rowcount
    return added


@transaction.atomic
def static_list_add(*, static_list: StaticList, actor: User, contacts: QuerySet[Contact]) -> int:
    """Adds the contacts (the caller passes rows the actor may see) in one INSERT … SELECT; people
    already on the list stay once. Returns how many were added."""
    return _static_list_insert(static_list, actor, contacts, "contact_id")


@transaction.atomic
def static_list_add_leads(*, static_list: StaticList, actor: User, leads: QuerySet[Lead]) -> int:
    """Adds the leads (the caller passes rows the actor may see) as static_list_add does contacts."""
    return _static_list_insert(static_list, actor, leads, "lead_id")


@transaction.atomic
def static_list_remove(*, static_list: StaticList, actor: User, contact_ids: Iterable[int] = (),
                       lead_ids: Iterable[int] = ()) -> int:
    """Takes the contacts and the leads off the list (ids not on it are ignored). Returns how many went."""
    removed, _per_model = StaticListMember.objects.filter(
        Q(contact_id__in=list(contact_ids)) | Q(lead_id__in=list(lead_ids)), static_list=static_list).delete()
    return removed


def static_list_carry_lead_over(*, lead: Lead, contact: Contact) -> None:
    """A converted lead is on its lists as the contact it became (once: a list that already has the
    contact keeps that row), so mailings and call lists reach the person from now on."""
    members = StaticListMember.objects.filter(lead=lead)
    members.filter(static_list__members__contact=contact).delete()
    members.update(lead=None, contact=contact)


@transaction.atomic
def mailing_create(*, actor: User, campaign: Campaign, subject: str, body: str, segment: Segment | None = None,
                   static_list: StaticList | None = None, topic: Topic | None = None, language: str = "",
                   versions: dict[str, tuple[str, ...]] | None = None, hourly_limit: int | None = None,
                   track: bool = True, html: str = "", product: Product | None = None) -> Mailing:
    """A draft; `versions` maps another language to its (subject, text) or (subject, text, HTML). The HTML is
    cleaned here too (marketing/templating.py), whoever calls."""
    mailing = Mailing(owner=actor, team_id=actor.team_id, campaign=campaign, subject=subject, body=body,
                      html=templating.clean_html(html) if html else "", product=product,
                      segment=segment, static_list=static_list, topic=topic, hourly_limit=hourly_limit, track=track,
                      language=language or actor.language or settings.LANGUAGE_CODE)
    mailing.full_clean()
    mailing.save()
    MailingVersion.objects.bulk_create([
        MailingVersion(mailing=mailing, language=code, subject=version[0], body=version[1],
                       html=templating.clean_html(version[2]) if len(version) > 2 and version[2] else "")
        for code, version in (versions or {}).items() if code != mailing.language])
    return mailing


@transaction.atomic
def template_save(*, actor: User, template: EmailTemplate | None, name: str, topic: Topic | None,
                  versions: dict[str, tuple[str, str]]) -> EmailTemplate:
    """Creates or changes a template; its versions become exactly `versions` (language → (subject, HTML))."""
    if template is None:
        template = EmailTemplate(owner=actor, team_id=actor.team_id)
    template.name, template.topic = name, topic
    template.full_clean()
    template.save()
    template.versions.exclude(language__in=list(versions)).delete()
    for code, (subject, html) in versions.items():
        EmailTemplateVersion.objects.update_or_create(
            template=template, language=code, defaults={"subject": subject, "html": templating.clean_html(html)})
    return template


@transaction.atomic
def template_delete(*, template: EmailTemplate, actor: User) -> None:
    """Soft delete: the mailings made from it keep their own copies."""
    EmailTemplate.objects.filter(pk=template.pk).update(deleted_at=timezone.now())


@transaction.atomic
def campaign_members_add_rows(*, campaign: Campaign, actor: User, contacts: QuerySet[Contact],
                              status: str = MemberStatus.TARGETED) -> int:
    """The contacts (the caller passes rows the actor may see) join the campaign in one INSERT … SELECT;
    people already in it keep their row and status. Returns how many joined."""
    if status not in MemberStatus.values:
        raise ValueError(f"Unknown member status {status!r}")
    select_sql, params = contacts.order_by().values("id").query.sql_with_params()
    now = timezone.now()
    with connection.cursor() as cursor:
        sql = (f"INSERT INTO {CampaignMember._meta.db_table} "  # noqa: S608 - the ORM's SELECT, params bound
               "(campaign_id, contact_id, status, added_at, status_changed_at) "
               f"SELECT %s, picked.id, %s, %s, %s FROM ({select_sql}) AS picked "
               "ON CONFLICT (campaign_id, contact_id) DO NOTHING")
        cursor.execute(sql, [campaign.pk, status, now, now, *params])
        added: int = cursor.rowcount
    return added


@transaction.atomic
def leads_attribute(*, leads: QuerySet[Lead], campaign: Campaign, actor: User) -> int:
    """The source campaign of many leads at once (the caller passes rows the actor may edit), in one
    INSERT … SELECT … ON CONFLICT DO UPDATE. Returns how many leads it set."""
    select_sql, params = leads.order_by().values("id").query.sql_with_params()
    table = LeadAttribution._meta.db_table
    with connection.cursor() as cursor:
        sql = (f"INSERT INTO {table} (lead_id, campaign_id, attributed_at) "  # noqa: S608 - the ORM's SELECT
               f"SELECT picked.id, %s, %s FROM ({select_sql}) AS picked "
               "ON CONFLICT (lead_id) DO UPDATE SET campaign_id = EXCLUDED.campaign_id, "
               "attributed_at = EXCLUDED.attributed_at")
        cursor.execute(sql, [campaign.pk, timezone.now(), *params])
        changed: int = cursor.rowcount
    return changed
