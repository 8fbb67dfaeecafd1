from django import template

from activities.timeline_html import render_items

register = template.Library()


@register.simple_tag
def timeline_items(items, hide_contact=False):
    """The timeline's lines, written in Python (activities/timeline_html.py)."""
    return render_items(items, hide_contact=bool(hide_contact))
