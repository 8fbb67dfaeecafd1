"""Billing template helpers: money with its currency (the core's formatting layer, crm/formatting.py).

Kept so templates that `{% load billing_tags %}` still work; the filter is also built in."""

from django import template

from crm.templatetags.formatting import money

register = template.Library()
register.filter("money", money)
