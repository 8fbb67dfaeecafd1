"""The timeline's lines written in Python instead of through the template engine (the record pages' largest
template was the timeline's per-line markup, as the list rows were on the lists: crm/lists.py). The markup is
the loop this replaced in activities/timeline_panel.html, byte for byte: activities/tests/test_timeline_html.py
renders both (the old loop is kept there) and compares them."""

from django.template.defaultfilters import capfirst, linebreaksbr, truncatechars
from django.template.defaultfilters import date as date_filter
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import gettext


def _when(moment) -> str:
    local = template_localtime(moment)  # what the engine does before a |date filter
    return (f'<small class="text-body-secondary text-nowrap"><time datetime="{escape(date_filter(local, "c"))}">'
            f'{escape(date_filter(local, "SHORT_DATETIME_FORMAT"))}</time></small>')


def _or_dash(value) -> str:
    return "—" if value is None else conditional_escape(value)


def _change(item) -> str:
    changes = "; ".join(f"<strong>{conditional_escape(capfirst(label))}</strong>: {_or_dash(old)} → {_or_dash(new)}"
                        for label, old, new in item.changes)
    who = conditional_escape(item.user or gettext("system"))
    reason = f" · {conditional_escape(item.reason)}" if item.reason else ""
    return f"""
    <li class="list-group-item timeline-item timeline-change">
      <div class="d-flex gap-2">
        <i class="bi bi-pencil-square timeline-icon" aria-hidden="true"></i>
        <div class="flex-grow-1 small">
          <div class="d-flex flex-wrap justify-content-between gap-2">
            <span>{changes}</span>
            {_when(item.occurred_at)}
          </div>
          <div class="text-body-secondary">{who}{reason}</div>
        </div>
      </div>
    </li>
    """


def _entry(item) -> str:
    title = conditional_escape(item.title)
    heading = (f'<a href="{conditional_escape(item.url)}" class="fw-semibold">{title}</a>' if item.url
               else f'<span class="fw-semibold">{title}</span>')
    detail = f'<div class="small text-body-secondary">{conditional_escape(item.detail)}</div>' if item.detail else ""
    return f"""
    <li class="list-group-item timeline-item timeline-entry">
      <div class="d-flex gap-2">
        <i class="bi bi-{conditional_escape(item.icon)} timeline-icon" aria-hidden="true"></i>
        <div class="flex-grow-1">
          <div class="d-flex flex-wrap justify-content-between gap-2">
            {heading}
            {_when(item.occurred_at)}
          </div>
          {detail}
        </div>
      </div>
    </li>
    """


def _activity(item, hide_contact: bool) -> str:
    archived = (' <span class="badge text-bg-light border">' + conditional_escape(gettext("Archived")) + "</span>"
                if item.is_archived else "")
    facts = conditional_escape(item.get_kind_display())
    if item.direction:
        facts += f" · {conditional_escape(item.get_direction_display())}"
    if item.outcome:
        facts += f" · {conditional_escape(item.get_outcome_display())}"
    if item.status:
        facts += f" · {conditional_escape(item.get_status_display())}"
    people = f"· {conditional_escape(item.owner)}"
    if item.contact and item.contact_visible and not hide_contact:
        people += f" · {conditional_escape(item.contact)}"
    body = (f'<div class="small mt-1 text-break">{linebreaksbr(truncatechars(item.body, 300), autoescape=True)}</div>'
            if item.body else "")
    return f"""
    <li class="list-group-item timeline-item">
      <div class="d-flex gap-2">
        <i class="bi bi-{conditional_escape(item.icon)} timeline-icon" aria-hidden="true"></i>
        <div class="flex-grow-1">
          <div class="d-flex flex-wrap justify-content-between gap-2">
            <span><a href="{conditional_escape(item.get_absolute_url())}" class="fw-semibold">{conditional_escape(item.subject)}</a>{archived}</span>
            {_when(item.occurred_at)}
          </div>
          <div class="small text-body-secondary">
            {facts}
            {people}
          </div>
          {body}
        </div>
      </div>
    </li>
    """  # noqa: E501 - the markup's own line


def render_items(items, *, hide_contact: bool) -> SafeString:
    """The timeline's lines (the `{% for %}` body of the items partial; its empty state stays in the template).
    Every value is escaped here; the markup around them is constant."""
    html = []
    for item in items:
        if getattr(item, "is_change", False):
            line = _change(item)
        elif getattr(item, "is_entry", False):
            line = _entry(item)
        else:
            line = _activity(item, hide_contact)
        html.append(f"\n    {line}\n    ")  # the text around the template's {% if %} and {% endif %}
    return mark_safe("".join(html))  # noqa: S308 - every value above went through conditional_escape  # nosec B308 B703
