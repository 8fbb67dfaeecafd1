"""The events an endpoint may subscribe to.

Each module registers its own events when it loads, in its AppConfig.ready() (accounts/apps.py
is the example to copy); this module names none:

    from webhooks.events import register
    register("ticket.created", _("Ticket created"))

The checkbox list shows them in registration order, i.e. in INSTALLED_APPS order.

`emit()` refuses a name that is not registered, so a typo fails loudly in tests instead of
silently sending nothing.
"""

from dataclasses import dataclass

from django.utils.functional import Promise


@dataclass(frozen=True)
class Event:
    name: str
    label: str | Promise


EVENTS: dict[str, Event] = {}

# Sent by the "Send a test ping" button to one endpoint, whatever it subscribed to.
PING = "webhook.ping"


def register(name: str, label: str | Promise) -> Event:
    if name in EVENTS and EVENTS[name].label != label:
        raise ValueError(f"Webhook event {name!r} is already registered with another label")
    EVENTS[name] = Event(name=name, label=label)
    return EVENTS[name]


def is_registered(name: str) -> bool:
    return name in EVENTS


def choices() -> list[tuple[str, str]]:
    """(name, "label (name)") in registration order, for checkboxes and filters."""
    return [(event.name, f"{event.label} ({event.name})") for event in EVENTS.values()]

