"""Which queue a ticket goes to, who gets it, in which order the queue is served, which SLA applies.

The serving order ("take next", the queue view) is documented in docs/service.md: a smaller
`queue_rank` is served first, then the earliest resolution due time, then the oldest ticket.
`queue_rank` is twice the priority (urgent 1 … low 4), less 2 for a VIP or strategic customer and
less 1 for a key customer: a VIP's high-priority ticket ranks with an ordinary urgent one, and
among equals the VIP goes first.
"""

from django.db.models import Count, Q

from accounts.models import AccountTier
from crm.models import User
from service.models import ACTIVE_STATUSES, AssignmentMode, Queue, SlaPolicy, Status, Ticket

VIP_BOOST, KEY_BOOST = 2, 1
WAITING = (Status.NEW, Status.OPEN, Status.ON_HOLD)


def boost_for(account) -> int:
    if account is None:
        return 0
    if account.is_vip or account.tier == AccountTier.STRATEGIC:
        return VIP_BOOST
    return KEY_BOOST if account.tier == AccountTier.KEY else 0


def rank_for(ticket: Ticket) -> int:
    account = ticket.account if ticket.account_id else None
    return max(0, 2 * ticket.priority - boost_for(account))


def queue_for(category: str) -> Queue | None:
    """The queue that lists the category, else the default queue."""
    queues = list(Queue.objects.filter(Q(categories__contains=[category]) | Q(is_default=True))
                  .order_by("is_default", "name")[:1])
    return queues[0] if queues else None


def policy_for(priority: int, account=None, contract=None) -> SlaPolicy | None:
    """The contract's own policy when it names one; else the active policy for the priority and the
    account's tier, else the one for every tier."""
    if contract is not None and contract.sla_policy_id and contract.sla_policy.is_active:
        return contract.sla_policy
    tier = account.tier if account is not None else ""
    candidates = SlaPolicy.objects.filter(is_active=True, priority=priority).filter(
        Q(account_tier="") | Q(account_tier=tier)).select_related("calendar")
    best = None
    for policy in candidates:
        if policy.account_tier == tier and tier:
            return policy
        best = best or policy
    return best


def pick_assignee(queue: Queue) -> User | None:
    """Round robin: the next active member after the last one given a ticket (by id, wrapping);
    least loaded: the active member with the fewest active tickets, ties to the longest idle (lowest
    id). The queue row is locked by the caller's transaction, so two tickets never race for a turn."""
    if queue.assignment == AssignmentMode.MANUAL:
        return None
    members = queue.members.filter(is_active=True).order_by("id")
    if queue.assignment == AssignmentMode.ROUND_ROBIN:
        after = queue.last_assigned_id or 0
        return members.filter(id__gt=after).first() or members.first()
    return _least_loaded(members)


def _least_loaded(members) -> User | None:
    people = list(members)
    if not people:
        return None
    loads = dict(Ticket.objects.filter(owner__in=people, status__in=ACTIVE_STATUSES, deleted_at__isnull=True)
                 .values_list("owner_id").annotate(n=Count("id")).values_list("owner_id", "n"))
    return min(people, key=lambda person: (loads.get(person.pk, 0), person.pk))


def waiting_in(queue_ids):
    """A queue's tickets waiting for an agent, in serving order."""
    return (Ticket.objects.filter(queue_id__in=queue_ids, owner__isnull=True, status__in=WAITING,
                                  deleted_at__isnull=True)
            .order_by("queue_rank", "resolution_due", "id"))
