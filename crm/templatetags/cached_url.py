"""`{% url %}` with the reversal of a constant name without arguments kept (built into every template, see
TEMPLATES in settings: it takes the place of Django's own tag, same syntax, same output).

The page shell (templates/base.html) reverses some sixty such names on every page ("home", "accounts:list"
…), each a walk through the resolver (docs/benchmarks.md, issue 16). A name with arguments, or given as a
variable, is reversed each time as before. The kept URL depends on everything `reverse` reads: the name, the
URLconf, the script prefix, the current app and the language; a change of ROOT_URLCONF (tests) forgets them.
crm/tests/test_list_caches.py compares the two tags."""

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as django_url
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape
from django.utils.translation import get_language

register = template.Library()

_URLS: dict[tuple, str] = {}


class CachedURLNode(URLNode):
    def render(self, context):
        name = self.view_name.var
        if self.args or self.kwargs or self.view_name.filters or not isinstance(name, str):
            return super().render(context)
        try:
            current_app = context.request.current_app
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace
            except AttributeError:
                current_app = None
        key = (str(name), current_app, get_urlconf(), get_script_prefix(), get_language())
        url = _URLS.get(key)
        if url is None:
            try:
                url = _URLS[key] = reverse(str(name), current_app=current_app)
            except NoReverseMatch:  # as Django's tag: raised, or "" for {% url … as var %}
                if self.asvar is None:
                    raise
                url = ""
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token):
    node = django_url(parser, token)
    return CachedURLNode(node.view_name, node.args, node.kwargs, node.asvar)


@receiver(setting_changed)
def _forget(setting, **kwargs):
    if setting == "ROOT_URLCONF":
        _URLS.clear()
