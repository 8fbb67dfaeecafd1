"""The filter panels' widgets written out in Python instead of through Django's widget templates.

Django renders a `<select>` with one `{% include %}` per option; a list's filter panel (owners,
teams, stages, territories, ...) has hundreds of options, and rendering them was the largest
part of the opportunity list's server time (docs/benchmarks.md, "Where the time goes"). This
renderer produces the same markup, byte for byte, as the templates in
django/forms/templates/django/forms/widgets/ (select, select_option, input, attrs); any other
widget template goes to Django's renderer. crm/tests/test_widget_html.py compares the two."""

from __future__ import annotations

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

_INPUTS = {f"django/forms/widgets/{kind}.html" for kind in (
    "input", "text", "number", "date", "search", "email", "hidden", "checkbox", "tel", "url", "time",
    "datetime")}
_SELECT = "django/forms/widgets/select.html"


def _text(value) -> str:
    """`{{ value|stringformat:"s" }}`: formatted with %s (a safe string loses its mark), then escaped."""
    return conditional_escape("%s" % (value,))  # noqa: UP031 - exactly what stringformat does


def _attrs(attrs: dict) -> str:
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        out.append(f" {conditional_escape(name)}" if value is True
                   else f' {conditional_escape(name)}="{_text(value)}"')
    return "".join(out)


def _option(option: dict) -> str:
    return (f'<option value="{_text(option["value"])}"{_attrs(option["attrs"])}>'
            f'{conditional_escape(option["label"])}</option>')


def _select(widget: dict) -> str:
    parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        for option in group_choices:
            if option["template_name"] != "django/forms/widgets/select_option.html":
                raise _Unsupported
            parts.append("\n  " + _option(option) + "\n")  # select_option.html ends in a newline
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _input(widget: dict) -> str:
    value = widget["value"]
    shown = "" if value is None else f' value="{_text(value)}"'
    return (f'<input type="{conditional_escape(widget["type"])}" name="{conditional_escape(widget["name"])}"'
            f"{shown}{_attrs(widget['attrs'])}>")


class _Unsupported(Exception):
    pass


class FastWidgetRenderer(DjangoTemplates):
    """Selects and inputs in Python; everything else (and any customised option template) as usual."""

    def render(self, template_name, context, request=None):
        try:
            if template_name == _SELECT:
                return mark_safe(_select(context["widget"]))  # noqa: S308 # nosec B308 B703 - every value escaped
            if template_name in _INPUTS:
                return mark_safe(_input(context["widget"]))  # noqa: S308 # nosec B308 B703 - every value escaped
        except _Unsupported:
            pass
        return super().render(template_name, context, request)


FAST_RENDERER = FastWidgetRenderer()
