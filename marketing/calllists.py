"""Telemarketing call lists: building a list from a segment or a static list for a campaign, sharing
it among agents, the claim that hands each agent the next person (never the same person to two
agents), and logging a call's outcome: a call on the contact's timeline, a call-back task with a
reminder, a lead for those interested, the member's status in the campaign, and "do not call".
A static list's leads are called too: an entry is a contact or a lead (`CallListItem.lead_called`), and
a lead's call goes on the lead's timeline and moves the lead on (see `call_log`).

Two agents never get the same person: `call_next` locks the candidate row with
`FOR UPDATE SKIP LOCKED` (a row another agent is claiming is skipped, not waited for) and claims it
in the same transaction; a claimed row is offered to nobody else until its claim runs out
(`CLAIM_MINUTES`, an agent who walked away), and only the holder of the claim may log its outcome."""

import datetime
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pghistory
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from activities.models import ActivityKind, CallOutcome, Direction
from activities.services import activity_create
from contacts.models import Contact
from crm.choices import LeadSource
from crm.models import Role, Territory, User
from crm.visibility import Scope, can_create, read_scope
from marketing.models import (
    CallDistribution,
    CallList,
    CallListItem,
    CallResult,
    CallStatus,
    Campaign,
    CampaignMember,
    DealAttribution,
    LeadAttribution,
    MemberStatus,
    Segment,
    StaticList,
)
from sales.lead_services import lead_create
from sales.models import DisqualifyReason, Lead, LeadStatus, Opportunity, Pipeline, Stage, StageKind
from sales.services import opportunity_create
from webhooks.services import emit

CLAIM_MINUTES = 20  # a claim with no outcome after this long goes back to the queue
NO_ANSWER_RETRY = datetime.timedelta(hours=2)
MAX_NO_ANSWER = 3  # after this many unanswered calls the person is done
CALLBACK_REMINDER_MINUTES = 15
BUILD_LIMIT = 5000  # a call list is worked by people: more than this is a mistake in the audience
AGENT_ROLES = (Role.SALES_REP, Role.SALES_MANAGER, Role.MARKETER, Role.ADMIN)
OPEN = (CallStatus.QUEUED, CallStatus.CALLBACK)
LEAD_OPEN = (LeadStatus.NEW, LeadStatus.WORKING, LeadStatus.QUALIFIED)  # a lead that may still be called


def agent_choices() -> QuerySet[User]:
    """Who may be an agent: active people whose role reads campaigns and logs calls."""
    return User.objects.filter(is_active=True, role__in=AGENT_ROLES).order_by("first_name", "last_name", "id")


def _audience(actor: User, segment: Segment | None, static_list: StaticList | None) -> QuerySet[Contact]:
    from marketing.segments import contacts_in

    if segment is not None:
        return contacts_in(segment.criteria, actor)
    return Contact.objects.visible_to(actor).filter(static_list_memberships__static_list=static_list)


def _lead_audience(actor: User, static_list: StaticList | None) -> QuerySet[Lead]:
    """The leads on the static list the actor may see (a segment holds contacts only)."""
    if static_list is None:
        return Lead.objects.none()
    return Lead.objects.visible_to(actor).filter(static_list_memberships__static_list=static_list)


def _lead_rows(leads: QuerySet[Lead]) -> tuple[list[tuple[int, bool, list[str], int | None]], int]:
    """The leads as rows for `_share` (id, do not call, phones, territory) and how many are closed: a
    disqualified lead (among them those who asked not to be called) or a converted one is not called."""
    rows, closed = [], 0
    for pk, status, phone, territory_id in leads.order_by("last_name", "first_name", "id").values_list(
            "id", "status", "phone", "territory_id")[:BUILD_LIMIT + 1]:
        if status not in LEAD_OPEN:
            closed += 1
            continue
        rows.append((pk, False, [phone] if phone else [], territory_id))
    return rows, closed


def _covering_territories(territory_id: int | None, parents: dict[int, int | None]) -> set[int]:
    """The territory and every territory above it (an agent for Europe covers Germany)."""
    covered: set[int] = set()
    while territory_id is not None and territory_id not in covered:
        covered.add(territory_id)
        territory_id = parents.get(territory_id)
    return covered


@transaction.atomic
def call_list_create(*, actor: User, campaign: Campaign, name: str, agents: list[User], script: str = "",
                     segment: Segment | None = None, static_list: StaticList | None = None,
                     distribution: str = CallDistribution.EVEN) -> CallList:
    """Freezes the audience the actor may see into one entry per contact, and per lead of a static list.
    People marked "do not call" or with no phone, and closed leads (disqualified), are left out and
    counted; each person goes only to an agent who may see them (those no chosen agent may see are left
    out too), so the call screen never shows an agent a customer they could not open."""
    if not agents:
        raise ValidationError({"agents": _("Choose at least one agent.")})
    call_list = CallList(owner=actor, team_id=actor.team_id, campaign=campaign, name=name, script=script,
                         segment=segment, static_list=static_list, distribution=distribution)
    call_list.full_clean()
    rows = list(_audience(actor, segment, static_list).order_by("last_name", "first_name", "id")
                .values_list("id", "do_not_call", "phones", "account__territory_id")[:BUILD_LIMIT + 1])
    lead_rows, call_list.left_out_leads = _lead_rows(_lead_audience(actor, static_list))
    if len(rows) + len(lead_rows) > BUILD_LIMIT:
        raise ValidationError(_("The audience has more than %(limit)s people: narrow the segment.")
                              % {"limit": BUILD_LIMIT})
    callable_rows = [row for row in rows if not row[1] and row[2]]
    callable_leads = [row for row in lead_rows if row[2]]
    call_list.left_out_do_not_call = sum(1 for row in rows if row[1])
    call_list.left_out_no_phone = (sum(1 for row in rows if not row[1] and not row[2])
                                   + len(lead_rows) - len(callable_leads))
    load: Counter[int] = Counter()
    items, no_agent = _share(call_list, agents, callable_rows, load)
    lead_items, no_agent_leads = _share(call_list, agents, callable_leads, load, model=Lead)
    items += lead_items
    call_list.left_out_no_agent = no_agent + no_agent_leads
    call_list.save()
    call_list.agents.set(agents)
    CallListItem.objects.bulk_create(items, batch_size=1000)
    return call_list


def _share(call_list: CallList, agents: list[User], rows: list[tuple[int, bool, list[str], int | None]],
           load: Counter[int], model: type[Contact] | type[Lead] = Contact) -> tuple[list[CallListItem], int]:
    """Shares the people (id, do not call, phones, territory) among the agents, each to an agent who may
    open them, as the list's distribution says; `load` is how many each agent already has. `model`: the
    rows are contacts or leads. Returns the entries and how many people no agent may open."""
    ids = [row[0] for row in rows]
    person = "contact_id" if model is Contact else "lead_called_id"
    sees: dict[int, set[int] | None] = {}
    for agent in agents:  # None: the agent sees every contact (or lead)
        sees[agent.pk] = (None if read_scope(agent, model) == Scope.ALL else
                          set(model.objects.visible_to(agent).filter(pk__in=ids).values_list("pk", flat=True)))
    covers: dict[int, set[int]] = {}
    parents: dict[int, int | None] = {}
    if call_list.distribution == CallDistribution.TERRITORY:
        parents = dict(Territory.objects.values_list("id", "parent_id"))
        through = User.territories.through
        for user_id, territory_id in through.objects.filter(user__in=agents).values_list("user_id", "territory_id"):
            covers.setdefault(user_id, set()).add(territory_id)
    for agent in agents:
        load.setdefault(agent.pk, 0)
    items: list[CallListItem] = []
    no_agent = 0
    for person_id, _dnc, _phones, territory_id in rows:
        eligible = [pk for pk, seen in sees.items() if seen is None or person_id in seen]
        if not eligible:
            no_agent += 1
            continue
        if call_list.distribution == CallDistribution.SHARED:
            items.append(CallListItem(call_list=call_list, agent=None, **{person: person_id}))
            continue
        if call_list.distribution == CallDistribution.TERRITORY:
            area = _covering_territories(territory_id, parents)
            local = [pk for pk in eligible if covers.get(pk, set()) & area]
            eligible = local or eligible
        chosen = min(eligible, key=lambda pk: (load[pk], pk))  # the least loaded, evenly
        load[chosen] += 1
        items.append(CallListItem(call_list=call_list, agent_id=chosen, **{person: person_id}))
    return items, no_agent


def _open_load(call_list: CallList) -> Counter[int]:
    """How many open entries each agent has on the list (one query)."""
    return Counter(dict(CallListItem.objects.filter(call_list=call_list, status__in=OPEN, agent__isnull=False)
                        .values_list("agent").annotate(n=Count("id")).order_by()))


def _live_claim(now: datetime.datetime) -> Q:
    """An entry someone is calling now: claimed, and the claim has not run out."""
    return Q(claimed_by__isnull=False, claimed_at__gt=_claim_expired(now))


@transaction.atomic
def call_list_update(*, actor: User, call_list: CallList, name: str, script: str, agents: list[User]) -> int:
    """Renames the list, changes its script and its agents. The open entries of a removed agent go
    evenly to the remaining agents who may open the person (nobody may: the shared queue, still only
    handed to agents who may open them). Refused while a removed agent is on a call from the list (their
    claim holds): they log it, or it runs out. Returns how many entries were handed over."""
    if not agents:
        raise ValidationError({"agents": _("Choose at least one agent.")})
    now = timezone.now()
    CallList.objects.select_for_update().filter(pk=call_list.pk).first()  # one edit of a list at a time
    keep = {agent.pk for agent in agents}
    removed = [pk for pk in call_list.agents.values_list("pk", flat=True) if pk not in keep]
    busy = list(User.objects.filter(pk__in=CallListItem.objects.filter(
        _live_claim(now), call_list=call_list, status__in=OPEN, claimed_by__in=removed).values("claimed_by")))
    if busy:
        raise ValidationError({"agents": _("%(agents)s is on a call from this list now: remove them after the "
                                           "call is logged, or in %(minutes)s minutes.")
                               % {"agents": ", ".join(str(user) for user in busy), "minutes": CLAIM_MINUTES}})
    call_list.name, call_list.script = name, script
    call_list.full_clean()
    call_list.save(update_fields=["name", "script", "updated_at"])
    call_list.agents.set(agents)
    handed = 0
    if removed:
        orphans = list(CallListItem.objects.select_for_update(of=("self",)).filter(
            call_list=call_list, status__in=OPEN, agent__in=removed).select_related("contact__account", "lead_called")
            .order_by("id"))
        rows = [(item.contact_id, False, ["-"], item.contact.account.territory_id if item.contact.account_id
                 else None) for item in orphans if item.contact_id]
        lead_rows = [(item.lead_called_id, False, ["-"], item.lead_called.territory_id)
                     for item in orphans if item.lead_called_id]
        load = _open_load(call_list)
        shared = _share(call_list, agents, rows, load)[0] + _share(call_list, agents, lead_rows, load, model=Lead)[0]
        to = {(entry.contact_id, entry.lead_called_id): entry.agent_id for entry in shared}
        for item in orphans:
            # The list shares nothing in advance (one queue), or no agent may open the person: the shared
            # queue, where only an agent who may open them gets them.
            item.agent_id = to.get((item.contact_id, item.lead_called_id))
            item.claimed_by, item.claimed_at = None, None
        CallListItem.objects.bulk_update(orphans, ["agent", "claimed_by", "claimed_at"], batch_size=1000)
        handed = len(orphans)
    return handed


@transaction.atomic
def call_list_close(*, actor: User, call_list: CallList) -> None:
    """Closes the list: it hands out no entries (a call in progress may still be logged)."""
    CallList.objects.filter(pk=call_list.pk, closed_at__isnull=True).update(closed_at=timezone.now(),
                                                                          updated_at=timezone.now())
    call_list.refresh_from_db(fields=["closed_at", "updated_at"])


@transaction.atomic
def call_list_reopen(*, actor: User, call_list: CallList) -> None:
    CallList.objects.filter(pk=call_list.pk, closed_at__isnull=False).update(closed_at=None,
                                                                           updated_at=timezone.now())
    call_list.refresh_from_db(fields=["closed_at", "updated_at"])


@dataclass
class Added:
    added: int = 0
    already: int = 0
    do_not_call: int = 0
    no_phone: int = 0
    no_agent: int = 0
    leads: int = 0  # closed leads of the static list (disqualified), left out


@transaction.atomic
def call_list_add(*, actor: User, call_list: CallList, segment: Segment | None = None,
                  static_list: StaticList | None = None) -> Added:
    """Adds the people of a segment or a static list the actor may see to a built list, shared among
    its agents as when it was built (with their current load). People already on it are skipped; "do
    not call", phoneless and people no agent may open, and a static list's leads, are left out and
    counted (also in the list's totals). The list stays within BUILD_LIMIT people. A static list's open
    leads are added like its contacts; its closed leads are left out and counted."""
    if (segment is None) == (static_list is None):
        raise ValidationError(_("Add either from a segment or from a static list."))
    CallList.objects.select_for_update().filter(pk=call_list.pk).first()  # two adds never overshoot the limit
    on_list = CallListItem.objects.filter(call_list=call_list)
    room = BUILD_LIMIT - on_list.count()
    audience = _audience(actor, segment, static_list).order_by("last_name", "first_name", "id")
    # Lead entries have no contact: their NULL would make every NOT IN unknown, and nobody would be added.
    contacts_on = on_list.exclude(contact=None).values("contact_id")
    already = audience.filter(pk__in=contacts_on).count()
    rows = list(audience.exclude(pk__in=contacts_on)
                .values_list("id", "do_not_call", "phones", "account__territory_id")[:BUILD_LIMIT + 1])
    leads = _lead_audience(actor, static_list)
    already += leads.filter(pk__in=on_list.values("lead_called_id")).count()
    lead_rows, closed_leads = _lead_rows(leads.exclude(pk__in=on_list.exclude(lead_called=None)
                                                       .values("lead_called_id")))
    callable_rows = [row for row in rows if not row[1] and row[2]]
    callable_leads = [row for row in lead_rows if row[2]]
    wanted = len(callable_rows) + len(callable_leads)
    if len(rows) + len(lead_rows) > BUILD_LIMIT or wanted > room:
        raise ValidationError(_("A call list holds at most %(limit)s people: this would make %(total)s. Narrow "
                                "the audience.") % {"limit": BUILD_LIMIT, "total": BUILD_LIMIT - room + wanted})
    result = Added(already=already, do_not_call=sum(1 for row in rows if row[1]),
                   no_phone=sum(1 for row in rows if not row[1] and not row[2]) + len(lead_rows) - len(callable_leads),
                   leads=closed_leads)
    agents = list(call_list.agents.all())
    load = _open_load(call_list)
    items, result.no_agent = _share(call_list, agents, callable_rows, load)
    lead_items, no_agent_leads = _share(call_list, agents, callable_leads, load, model=Lead)
    items += lead_items
    result.no_agent += no_agent_leads
    CallListItem.objects.bulk_create(items, batch_size=1000, ignore_conflicts=True)
    result.added = len(items)
    CallList.objects.filter(pk=call_list.pk).update(
        left_out_do_not_call=F("left_out_do_not_call") + result.do_not_call,
        left_out_no_phone=F("left_out_no_phone") + result.no_phone,
        left_out_no_agent=F("left_out_no_agent") + result.no_agent,
        left_out_leads=F("left_out_leads") + result.leads, updated_at=timezone.now())
    call_list.refresh_from_db()
    return result


@dataclass
class Moved:
    moved: int = 0
    claimed: int = 0  # someone is calling them now
    unseen: int = 0  # the new agent may not open the person
    gone: int = 0  # done, or not on this list


@transaction.atomic
def call_items_reassign(*, actor: User, call_list: CallList, item_ids: list[int], agent: User) -> Moved:
    """Gives the ticked open entries to another agent of the list. An entry someone is calling now (a
    claim that has not run out) stays with them: the UPDATE re-checks the claim on the row itself, so
    an agent claiming it at this moment (their row lock) wins, and ours skips it."""
    if not call_list.agents.filter(pk=agent.pk).exists():
        raise ValidationError({"agent": _("Choose one of the list's agents.")})
    now = timezone.now()
    ids = sorted({int(pk) for pk in item_ids})
    candidates = CallListItem.objects.filter(call_list=call_list, pk__in=ids, status__in=OPEN)
    result = Moved(gone=len(ids) - candidates.count())
    unseen = candidates.exclude(_may_open(agent))
    result.unseen = unseen.count()
    candidates = candidates.exclude(pk__in=unseen.values("pk"))
    free = candidates.exclude(_live_claim(now))
    result.moved = free.update(agent=agent, claimed_by=None, claimed_at=None)
    result.claimed = len(ids) - result.gone - result.unseen - result.moved
    return result


def is_agent(call_list: CallList, user: User) -> bool:
    return call_list.agents.filter(pk=user.pk).exists()


def _claim_expired(now: datetime.datetime) -> datetime.datetime:
    return now - datetime.timedelta(minutes=CLAIM_MINUTES)


def _may_open(agent: User) -> Q:
    """Entries of people the agent may open: a contact or a lead they may see."""
    contacts = (Q(contact__isnull=False) if read_scope(agent, Contact) == Scope.ALL
                else Q(contact__in=Contact.objects.visible_to(agent).values("pk")))
    leads = (Q(lead_called__isnull=False, lead_called__deleted_at__isnull=True) if read_scope(agent, Lead) == Scope.ALL
             else Q(lead_called__in=Lead.objects.visible_to(agent).values("pk")))
    return contacts | leads


def _may_call(agent: User) -> Q:
    """Entries the agent may call now: a contact they may open who is not "do not call", or an open lead
    (not disqualified, not converted) they may open."""
    contacts = Q(contact__in=Contact.objects.visible_to(agent).values("pk"), contact__do_not_call=False)
    leads = Q(lead_called__in=Lead.objects.visible_to(agent).values("pk"), lead_called__status__in=LEAD_OPEN)
    return contacts | leads


def queue_for(call_list: CallList, agent: User, now: datetime.datetime) -> QuerySet[CallListItem]:
    """What the agent may take now: their own entries and the shared queue's, due, not claimed by
    someone else (or the claim ran out), of people they may see who may still be called."""
    return (CallListItem.objects.filter(call_list=call_list, call_list__closed_at__isnull=True, status__in=OPEN)
            .filter(Q(agent=agent) | Q(agent__isnull=True))
            .filter(Q(due_at__isnull=True) | Q(due_at__lte=now))
            .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lte=_claim_expired(now)) | Q(claimed_by=agent))
            .filter(_may_call(agent)))


@transaction.atomic
def call_next(*, call_list: CallList, agent: User) -> CallListItem | None:
    """The person the agent calls now, claimed for them. The one they already hold comes back (a
    reload, a second tab); else due call-backs first, then the queue in order. A closed list hands out
    nobody (read with the entries, in the same query)."""
    now = timezone.now()
    held = (CallListItem.objects.filter(call_list=call_list, call_list__closed_at__isnull=True, status__in=OPEN,
                                        claimed_by=agent,
                                        claimed_at__gt=_claim_expired(now))
            .filter(_may_call(agent)).order_by("claimed_at", "id").first())
    if held is not None:
        return held
    item = (queue_for(call_list, agent, now).order_by(F("due_at").asc(nulls_last=True), "id")
            .select_for_update(skip_locked=True, of=("self",)).first())
    if item is None:
        return None
    item.claimed_by, item.claimed_at = agent, now
    item.save(update_fields=["claimed_by", "claimed_at"])
    return item


@transaction.atomic
def call_release(*, call_list: CallList, agent: User) -> int:
    """The agent stops: what they hold goes back to the queue."""
    return CallListItem.objects.filter(call_list=call_list, claimed_by=agent, status__in=OPEN).update(
        claimed_by=None, claimed_at=None)


ACTIVITY_OUTCOME = {CallResult.NO_ANSWER: CallOutcome.NO_ANSWER, CallResult.WRONG_NUMBER: CallOutcome.WRONG_NUMBER}
# How far a call takes the person in the campaign (a status is only ever raised).
MEMBER_AFTER = {CallResult.CALLBACK: MemberStatus.SENT, CallResult.NOT_INTERESTED: MemberStatus.SENT,
                CallResult.DO_NOT_CALL: MemberStatus.SENT, CallResult.INTERESTED: MemberStatus.RESPONDED}
LOWER_THAN = {MemberStatus.SENT: (MemberStatus.TARGETED,),
              MemberStatus.RESPONDED: (MemberStatus.TARGETED, MemberStatus.SENT)}


def _raise_member(campaign_id: int, contact_id: int, status: str, now: datetime.datetime) -> None:
    table = CampaignMember._meta.db_table
    lower = LOWER_THAN[status]
    placeholders = ", ".join(["%s"] * len(lower))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {table} (campaign_id, contact_id, status, added_at, status_changed_at)
                VALUES (%s, %s, %s, %s, %s)
                ON CONFLICT (campaign_id, contact_id) DO UPDATE SET status = EXCLUDED.status,
                    status_changed_at = EXCLUDED.status_changed_at
                WHERE {table}.status IN ({placeholders})""",  # noqa: S608 - our table name, values bound  # nosec B608
            [campaign_id, contact_id, status, now, now, *lower])


@dataclass
class Logged:
    item: CallListItem
    lead: Lead | None = None
    opportunity: Opportunity | None = None
    callback_task_id: int | None = None
    qualified: Lead | None = None  # a lead entry logged "interested"


def _lead_for(contact: Contact, agent: User, notes: str) -> Lead:
    return lead_create(actor=agent, owner=agent, first_name=contact.first_name, last_name=contact.last_name,
                       title=contact.title, company=contact.account.name if contact.account_id else "",
                       email=contact.emails[0] if contact.emails else "",
                       phone=contact.phones[0] if contact.phones else "", source=LeadSource.CAMPAIGN,
                       description=notes)


DEAL_CLOSE_IN = datetime.timedelta(days=30)  # the expected close date of a deal from a call, to be refined


def _deal_for(contact: Contact, agent: User, campaign: Campaign, notes: str) -> Opportunity:
    """A deal with the person's company in the default pipeline's first open stage, owned by the agent,
    the person its primary contact."""
    if not contact.account_id:
        raise ValidationError({"create_deal": _("%(name)s has no company: create a lead instead.")
                               % {"name": contact}})
    if not can_create(agent, Opportunity):
        raise ValidationError({"create_deal": _("Your role does not create deals.")})
    pipeline = Pipeline.objects.order_by("-is_default", "position", "id").first()
    stage = (Stage.objects.filter(pipeline=pipeline, kind=StageKind.OPEN).order_by("position", "id").first()
             if pipeline else None)
    if stage is None:
        raise ValidationError({"create_deal": _("There is no sales pipeline with an open stage to put the deal in.")})
    return opportunity_create(actor=agent, owner=agent, name=f"{contact.account.name}: {campaign.name}"[:200],
                              account=contact.account, primary_contact=contact, pipeline=pipeline, stage=stage,
                              expected_close_date=timezone.localdate() + DEAL_CLOSE_IN,
                              lead_source=LeadSource.CAMPAIGN, description=notes)


@transaction.atomic
def call_log(*, call_list: CallList, agent: User, item_id: int, result: str, notes: str = "",
             callback_at: datetime.datetime | None = None, create_lead: bool = False, create_deal: bool = False,
             duration_minutes: int | None = None) -> Logged:
    """Logs the outcome of the call the agent holds. Refused (ValidationError, nothing written) when
    the entry is not theirs any more (the claim ran out and someone else took it) or already done.
    A lead's entry: see `_log_lead`."""
    now = timezone.now()
    item = (CallListItem.objects.select_for_update(of=("self",)).select_related("contact__account", "lead_called")
            .filter(pk=item_id, call_list=call_list, claimed_by=agent, status__in=OPEN).first())
    if item is None:
        raise ValidationError(_("This call is no longer yours to log: someone else took it, or it was logged."))
    if result not in CallResult.values:
        raise ValidationError({"result": _("Choose one of the offered outcomes.")})
    if result == CallResult.CALLBACK:
        if callback_at is None or callback_at <= now:
            raise ValidationError({"callback_at": _("Choose when to call back, in the future.")})
        if callback_at > now + datetime.timedelta(days=366):
            raise ValidationError({"callback_at": _("Call back within a year.")})
    if item.lead_called_id:
        return _log_lead(item, call_list, agent, result, notes, callback_at, duration_minutes, now,
                         create_lead=create_lead, create_deal=create_deal)
    contact = item.contact
    campaign = call_list.campaign
    logged = Logged(item=item, callback_task_id=_record_call(agent, campaign, result, notes, now, callback_at,
                                                             duration_minutes, contact=contact))
    _finish_item(item, agent, result, now, callback_at)
    if result == CallResult.DO_NOT_CALL:
        with pghistory.context(source="call list", call_list=call_list.pk):
            contact.do_not_call = True
            contact.save(update_fields=["do_not_call", "updated_at"])
    elif result == CallResult.INTERESTED and create_deal:
        logged.opportunity = _deal_for(contact, agent, campaign, notes)
        DealAttribution.objects.create(opportunity=logged.opportunity, campaign=campaign)
        item.opportunity = logged.opportunity
    elif result == CallResult.INTERESTED and create_lead:
        if not can_create(agent, Lead):
            raise ValidationError({"create_lead": _("Your role does not create leads.")})
        logged.lead = _lead_for(contact, agent, notes)
        LeadAttribution.objects.create(lead=logged.lead, campaign=campaign)
        item.lead = logged.lead
    item.save()
    if result in MEMBER_AFTER:
        _raise_member(campaign.pk, contact.pk, MEMBER_AFTER[result], now)
    return logged


def _record_call(agent: User, campaign: Campaign, result: str, notes: str, now: datetime.datetime,
                 callback_at: datetime.datetime | None, duration_minutes: int | None, **person: Contact | Lead
                 ) -> int | None:
    """The call on the person's timeline (`contact=` or `lead=`), and for a call-back a task with a reminder
    at the promised time; returns that task's id."""
    activity_create(actor=agent, kind=ActivityKind.CALL, direction=Direction.OUTBOUND,
                    subject=f"{campaign.name}: {CallResult(result).label}"[:200], body=notes, occurred_at=now,
                    outcome=ACTIVITY_OUTCOME.get(result, CallOutcome.CONNECTED), duration_minutes=duration_minutes,
                    **person)
    if result != CallResult.CALLBACK:
        return None
    name = next(iter(person.values()))
    task = activity_create(actor=agent, kind=ActivityKind.TASK, subject=_("Call back %(name)s (%(campaign)s)")
                           % {"name": name, "campaign": campaign.name}, body=notes, occurred_at=callback_at,
                           remind_minutes_before=CALLBACK_REMINDER_MINUTES, **person)
    return task.pk


def _finish_item(item: CallListItem, agent: User, result: str, now: datetime.datetime,
                 callback_at: datetime.datetime | None) -> None:
    """The entry after a call: no answer comes back later (done after MAX_NO_ANSWER), a call-back at its
    time to the agent who promised it, anything else is done."""
    item.attempts += 1
    item.result, item.called_at, item.called_by = result, now, agent
    item.claimed_by, item.claimed_at = None, None
    item.status, item.due_at = CallStatus.DONE, None
    if result == CallResult.NO_ANSWER and item.attempts < MAX_NO_ANSWER:
        item.status, item.due_at = CallStatus.QUEUED, now + NO_ANSWER_RETRY
    elif result == CallResult.CALLBACK:
        item.status, item.due_at, item.agent = CallStatus.CALLBACK, callback_at, agent


def _log_lead(item: CallListItem, call_list: CallList, agent: User, result: str, notes: str,
              callback_at: datetime.datetime | None, duration_minutes: int | None, now: datetime.datetime,
              *, create_lead: bool, create_deal: bool) -> Logged:
    """A lead's call: on the lead's timeline; a call-back is a task on the lead. The lead moves on: any
    call makes a new lead "working"; "interested" makes it qualified (no second lead is created: the sales
    team converts it from its page) and gives it the campaign as its source when it has none; "asked not
    to be called" disqualifies it ("could not reach" would be wrong: the reason is in the call's notes),
    so no later call list calls it (leads have no "do not call" flag of their own)."""
    if create_lead or create_deal:
        raise ValidationError({"create_lead": _("This is a lead already: “Interested” qualifies it. Convert it "
                                                "from its page to make a deal.")})
    lead = item.lead_called
    logged = Logged(item=item, callback_task_id=_record_call(agent, call_list.campaign, result, notes, now,
                                                             callback_at, duration_minutes, lead=lead))
    _finish_item(item, agent, result, now, callback_at)
    if result == CallResult.INTERESTED:
        _move_lead(lead, agent, call_list, LeadStatus.QUALIFIED)
        LeadAttribution.objects.get_or_create(lead=lead, defaults={"campaign": call_list.campaign})
        logged.qualified = lead
    elif result == CallResult.DO_NOT_CALL:
        _move_lead(lead, agent, call_list, LeadStatus.DISQUALIFIED, reason=DisqualifyReason.OTHER)
    elif lead.status == LeadStatus.NEW:
        _move_lead(lead, agent, call_list, LeadStatus.WORKING)
    item.save()
    return logged


def _move_lead(lead: Lead, agent: User, call_list: CallList, status: str, reason: str = "") -> None:
    """Only the status (and the reason): one UPDATE, in the lead's history with the source "call list",
    its version bumped so a form open on the lead meanwhile is refused as stale. Not `lead_update`, which
    validates every field: a lead with an odd old value (an e-mail from an import) must not stop an agent
    from logging the call."""
    if lead.status == status:
        return
    with pghistory.context(source="call list", call_list=call_list.pk):
        Lead.objects.filter(pk=lead.pk).update(status=status, disqualify_reason=reason, updated_at=timezone.now(),
                                               lock_version=F("lock_version") + 1)
    lead.status, lead.disqualify_reason = status, reason
    emit("lead.updated", lead, actor=agent)


@dataclass
class AgentProgress:
    agent: User | None
    to_call: int = 0
    callbacks: int = 0
    done: int = 0
    calls: int = 0  # people whose latest call was theirs
    interested: int = 0


@dataclass
class Progress:
    total: int = 0
    done: int = 0
    to_call: int = 0
    callbacks: int = 0
    results: list[tuple[str, str, int]] = field(default_factory=list)
    agents: list[AgentProgress] = field(default_factory=list)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def progress(call_list: CallList) -> Progress:
    """The list's progress per agent and its outcomes: two queries whatever its size."""
    counts: dict[str, Any] = {
        "to_call": Count("id", filter=Q(status=CallStatus.QUEUED)),
        "callbacks": Count("id", filter=Q(status=CallStatus.CALLBACK)),
        "done": Count("id", filter=Q(status=CallStatus.DONE)),
    }
    by_agent = {row["agent"]: row for row in CallListItem.objects.filter(call_list=call_list)
                .values("agent").annotate(**counts).order_by()}
    by_caller: dict[int | None, dict[str, int]] = {}
    result_totals: Counter[str] = Counter()
    for row in (CallListItem.objects.filter(call_list=call_list, called_by__isnull=False)
                .values("called_by", "result").annotate(n=Count("id")).order_by()):
        caller = by_caller.setdefault(row["called_by"], {"calls": 0, "interested": 0})
        caller["calls"] += row["n"]
        if row["result"] == CallResult.INTERESTED:
            caller["interested"] += row["n"]
        result_totals[row["result"]] += row["n"]
    agents = {agent.pk: agent for agent in call_list.agents.all()}
    result = Progress()
    for key in [*agents, *(k for k in {*by_agent, *by_caller} if k not in agents)]:
        queue = by_agent.get(key, {})
        made = by_caller.get(key, {})
        result.agents.append(AgentProgress(agent=agents.get(key) if key else None, to_call=queue.get("to_call", 0),
                                           callbacks=queue.get("callbacks", 0), done=queue.get("done", 0),
                                           calls=made.get("calls", 0), interested=made.get("interested", 0)))
    for row in by_agent.values():
        result.to_call += row["to_call"]
        result.callbacks += row["callbacks"]
        result.done += row["done"]
    result.total = result.to_call + result.callbacks + result.done
    result.results = [(value, label, result_totals.get(value, 0)) for value, label in CallResult.choices]
    return result



def progress_for(call_list: CallList, agent: User) -> dict[str, int]:
    """The agent's own figures on the work screen (one query): waiting in their queue (theirs and the
    shared one), call-backs promised, and the people they have called."""
    now = timezone.now()
    mine = Q(agent=agent) | Q(agent__isnull=True)
    return CallListItem.objects.filter(call_list=call_list).aggregate(
        waiting=Count("id", filter=mine & Q(status=CallStatus.QUEUED)),
        callbacks=Count("id", filter=Q(agent=agent, status=CallStatus.CALLBACK)),
        callbacks_due=Count("id", filter=Q(agent=agent, status=CallStatus.CALLBACK, due_at__lte=now)),
        called=Count("id", filter=Q(called_by=agent)))


def with_progress(call_lists: QuerySet[CallList]) -> QuerySet[CallList]:
    """Each list with its size, how many are done and how many were interested (for the campaign page)."""
    return call_lists.annotate(
        entries=Count("items"), entries_done=Count("items", filter=Q(items__status=CallStatus.DONE)),
        entries_interested=Count("items", filter=Q(items__result=CallResult.INTERESTED)))
