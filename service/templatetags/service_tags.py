from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

register = template.Library()

PRIORITY_CLASSES = {1: "text-bg-danger", 2: "text-bg-warning", 3: "text-bg-secondary", 4: "text-bg-light border"}
MESSAGE_ICONS = {"reply": "bi-reply", "note": "bi-lock", "customer": "bi-person", "call": "bi-telephone"}


@register.simple_tag
def priority_badge(priority: int, label: str):
    return format_html('<span class="badge {}">{}</span>', PRIORITY_CLASSES.get(priority, "text-bg-secondary"), label)


@register.simple_tag
def message_icon(kind: str) -> str:
    return MESSAGE_ICONS.get(kind, "bi-chat")


def duration_text(seconds: float) -> str:
    """"2 d 3 h", "3 h 20 min", "12 min" — the countdown's words (static/service/countdown.js
    writes the same from the data attributes)."""
    minutes = int(abs(seconds) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(days)s d %(hours)s h") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": minutes}
    return _("%(minutes)s min") % {"minutes": minutes}


@register.simple_tag
def countdown(due, seconds, element_id: str):
    """A live countdown to a due time: server-rendered text, kept current by countdown.js."""
    if due is None or seconds is None:
        return "—"
    overdue = seconds < 0
    text = (_("overdue by %(time)s") if overdue else _("%(time)s left")) % {"time": duration_text(seconds)}
    return format_html(
        '<span id="{}" class="countdown {}" data-due="{}" data-left="{}" data-overdue="{}" data-d="{}" data-h="{}" '
        'data-min="{}"><time datetime="{}">{}</time></span>',
        element_id, "text-danger fw-semibold" if overdue else "", due.isoformat(), _("%(time)s left"),
        _("overdue by %(time)s"), _("d"), _("h"), _("min"), due.isoformat(), text)


