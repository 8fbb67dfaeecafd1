"""Writes on leads: create, edit, status changes, assignment and distribution by rules,
conversion into an account, a contact and an opportunity; and the duplicate check at entry."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pghistory
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, ngettext_lazy

from accounts.duplicates import account_duplicates
from accounts.models import Account
from contacts.duplicates import contact_duplicates
from contacts.models import Contact
from crm import duplicates, hooks, notifications
from crm.models import NotificationKind, Territory, User
from crm.phones import normalize_phone, phone_region
from crm.roles import Role
from sales.models import Lead, LeadAssignmentRule, LeadRuleMethod, LeadStatus, Stage
from sales.services import bump_version, check_version
from webhooks.services import emit

# A new lead converts at once (the rep talked to them and it is a deal): converting qualifies it.
CONVERTIBLE = (LeadStatus.NEW, LeadStatus.WORKING, LeadStatus.QUALIFIED)


# --- Create, edit, delete ---------------------------------------------------------------


def _check_status(lead: Lead) -> None:
    lead.email = (lead.email or "").strip().lower()  # one spelling, so the e-mail index finds duplicates
    if lead.status == LeadStatus.DISQUALIFIED and not lead.disqualify_reason:
        raise ValidationError({"disqualify_reason": _("Say why the lead is disqualified.")})
    if lead.status != LeadStatus.DISQUALIFIED:
        lead.disqualify_reason = ""


@transaction.atomic
def lead_create(*, actor: User, owner: User | None = None, team=None, **fields) -> Lead:
    """A lead with an owner is theirs; without one it joins a queue (the given team's, else the
    actor's) and is distributed by the assignment rules at once."""
    fields.setdefault("status", LeadStatus.NEW)
    if fields["status"] == LeadStatus.CONVERTED:
        raise ValidationError({"status": _("A lead becomes converted only through the conversion.")})
    lead = Lead(owner=owner, team=owner.team if owner else (team or actor.team), **fields)
    _check_status(lead)
    lead.full_clean()
    lead.save()
    emit("lead.created", lead, actor=actor)
    if owner is None:
        leads_distribute(leads=[lead], actor=actor)
        lead.refresh_from_db()
    elif owner.pk != actor.pk:
        _notify(owner, actor, [lead])
    return lead


@transaction.atomic
def lead_update(*, lead: Lead, actor: User, expected_version: int | None = None, **fields) -> Lead:
    """Saves a change. Raises StaleWrite when the lead changed since `expected_version` (the version the
    person's form or API client read; forms and the API always send one)."""
    stored = check_version(Lead, pk=lead.pk, expected=expected_version)
    if stored.status == LeadStatus.CONVERTED and fields.get("status", LeadStatus.CONVERTED) != LeadStatus.CONVERTED:
        raise ValidationError({"status": _("A converted lead keeps its status.")})
    if fields.get("status") == LeadStatus.CONVERTED and stored.status != LeadStatus.CONVERTED:
        raise ValidationError({"status": _("A lead becomes converted only through the conversion.")})
    for name, value in fields.items():
        setattr(lead, name, value)
    if "owner" in fields and lead.owner is not None:
        lead.team_id = lead.owner.team_id  # the record follows its owner's team
    _check_status(lead)
    lead.full_clean()
    bump_version(lead)
    lead.save()
    lead.refresh_from_db(fields=["lock_version"])
    if lead.owner is not None and lead.owner_id != stored.owner_id and lead.owner_id != actor.pk:
        _notify(lead.owner, actor, [lead])
    emit("lead.updated", lead, actor=actor)
    return lead


@transaction.atomic
def lead_set_status(*, lead: Lead, actor: User, status: str, reason: str = "") -> Lead:
    """Working, qualified, disqualified (with a reason) or back to new."""
    if status not in (LeadStatus.NEW, LeadStatus.WORKING, LeadStatus.QUALIFIED, LeadStatus.DISQUALIFIED):
        raise ValidationError({"status": _("Choose a valid status.")})
    return lead_update(lead=lead, actor=actor, status=status,
                       disqualify_reason=reason if status == LeadStatus.DISQUALIFIED else "")


@transaction.atomic
def lead_delete(*, lead: Lead, actor: User) -> None:
    """Soft delete: the lead leaves every list but stays in the history."""
    lead.deleted_at = timezone.now()
    lead.save(update_fields=["deleted_at", "updated_at"])
    emit("lead.deleted", lead, actor=actor)


# --- Assignment and distribution ---------------------------------------------------------


LEAD_ASSIGNED = notifications.message("lead.assigned", gettext_lazy("%(actor)s assigned you the lead %(lead)s"))
LEADS_ASSIGNED = notifications.message(
    "lead.assigned_many", ngettext_lazy(
        "%(actor)s assigned you %(count)s lead.",
        "%(actor)s assigned you %(count)s leads.", "count"))


def _notify(assignee: User, actor: User | None, leads: list[Lead]) -> None:
    if not leads or (actor is not None and assignee.pk == actor.pk):
        return
    who = str(actor) if actor is not None else notifications.phrase(gettext_noop("The assignment rules"))
    params: notifications.Params
    if len(leads) == 1:
        message, params = LEAD_ASSIGNED, {"actor": who, "lead": str(leads[0])}
        url = leads[0].get_absolute_url()
    else:
        message, params = LEADS_ASSIGNED, {"actor": who, "count": len(leads)}
        url = reverse("sales:lead_list") + "?owner=me"
    notifications.notify(user=assignee, kind=NotificationKind.ASSIGNMENT, message=message, params=params, url=url)


@transaction.atomic
def leads_assign(*, actor: User, leads, owner: User) -> int:
    """Manual (bulk) assignment of leads the actor may edit (the caller passes editable_by rows).
    Converted leads keep their owner."""
    if not owner.is_active:
        raise ValidationError({"owner": _("Choose an active person.")})
    ids = list(leads.exclude(status=LeadStatus.CONVERTED).values_list("pk", flat=True))
    with pghistory.context(bulk="assign"):
        count = Lead.objects.filter(pk__in=ids).update(owner=owner, team=owner.team, updated_at=timezone.now(),
                                                        lock_version=F("lock_version") + 1)
    changed = list(Lead.objects.filter(pk__in=ids))
    for lead in changed:
        emit("lead.updated", lead, actor=actor)
    _notify(owner, actor, changed)
    return count


def territory_subtree(root_id: int, parents: Mapping[int, int | None]) -> set[int]:
    """A territory and all its sub-territories, from {id: parent_id} of every territory."""
    children: dict[int | None, list[int]] = {}
    for pk, parent in parents.items():
        children.setdefault(parent, []).append(pk)
    found, frontier = {root_id}, [root_id]
    while frontier:
        node = frontier.pop()
        for child in children.get(node, ()):
            if child not in found:
                found.add(child)
                frontier.append(child)
    return found


def round_robin_members(team_ids) -> dict[int, list[int]]:
    """Active sales reps of each team, in a stable order (by id): the round-robin turn order."""
    members: dict[int, list[int]] = {team_id: [] for team_id in team_ids}
    rows = User.objects.filter(team_id__in=team_ids, is_active=True, role=Role.SALES_REP).order_by("id")
    for pk, team_id in rows.values_list("pk", "team_id"):
        members[team_id].append(pk)
    return members


def next_in_turn(members: list[int], last: int | None) -> int:
    """The person after `last` in the turn order (wrapping round); also right when `last` has
    left the team since: the next id after theirs."""
    if last is not None:
        for pk in members:
            if pk > last:
                return pk
    return members[0]


@dataclass
class Distribution:
    assigned: dict[int, list[Lead]]  # user id → leads given to them
    unmatched: list[Lead]

    @property
    def count(self) -> int:
        return sum(len(leads) for leads in self.assigned.values())


@transaction.atomic
def leads_distribute(*, leads, actor: User | None) -> Distribution:
    """Assigns each unassigned lead by the first active rule that matches it (territory including
    its sub-territories, source). Round-robin turns are taken under a row lock on every active
    rule (locked in one order, so two distributions never deadlock and never give the same turn
    twice); the leads are locked too, so a lead is never assigned by two at once."""
    ids = [lead.pk for lead in leads] if isinstance(leads, list | tuple) else list(leads.values_list("pk", flat=True))
    locked = list(Lead.objects.select_for_update().filter(pk__in=ids, owner__isnull=True, deleted_at__isnull=True)
                  .exclude(status=LeadStatus.CONVERTED).order_by("pk"))
    result = Distribution(assigned={}, unmatched=[])
    if not locked:
        return result
    rules = list(LeadAssignmentRule.objects.select_for_update().filter(active=True).order_by("position", "id"))
    parents = dict(Territory.objects.values_list("pk", "parent_id")) if any(r.territory_id for r in rules) else {}
    regions = {rule.pk: territory_subtree(rule.territory_id, parents) for rule in rules if rule.territory_id}
    members = round_robin_members({rule.team_id for rule in rules if rule.method == LeadRuleMethod.ROUND_ROBIN})
    people = User.objects.in_bulk({rule.user_id for rule in rules if rule.user_id}
                                  | {pk for team in members.values() for pk in team})
    turns_moved = set()
    for lead in locked:
        assignee = None
        for rule in rules:
            if rule.source and rule.source != lead.source:
                continue
            if rule.territory_id and lead.territory_id not in regions[rule.pk]:
                continue
            if rule.method == LeadRuleMethod.USER:
                person = people.get(rule.user_id)
                if person is None or not person.is_active:
                    continue
                assignee = person
            else:
                team = members.get(rule.team_id) or []
                if not team:
                    continue  # nobody to give it to: the next rule may
                turn = next_in_turn(team, rule.last_assigned_id)
                rule.last_assigned_id = turn
                turns_moved.add(rule)
                assignee = people[turn]
            break
        if assignee is None:
            result.unmatched.append(lead)
            continue
        lead.owner, lead.team_id = assignee, assignee.team_id
        result.assigned.setdefault(assignee.pk, []).append(lead)
    with pghistory.context(bulk="distribute"):
        now = timezone.now()
        for user_leads in result.assigned.values():
            for lead in user_leads:
                lead.updated_at = now
            Lead.objects.bulk_update(user_leads, ["owner", "team", "updated_at"])
    for rule in turns_moved:
        rule.save(update_fields=["last_assigned"])
    for user_id, user_leads in result.assigned.items():
        for lead in user_leads:
            emit("lead.updated", lead, actor=actor)
        _notify(people[user_id], actor, user_leads)
    return result


# --- Duplicates ------------------------------------------------------------------------


def lead_duplicates(*, user, first_name: str = "", last_name: str = "", company: str = "", email: str = "",
                    phone: str = "", exclude_pk: int | None = None, country: str = "") -> list[duplicates.Match]:
    """Existing leads, contacts and accounts that may be this lead: same e-mail or phone, the same
    person's name, or (accounts and leads) the same company. Hidden rows show only their owner."""
    from crm import visibility

    email = email.strip().lower()
    phone_e164 = normalize_phone(phone, phone_region(user, country)) if phone else ""
    phone_e164 = phone_e164 or ""
    first_name, last_name, company = first_name.strip(), last_name.strip(), company.strip()
    condition = Q(pk__in=[])
    if email:
        condition |= Q(email=email)  # stored lower-cased (form, API, import), so the index serves it
    if phone_e164:
        condition |= Q(phone_e164=phone_e164)
    if last_name and first_name:
        condition |= Q(last_name__iexact=last_name, first_name__iexact=first_name)
    if len(company) >= 3:
        condition |= Q(company__iexact=company)
    rows = Lead.objects.filter(condition, deleted_at__isnull=True).select_related("owner").order_by("-created_at")
    if exclude_pk:
        rows = rows.exclude(pk=exclude_pk)
    matches = []
    for lead in rows[: duplicates.LIMIT]:
        reasons = []
        if email and lead.email.lower() == email:
            reasons.append(_("same e-mail"))
        if phone_e164 and lead.phone_e164 == phone_e164:
            reasons.append(_("same phone"))
        if last_name and first_name and (lead.first_name.lower(), lead.last_name.lower()) == (
                first_name.lower(), last_name.lower()):
            reasons.append(_("same name"))
        if company and lead.company.lower() == company.lower():
            reasons.append(_("same company"))
        visible = visibility.can_see(user, lead)
        matches.append(duplicates.Match(kind="lead", pk=lead.pk, label=str(lead) if visible else "",
                                        owner=str(lead.owner or _("nobody (in a queue)")), reasons=reasons,
                                        url=lead.get_absolute_url() if visible else ""))
    full_name = " ".join(part for part in (first_name, last_name) if part)
    matches += contact_duplicates(user=user, full_name=full_name if first_name else "",
                                 emails=[email] if email else [], phones=[phone_e164] if phone_e164 else [])
    if company or email or phone_e164:
        matches += account_duplicates(user=user, name=company, phone_e164=phone_e164, email=email)
    return matches


# --- Conversion ------------------------------------------------------------------------


@dataclass
class OpportunityPlan:
    name: str
    stage: Stage  # its pipeline is the opportunity's
    amount: Decimal
    currency: str
    expected_close_date: date


def _refuse_conversion(lead: Lead) -> None:
    if lead.status == LeadStatus.CONVERTED:
        raise ValidationError(_("This lead was already converted on %(date)s: open what it became from the lead's "
                                "page.") % {"date": timezone.localtime(lead.converted_at).strftime("%Y-%m-%d")
                                            if lead.converted_at else "?"})
    if lead.status not in CONVERTIBLE:
        raise ValidationError(_("A disqualified lead cannot be converted: set it back to new or working first."))


@transaction.atomic
def lead_convert(*, lead: Lead, actor: User, account: Account | None = None, account_name: str = "",
                 contact: Contact | None = None, opportunity: OpportunityPlan | None = None) -> Lead:
    """Turns a lead into an account (the given existing one, or a new one named `account_name`,
    else after the company), a contact of that account (the given one, or a new one from the
    lead's person) and optionally an opportunity. The source is carried over (the source campaign by marketing, on
    hooks.LEAD_CONVERTED); the
    lead's activities move to the new records (and keep their link to the lead). The caller
    has checked that the actor may see `account` and `contact`."""
    from accounts import services as account_services
    from contacts import services as contact_services
    from sales import services as sales_services

    current = Lead.objects.select_for_update().get(pk=lead.pk)  # two clicks at once convert once
    _refuse_conversion(current)
    if contact is not None:
        if account is None:
            raise ValidationError({"contact": _("Choose the account of this contact.")})
        if contact.account_id != account.pk:
            raise ValidationError({"contact": _("This contact belongs to another account.")})
    owner = lead.owner if lead.owner and lead.owner.is_active else actor
    with pghistory.context(reason="lead conversion", lead=lead.pk):
        if current.status != LeadStatus.QUALIFIED:
            # Converting qualifies the lead: its history (and the funnel read from it) shows the step.
            current.status = LeadStatus.QUALIFIED
            current.save(update_fields=["status", "updated_at"])
            lead.status = LeadStatus.QUALIFIED
        if account is None:
            name = (account_name or lead.company or str(lead)).strip()
            account = account_services.account_create(
                actor=actor, owner=owner, name=name[:200], website=lead.website, country=lead.country,
                city=lead.city, territory=lead.territory, lead_source=lead.source)
        if contact is None:
            contact = contact_services.contact_create(
                actor=actor, owner=owner, first_name=lead.first_name, last_name=lead.last_name, title=lead.title,
                account=account, emails=[lead.email.lower()] if lead.email else [],
                phones=[lead.phone_e164] if lead.phone_e164 else [], lead_source=lead.source,
                description=lead.description)
        deal = None
        if opportunity is not None:
            deal = sales_services.opportunity_create(
                actor=actor, owner=owner, name=opportunity.name, account=account, primary_contact=contact,
                pipeline=opportunity.stage.pipeline, stage=opportunity.stage, amount=opportunity.amount,
                currency=opportunity.currency, expected_close_date=opportunity.expected_close_date,
                lead_source=lead.source)
        # The history follows the customer (activities/hooks.py moves the lead's activities).
        hooks.publish(hooks.LEAD_CONVERTED, lead=lead, account=account, contact=contact, opportunity=deal,
                      actor=actor)
        lead.status = LeadStatus.CONVERTED
        lead.disqualify_reason = ""
        lead.converted_at = timezone.now()
        lead.converted_by = actor
        lead.converted_account = account
        lead.converted_contact = contact
        lead.converted_opportunity = deal
        if lead.owner_id is None:
            lead.owner, lead.team_id = owner, owner.team_id
        bump_version(lead)
        lead.save()
        lead.refresh_from_db(fields=["lock_version"])
    emit("lead.converted", lead, actor=actor)
    return lead


def conversion_suggestions(*, lead: Lead, user, limit: int = 5) -> list[Account]:
    """Visible accounts that may be this lead's company: the same name, or the same e-mail domain
    (on their e-mail or website)."""
    condition = Q(pk__in=[])
    if len(lead.company.strip()) >= 3:
        condition |= Q(name__iexact=lead.company.strip()) | Q(name__trigram_similar=lead.company.strip())
    domain = lead.email.rsplit("@", 1)[1].lower() if "@" in lead.email else ""
    if domain and domain not in FREE_MAIL:
        condition |= Q(email__iendswith="@" + domain) | Q(website__icontains=domain)
    return list(Account.objects.visible_to(user).filter(condition).order_by("name", "id")[:limit])


def matching_contact(*, account: Account, lead: Lead, user) -> Contact | None:
    """A visible contact of the account with the lead's e-mail."""
    if not lead.email:
        return None
    return Contact.objects.visible_to(user).filter(account=account).with_email(lead.email).first()


FREE_MAIL = {"gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "mail.ru", "yandex.ru", "icloud.com",
             "gmx.de", "ukr.net", "proton.me", "protonmail.com", "aol.com", "live.com"}
