from django import template

from crm import richtext as rich

register = template.Library()


@register.simple_tag(takes_context=True)
def query_replace(context, **changes) -> str:
    """The current query string with some parameters replaced, so links keep the filters."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        query[key] = value
    return query.urlencode()


@register.inclusion_tag("components/sort_header.html", takes_context=True)
def sort_header(context, label, key, current):
    return {
        "request": context["request"],
        "label": label,
        "key": key,
        "minus_key": f"-{key}",
        "current": current,
        "next_sort": f"-{key}" if current == key else key,
    }


@register.filter
def phone(value: str) -> str:
    """+442079460101 → +44 20 7946 0101."""
    from crm.phones import format_phone

    return format_phone(value) if value else ""


@register.simple_tag(takes_context=True)
def phone_example(context) -> str:
    """A number of the reader's country, as people there type it (placeholders)."""
    from crm.phones import example_phone, user_region

    request = context.get("request")
    return example_phone(user_region(getattr(request, "user", None)))


@register.simple_tag(takes_context=True)
def list_cell(context, row, bound):
    """One list cell (crm.lists.BoundColumn.render): its `cell` function, partial or escaped value."""
    return bound.render(row, context)


@register.simple_tag(takes_context=True)
def list_rows(context, rows, columns, ticks):
    """A list table's rows, written in Python (crm.lists.render_rows): no template loop per cell."""
    from crm.lists import render_rows

    return render_rows(context, rows, columns, bool(ticks))


@register.filter
def richtext(value: str):
    """An article's text as HTML: allowed formatting only (crm/richtext.py), or plain text in paragraphs."""
    return rich.render(value)
