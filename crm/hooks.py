"""In-process hooks: a module announces what happened; modules above it act on it.

A lower module must not import a higher one, yet a higher one often has to follow a lower one's
change (when a lead converts, its activities move to the new contact). The lower module publishes
inside its own transaction; subscribers run synchronously, in the same transaction, in the order
they registered, so their work commits or rolls back with the change that caused it:

    # sales/lead_services.py (publisher)
    hooks.publish(hooks.LEAD_CONVERTED, lead=lead, account=account, contact=contact, opportunity=opp)

    # activities/hooks.py (subscriber, loaded by ActivitiesConfig.ready())
    @hooks.subscribe(hooks.LEAD_CONVERTED)
    def move_lead_activities(*, lead, account, contact, opportunity, **_):
        ...

`collect()` is publish with answers: each subscriber returns a value and the caller gets the list
(a contact's data-subject export gathers one section per module this way).

Every hook name is declared here, so a typo fails at import instead of silently doing nothing.
"""

from collections import defaultdict
from collections.abc import Callable
from typing import Any

# Sales
LEAD_CONVERTED = "lead.converted"  # lead, account, contact, opportunity, actor
QUOTE_SENT = "quote.sent"  # quote, actor, subject, body, sent_at
# Accounts
ACCOUNT_GROUP_FIGURES = "account.group_figures"  # account_ids, user -> ["12 contacts", …] for the group card
# Contacts: data-subject requests
CONTACT_PERSONAL_DATA = "contact.personal_data"  # contact -> {section name: JSON-able rows}
CONTACT_ERASE = "contact.erase"  # contact, actor: remove what the module keeps about the person

# Service
TICKET_RESOLVED = "ticket.resolved"  # ticket, actor, now: a ticket has just been resolved (survey, portal)

KNOWN = {ACCOUNT_GROUP_FIGURES, LEAD_CONVERTED, QUOTE_SENT, CONTACT_PERSONAL_DATA, CONTACT_ERASE, TICKET_RESOLVED}

_SUBSCRIBERS: dict[str, list[Callable[..., Any]]] = defaultdict(list)


def _check(name: str) -> None:
    if name not in KNOWN:
        raise ValueError(f"Unknown hook {name!r}: declare it in crm/hooks.py")


def subscribe(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    _check(name)

    def decorator(function: Callable[..., Any]) -> Callable[..., Any]:
        key = (function.__module__, function.__qualname__)
        subscribers = _SUBSCRIBERS[name]
        if all((f.__module__, f.__qualname__) != key for f in subscribers):
            subscribers.append(function)
        return function

    return decorator


def publish(name: str, **kwargs: Any) -> None:
    _check(name)
    for function in list(_SUBSCRIBERS[name]):
        function(**kwargs)


def collect(name: str, **kwargs: Any) -> list[Any]:
    _check(name)
    return [function(**kwargs) for function in list(_SUBSCRIBERS[name])]
