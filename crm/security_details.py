"""The security log's details in words, in the reader's language: "locked until 7 Dec 2026, 14:05"
rather than "until: 2026-12-07T14:05:00+00:00".

Each key a `security.log(...)` call writes has a wording here. A key without one (an older row, a
new call that forgot) is still shown, as "key: value", so nothing is ever hidden from the admin.
Modules name their own values through `EXPORT_LABELS` (filled by exports.registry.register),
so the core does not need to know them.
"""

from collections.abc import Callable, Iterable
from datetime import datetime

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm import formatting
from crm.models import Role, SecurityEvent, Team

EXPORT_LABELS: dict[str, str | Promise] = {}


def _when(value: object) -> str:
    try:
        return formatting.moment(datetime.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def _role(value: object) -> str:
    return str(Role(value).label) if value in Role.values else str(value)


def _yes_no(yes: str, no: str) -> Callable[[object], str]:
    return lambda value: yes if value else no


def _step(value: object) -> str:
    return _("wrong code") if value == "code" else _("wrong password")


def _via(value: object) -> str:
    return _("through a password reset") if value == "reset" else str(value)


def _left(value: object) -> str:
    count = int(value) if str(value).isdigit() else 0
    return ngettext("%(count)d recovery code left", "%(count)d recovery codes left", count) % {"count": count}


def _sessions(value: object) -> str:
    count = int(value) if str(value).isdigit() else 0
    return ngettext("%(count)d session ended", "%(count)d sessions ended", count) % {"count": count}


def _counts(value: object) -> str:
    from crm.handover import describe

    return describe(value) if isinstance(value, dict) else str(value)


def _export(value: object) -> str:
    return str(EXPORT_LABELS.get(str(value), value))


def _list(value: object) -> str:
    return ", ".join(str(item) for item in value) if isinstance(value, list) else str(value)


# detail key -> its value in words
WORDING: dict[str, Callable[[object], str]] = {
    "until": lambda value: _("locked until %(time)s") % {"time": _when(value)},
    "step": _step,
    "two_factor": _yes_no(_("with a two-factor code"), _("without a two-factor code")),
    "sent": _yes_no(_("e-mail sent"), _("not sent: too many requests for this address")),
    "portal": _yes_no(_("customer portal"), _("staff sign-in")),
    "via": _via,
    "left": _left,
    "sessions": _sessions,
    "role": lambda value: _("role: %(role)s") % {"role": _role(value)},
    "required": _yes_no(_("two-factor sign-in required"), _("two-factor sign-in optional")),
    "to_user": lambda value: _("to %(user)s") % {"user": value},
    "counts": _counts,
    "target": lambda value: _("list: %(list)s") % {"list": _export(value)},
    "format": lambda value: _("format: %(format)s") % {"format": str(value).upper()},
    "job": lambda value: _("export no. %(number)s") % {"number": value},
    "token": lambda value: _("token %(prefix)s…") % {"prefix": value},
    "contact": lambda value: _("contact no. %(number)s") % {"number": value},
    "entity": lambda value: _("checked: %(entity)s") % {"entity": value},
    "matches": lambda value: _("hidden matches: %(records)s") % {"records": _list(value)},
    "reasons": lambda value: _("matched on: %(fields)s") % {"fields": _list(value)},
}


def _before_after(event: SecurityEvent, teams: dict[int, str]) -> str | None:
    """Role and team changes store the ids before and after; they read as "Sales rep → Manager"."""
    if "before" not in event.detail and "after" not in event.detail:
        return None
    name: Callable[[object], str]
    if event.kind == "team_changed":
        def name(value: object) -> str:
            return teams.get(value, _("no team")) if isinstance(value, int) else _("no team")
    else:
        name = _role
    return f"{name(event.detail.get('before'))} → {name(event.detail.get('after'))}"


def describe(event: SecurityEvent, teams: dict[int, str] | None = None) -> list[str]:
    """The event's details as short phrases, in the order they were written."""
    phrases = []
    changed = _before_after(event, teams or {})
    if changed:
        phrases.append(changed)
    for key, value in event.detail.items():
        if key in ("before", "after"):
            continue
        word = WORDING.get(key)
        phrases.append(word(value) if word else f"{key}: {value}")
    return phrases


def describe_all(events: Iterable[SecurityEvent]) -> None:
    """Sets `event.phrases` on each event of a page, with one query for the team names."""
    events = list(events)
    team_ids = {value for event in events if event.kind == "team_changed"
                for value in (event.detail.get("before"), event.detail.get("after")) if isinstance(value, int)}
    teams = dict(Team.objects.filter(pk__in=team_ids).values_list("pk", "name")) if team_ids else {}
    for event in events:
        event.phrases = describe(event, teams)
