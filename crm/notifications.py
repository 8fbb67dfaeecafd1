"""Notifications are stored as a message key plus parameters and put into words when they are read,
in the reader's language, with the formatting layer (crm/formatting.py) for money and dates.

A module declares each of its messages once, at import time, next to the code that sends it, with
gettext_lazy (or ngettext_lazy counting the parameter "count"), so makemessages finds the words:

    OVERDUE = notifications.message("invoice.overdue", gettext_lazy(
        "Invoice %(number)s to %(account)s is overdue: %(balance)s was due on %(due)s."))

and sends with typed parameters:

    notifications.notify(user=owner, kind=NotificationKind.REMINDER, message=OVERDUE, url=...,
                         params={"number": invoice.number, "account": invoice.account.name,
                                 "balance": notifications.money(invoice.balance, invoice.currency),
                                 "due": notifications.date(invoice.due_date)})

Parameter values are plain text or numbers (shown as they are), or typed: money, a date, a date-time
(shown in the reader's time zone), or a phrase of our own (translated when read). The English
rendering is also stored in `text`: what older rows hold, and what is shown if a message key is
ever retired.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import translation
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext

from crm import formatting

if TYPE_CHECKING:
    from crm.models import Notification

Param = str | int | dict[str, str]
Params = Mapping[str, Param]


@dataclass(frozen=True)
class Message:
    key: str
    # A lazy translation with %(name)s placeholders: gettext_lazy, or ngettext_lazy(singular, plural,
    # "count") whose form the parameter "count" chooses.
    text: Any

    def __str__(self) -> str:
        return self.key


MESSAGES: dict[str, Message] = {}


def message(key: str, text: Any) -> Message:
    """Declares a message; two modules declaring the same key is a mistake."""
    if key in MESSAGES:
        raise ValueError(f"notification message {key!r} is declared twice")
    MESSAGES[key] = declared = Message(key, text)
    return declared


def money(amount: Decimal | int | float, currency: str) -> dict[str, str]:
    return {"money": str(amount), "currency": currency}


def figure(value: Decimal | int | float, decimals: int = 0) -> dict[str, str]:
    """A number (a percentage, a count) grouped and with the decimal mark of the reader's locale."""
    return {"figure": str(value), "decimals": str(decimals)}


def date(value: datetime.date) -> dict[str, str]:
    return {"date": value.isoformat()}


def moment(value: datetime.datetime) -> dict[str, str]:
    return {"datetime": value.isoformat()}


def phrase(text: str) -> dict[str, str]:
    """One of our own phrases (marked with gettext_noop), translated when the notification is read."""
    return {"phrase": text}


def _shown(value: Any) -> Any:
    if isinstance(value, dict):
        if "money" in value:
            return formatting.money(value["money"], value.get("currency", ""))
        if "figure" in value:
            return formatting.number(value["figure"], int(value.get("decimals", 0)))
        if "date" in value:
            parsed_date = parse_date(value["date"])
            return formatting.day(parsed_date) if parsed_date else value["date"]
        if "datetime" in value:
            parsed = parse_datetime(value["datetime"])
            return formatting.moment(parsed) if parsed else value["datetime"]
        if "phrase" in value:
            return gettext(value["phrase"])
    return value


def render_message(key: str, params: Mapping[str, Any]) -> str | None:
    """The message in the active language, or None when the key is unknown."""
    declared = MESSAGES.get(key)
    if declared is None:
        return None
    values = {name: _shown(value) for name, value in params.items()}
    try:
        return str(declared.text % values)
    except (KeyError, TypeError, ValueError):  # a translation that lost a placeholder: say it in English
        with translation.override(settings.LANGUAGE_CODE):
            return str(declared.text % values)


def render(notification: Notification) -> str:
    """What the reader sees: the message in their language, or the stored text for older rows."""
    if notification.message:
        shown = render_message(notification.message, notification.params or {})
        if shown is not None:
            return shown
    return notification.text


def build(*, user: Any, kind: str, message: Message, params: Params, url: str = "",
          key: str | None = None) -> Notification:
    """An unsaved notification (for bulk_create); `notify` saves one."""
    from crm.models import Notification

    with translation.override(settings.LANGUAGE_CODE):
        text = render_message(message.key, params) or message.key
    fields: dict[str, Any] = {"kind": kind, "message": message.key, "params": dict(params), "text": text[:300],
                              "url": url, "key": key}
    fields["user_id" if isinstance(user, int) else "user"] = user
    return Notification(**fields)


def notify(*, user: Any, kind: str, message: Message, params: Params, url: str = "",
           key: str | None = None) -> Notification:
    notification = build(user=user, kind=kind, message=message, params=params, url=url, key=key)
    notification.save()
    return notification
